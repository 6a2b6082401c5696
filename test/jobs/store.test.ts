import path from 'node:path';
import { count, eq, inArray } from 'drizzle-orm';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config.ts';
import { BudgetExceededError, BudgetGuard } from '../../src/jobs/budget.ts';
import { SceneLeases } from '../../src/jobs/scene-leases.ts';
import { DuplicateJobError, JobStore, type NewJob } from '../../src/jobs/store.ts';
import type { Store } from '../../src/platform/db.ts';
import { UsageLedger } from '../../src/usage/ledger.ts';
import { ROOT } from '../support/fixtures.ts';
import { describeEachDialect, linkUsage, openSharedTestStores, type SharedTestStores } from '../support/postgres.ts';

/** One process's view of the database: its own connection (SQLite) or pool (PostgreSQL), as a second process would have. */
interface Process {
  readonly store: Store;
  readonly jobs: JobStore;
  readonly ledger: UsageLedger;
  readonly budgets: BudgetGuard;
}

function processOn(store: Store, shard: number, guildDailyImages: number | null): Process {
  const { config } = loadConfig({ env: {}, localFile: path.join(ROOT, 'test/support/test-config.yaml') });
  const jobs = new JobStore(store, shard);
  const ledger = new UsageLedger(store);
  return {
    store,
    jobs,
    ledger,
    budgets: new BudgetGuard({ ...config, budgets: { ...config.budgets, guild_daily_images: guildDailyImages } }, ledger, jobs),
  };
}

const job = (userId: string, guildId: string, extra: Partial<NewJob> = {}): NewJob => ({ kind: 'scene turn', userId, guildId, ...extra });
/** Admits a job the way JobRunner does: the budget decision inside the transaction that records it. */
const admit = async (p: Process, spec: NewJob) =>
  p.jobs.create(spec, await p.budgets.admission(spec.guildId ?? null, spec.userId, { pictures: spec.pictures ?? 1 }));
/** Makes job `id`'s heartbeat a minute old, as a dead process leaves it. */
const goStale = async (store: Store, id: string) => {
  const { jobs } = store.tables;
  await store.db
    .update(jobs)
    .set({ heartbeatAt: new Date(Date.now() - 60_000).toISOString() })
    .where(eq(jobs.id, id));
};

describeEachDialect('the database as the queue of two processes', (dialect) => {
  let shared: SharedTestStores;
  let a: Process;
  let b: Process;
  beforeEach(async () => {
    shared = await openSharedTestStores(dialect, 2);
    a = processOn(shared.stores[0]!, 0, 3);
    b = processOn(shared.stores[1]!, 1, 3);
  });
  afterEach(async () => {
    await shared.close();
  });

  it.skipIf(dialect !== 'sqlite')('is on WAL with a busy timeout, so the second process waits for a lock instead of failing', () => {
    const store = b.store as Extract<Store, { dialect: 'sqlite' }>;
    expect(store.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.sqlite.pragma('busy_timeout', { simple: true })).toBe(5000);
  });

  it('admits a guild exactly up to its daily pictures, counting queued and running jobs of every process', async () => {
    await admit(a, job('u1', 'g'));
    await admit(b, job('u2', 'g'));
    expect(await a.jobs.claimNext({ concurrency: 1, perUser: 1 })).toBeDefined();
    await admit(b, job('u3', 'g'));
    await expect(admit(a, job('u4', 'g'))).rejects.toBeInstanceOf(BudgetExceededError);
    await expect(admit(b, job('u4', 'g'))).rejects.toBeInstanceOf(BudgetExceededError);
    expect(await b.jobs.inFlight('g', 'u1')).toEqual({ guild: 3, user: 1 });
    // Refused jobs are not recorded; other guilds are not affected.
    expect(await a.store.db.select({ n: count() }).from(a.store.tables.jobs)).toEqual([{ n: 3 }]);
    await expect(admit(b, job('u4', 'other'))).resolves.toEqual(expect.any(String));
  });

  it('counts a job once its picture is in the ledger, not twice, and frees failed jobs', async () => {
    const painted = await admit(a, job('u1', 'g'));
    const failed = await admit(b, job('u2', 'g'));
    await admit(b, job('u3', 'g'));
    // The picture is recorded (ledger) before the job is marked succeeded.
    await linkUsage(a.store, await a.ledger.record({ userId: 'u1', guildId: 'g', jobId: painted }, 'image', imageCall), 'img1');
    expect(await b.jobs.inFlight('g', 'x')).toEqual({ guild: 2, user: 0 });
    await expect(admit(b, job('u4', 'g'))).rejects.toBeInstanceOf(BudgetExceededError);
    await b.jobs.fail(failed, 'boom', 'boom');
    await expect(admit(b, job('u4', 'g'))).resolves.toEqual(expect.any(String));
  });

  it('counts all the pictures of a job of several (a recap) until each is in the ledger', async () => {
    const recap = await admit(a, job('u1', 'g', { pictures: 2 }));
    expect(await b.jobs.inFlight('g', 'u1')).toEqual({ guild: 2, user: 2 });
    await expect(admit(b, job('u2', 'g', { pictures: 2 }))).rejects.toThrow(/needs 2 pictures and guild g has 1 of its 3 left/);
    await linkUsage(a.store, await a.ledger.record({ userId: 'u1', guildId: 'g', jobId: recap }, 'image', imageCall), 'img1');
    expect(await b.jobs.inFlight('g', 'u1')).toEqual({ guild: 1, user: 1 });
  });

  it('records one job of a kind per interaction: a replayed interaction is refused', async () => {
    const interaction = { id: '1234', token: 'tok' };
    await admit(a, job('u1', 'g', { interaction }));
    await expect(admit(b, job('u1', 'g', { interaction }))).rejects.toBeInstanceOf(DuplicateJobError);
    await expect(b.jobs.create(job('u1', 'g', { interaction, kind: 'scene best' }))).resolves.toEqual(expect.any(String));
  });

  it('claims across processes under the global concurrency and per-user cap, least recently served guild first', async () => {
    const limits = { concurrency: 3, perUser: 1 };
    const busy1 = await a.jobs.create(job('ana', 'busy'));
    const busy2 = await b.jobs.create(job('bo', 'busy'));
    const busy3 = await a.jobs.create(job('ana', 'busy'));
    const quiet = await b.jobs.create(job('cy', 'quiet'));
    expect((await a.jobs.claimNext(limits))?.id).toBe(busy1);
    // busy was just served: quiet goes next, whoever claims.
    expect((await b.jobs.claimNext(limits))?.id).toBe(quiet);
    expect((await a.jobs.claimNext(limits))?.id).toBe(busy2);
    // Three running: no fourth, from either process.
    expect(await b.jobs.claimNext(limits)).toBeUndefined();
    await a.jobs.succeed(quiet);
    // One slot free, but ana already runs one job.
    expect(await b.jobs.claimNext(limits)).toBeUndefined();
    await a.jobs.succeed(busy1);
    expect((await b.jobs.claimNext(limits))?.id).toBe(busy3);
    expect(await a.jobs.get(busy3)).toMatchObject({ status: 'running', shard: 0 });
  });

  it('keeps a session in order: its next job waits while an earlier one is queued or running', async () => {
    const limits = { concurrency: 4, perUser: 4 };
    const session = JSON.stringify(['ana', 'c']);
    const first = await a.jobs.create(job('ana', 'g', { sessionKey: session }));
    const second = await b.jobs.create(job('ana', 'g', { sessionKey: session }));
    const other = await b.jobs.create(job('ana', 'g', { sessionKey: JSON.stringify(['ana', 'd']) }));
    expect(await b.jobs.places()).toEqual(
      new Map([
        [first, { place: 1 }],
        [other, { place: 2 }],
        [second, { session: true }],
      ]),
    );
    expect((await b.jobs.claimNext(limits))?.id).toBe(first);
    expect((await b.jobs.claimNext(limits))?.id).toBe(other);
    expect(await b.jobs.claimNext(limits)).toBeUndefined();
    await a.jobs.succeed(first);
    expect((await a.jobs.claimNext(limits))?.id).toBe(second);
    expect(await a.jobs.activeOfSession(session)).toEqual([second]);
  });

  it('keeps arrival order for jobs made within one millisecond', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await (i % 2 ? b : a).jobs.create(job(`u${i}`, 'g')));
    const claimed: Array<string | undefined> = [];
    for (let i = 0; i < 6; i++) claimed.push((await a.jobs.claimNext({ concurrency: 6, perUser: 1 }))?.id);
    expect(claimed).toEqual(ids);
  });

  it("fails another process's jobs once their heartbeat is stale, and only those", async () => {
    const dead = await a.jobs.create(job('u1', 'g', { interaction: { id: '1', token: 'tok' } }));
    const alive = await b.jobs.create(job('u2', 'g'));
    await b.jobs.claimNext({ concurrency: 4, perUser: 4 });
    await b.jobs.claimNext({ concurrency: 4, perUser: 4 });
    await goStale(a.store, dead);
    await b.jobs.beat([alive]);
    const failed = await b.jobs.failStale(30, 'gone');
    expect(failed.map((j) => [j.id, j.interactionToken])).toEqual([[dead, 'tok']]);
    expect(await a.jobs.get(dead)).toMatchObject({ status: 'failed', errorId: 'interrupted', interactionToken: null });
    expect((await a.jobs.get(alive))!.status).toBe('running');
    // Looking again, from either process, finds nothing more to fail or tell.
    expect(await a.jobs.failStale(30, 'gone')).toEqual([]);
  });

  it('fails each abandoned job once when both processes look at the same time', async () => {
    const ids = [await a.jobs.create(job('u1', 'g')), await a.jobs.create(job('u2', 'g'))];
    for (const id of ids) await goStale(a.store, id);
    const [fromA, fromB] = await Promise.all([a.jobs.failStale(30, 'gone'), b.jobs.failStale(30, 'gone')]);
    expect([...fromA, ...fromB].map((j) => j.id).sort()).toEqual([...ids].sort());
  });

  it('hands a succeeded job its process never answered to one other process, token included, once', async () => {
    const unposted = await a.jobs.create(job('u1', 'g', { interaction: { id: '7', token: 'tok7' } }));
    const answered = await a.jobs.create(job('u2', 'g', { interaction: { id: '8', token: 'tok8' } }));
    const fresh = await a.jobs.create(job('u3', 'g', { interaction: { id: '9', token: 'tok9' } }));
    for (let i = 0; i < 3; i++) await a.jobs.claimNext({ concurrency: 4, perUser: 4 });
    for (const id of [unposted, answered, fresh]) await a.jobs.succeed(id, `img-${id}`);
    await a.jobs.delivered('8');
    // Finished a minute ago, as a process that died between saving and posting leaves it.
    const { jobs } = a.store.tables;
    const old = new Date(Date.now() - 60_000).toISOString();
    await a.store.db
      .update(jobs)
      .set({ finishedAt: old })
      .where(inArray(jobs.id, [unposted, answered]));
    const [fromA, fromB] = await Promise.all([a.jobs.takeUndelivered(30), b.jobs.takeUndelivered(30)]);
    expect([...fromA, ...fromB].map((j) => [j.id, j.interactionToken, j.imageId])).toEqual([[unposted, 'tok7', `img-${unposted}`]]);
    expect(await b.jobs.get(unposted)).toMatchObject({ interactionToken: null, deliveredAt: expect.any(String) });
    expect(await b.jobs.takeUndelivered(30)).toEqual([]);
    // A job finished just now is its own process's to answer.
    expect((await b.jobs.get(fresh))!.interactionToken).toBe('tok9');
  });

  it('never admits past a guild budget while both processes race to admit', async () => {
    const guild = { a: processOn(a.store, 0, 5), b: processOn(b.store, 1, 5) };
    const attempts = Array.from({ length: 20 }, (_, i) => admit(i % 2 ? guild.b : guild.a, job(`u${i}`, 'race')));
    const outcomes = await Promise.allSettled(attempts);
    const refused = outcomes.filter((o) => o.status === 'rejected');
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(5);
    for (const o of refused) expect((o as PromiseRejectedResult).reason).toBeInstanceOf(BudgetExceededError);
    expect(await a.jobs.inFlight('race', 'nobody')).toEqual({ guild: 5, user: 0 });
  });

  it('never runs more than the concurrency, nor two jobs of one user, while both processes race to claim', async () => {
    const limits = { concurrency: 3, perUser: 1 };
    for (let i = 0; i < 12; i++) await (i % 2 ? b : a).jobs.create(job(`u${i % 4}`, `g${i % 3}`));
    const claims = await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? b : a).jobs.claimNext(limits)));
    const claimed = claims.filter((c) => c !== undefined);
    expect(claimed).toHaveLength(3);
    expect(new Set(claimed.map((c) => c.userId)).size).toBe(3);
    const { jobs } = a.store.tables;
    expect(await a.store.db.select({ n: count() }).from(jobs).where(eq(jobs.status, 'running'))).toEqual([{ n: 3 }]);
  });
});

describeEachDialect('SceneLeases', (dialect) => {
  let shared: SharedTestStores;
  beforeEach(async () => {
    shared = await openSharedTestStores(dialect, 2);
  });
  afterEach(async () => {
    await shared.close();
  });

  it("lets one job paint a scene key; another waits, takes the picture, or takes over when the painter's job ended or died", async () => {
    const a = processOn(shared.stores[0]!, 0, null);
    const b = processOn(shared.stores[1]!, 1, null);
    const leasesA = new SceneLeases(a.store, 30);
    const leasesB = new SceneLeases(b.store, 30);
    const painter = await a.jobs.create(job('u1', 'g'));
    const follower = await b.jobs.create(job('u2', 'h'));
    await a.jobs.claimNext({ concurrency: 4, perUser: 4 });
    await b.jobs.claimNext({ concurrency: 4, perUser: 4 });
    let picture: string | undefined;
    const find = async () => picture;
    expect(await leasesA.take('k', painter, find)).toEqual({ kind: 'leader' });
    expect(await leasesB.take('k', follower, find)).toEqual({ kind: 'wait' });
    // The painter saves its picture, then gives the lease back.
    picture = 'img';
    await leasesA.release('k', painter);
    expect(await leasesB.take('k', follower, find)).toEqual({ kind: 'picture', picture: 'img' });
    picture = undefined;
    expect(await leasesA.take('k', painter, find)).toEqual({ kind: 'leader' });
    // The painter's process died: its heartbeat goes stale and the follower paints.
    await goStale(a.store, painter);
    expect(await leasesB.take('k', follower, find)).toEqual({ kind: 'leader' });
    expect(await leasesA.take('k', painter, find)).toEqual({ kind: 'wait' });
    await leasesB.release('k', follower);
    expect(await leasesA.take('k', painter, find)).toEqual({ kind: 'leader' });
  });

  it('gives the lease of one scene key to one of many jobs asking at once', async () => {
    const a = processOn(shared.stores[0]!, 0, null);
    const b = processOn(shared.stores[1]!, 1, null);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push(await (i % 2 ? b : a).jobs.create(job(`u${i}`, 'g')));
    for (let i = 0; i < 8; i++) await a.jobs.claimNext({ concurrency: 8, perUser: 1 });
    const leases = [new SceneLeases(a.store, 30), new SceneLeases(b.store, 30)];
    const outcomes = await Promise.all(ids.map((id, i) => leases[i % 2]!.take('k', id, async () => undefined)));
    expect(outcomes.filter((o) => o.kind === 'leader')).toHaveLength(1);
  });
});

const imageCall = {
  model: 'gemini-3.1-flash-image',
  inputTokens: 100,
  outputTokens: 1120,
  imageTokens: 1120,
  costUsd: 0.07,
  estimatedInputTokens: 90,
};
