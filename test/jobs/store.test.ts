import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config.ts';
import { BudgetExceededError, BudgetGuard } from '../../src/jobs/budget.ts';
import { SceneLeases } from '../../src/jobs/scene-leases.ts';
import { JobStore, type NewJob } from '../../src/jobs/store.ts';
import { openSqliteStore, type SqliteStore } from '../../src/platform/db.ts';
import { UsageLedger } from '../../src/usage/ledger.ts';
import { ROOT, tempDir } from '../support/fixtures.ts';

/** One process's view of the database: its own connection, as a second process would have. */
interface Process {
  readonly store: SqliteStore;
  readonly jobs: JobStore;
  readonly ledger: UsageLedger;
  readonly budgets: BudgetGuard;
}

let tmp: { dir: string; cleanup: () => void };
let a: Process;
let b: Process;

function open(shard: number, guildDailyImages: number | null = null): Process {
  const store = openSqliteStore(path.join(tmp.dir, 'limner.db'));
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

beforeEach(() => {
  tmp = tempDir();
  a = open(0, 3);
  b = open(1, 3);
});
afterEach(() => {
  a.store.close();
  b.store.close();
  tmp.cleanup();
});

const job = (userId: string, guildId: string, extra: Partial<NewJob> = {}): NewJob => ({ kind: 'scene turn', userId, guildId, ...extra });
/** Admits a job the way JobRunner does: the budget check inside the transaction that records it. */
const admit = (p: Process, spec: NewJob) => p.jobs.create(spec, (inFlight) => p.budgets.check(spec.guildId ?? null, spec.userId, inFlight));

describe('the database as the queue of two processes', () => {
  it('is on WAL with a busy timeout, so the second process waits for a lock instead of failing', () => {
    expect(b.store.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(b.store.sqlite.pragma('busy_timeout', { simple: true })).toBe(5000);
  });

  it('admits a guild exactly up to its daily pictures, counting queued and running jobs of every process', () => {
    admit(a, job('u1', 'g'));
    admit(b, job('u2', 'g'));
    expect(a.jobs.claimNext({ concurrency: 1, perUser: 1 })).toBeDefined();
    admit(b, job('u3', 'g'));
    expect(() => admit(a, job('u4', 'g'))).toThrow(BudgetExceededError);
    expect(() => admit(b, job('u4', 'g'))).toThrow(BudgetExceededError);
    expect(b.jobs.inFlight('g', 'u1')).toEqual({ guild: 3, user: 1 });
    // Refused jobs are not recorded; other guilds are not affected.
    expect(a.store.sqlite.prepare('select count(*) as n from jobs').get()).toEqual({ n: 3 });
    expect(() => admit(b, job('u4', 'other'))).not.toThrow();
  });

  it('counts a job once its picture is in the ledger, not twice, and frees failed jobs', () => {
    const painted = admit(a, job('u1', 'g'));
    const failed = admit(b, job('u2', 'g'));
    admit(b, job('u3', 'g'));
    // The picture is recorded (ledger) before the job is marked succeeded.
    a.ledger.linkImage(a.ledger.record({ userId: 'u1', guildId: 'g', jobId: painted }, 'image', imageCall), 'img1');
    expect(b.jobs.inFlight('g', 'x')).toEqual({ guild: 2, user: 0 });
    expect(() => admit(b, job('u4', 'g'))).toThrow(BudgetExceededError);
    b.jobs.fail(failed, 'boom', 'boom');
    expect(() => admit(b, job('u4', 'g'))).not.toThrow();
  });

  it('claims across processes under the global concurrency and per-user cap, least recently served guild first', () => {
    const limits = { concurrency: 3, perUser: 1 };
    const busy1 = a.jobs.create(job('ana', 'busy'));
    const busy2 = b.jobs.create(job('bo', 'busy'));
    const busy3 = a.jobs.create(job('ana', 'busy'));
    const quiet = b.jobs.create(job('cy', 'quiet'));
    expect(a.jobs.claimNext(limits)?.id).toBe(busy1);
    // busy was just served: quiet goes next, whoever claims.
    expect(b.jobs.claimNext(limits)?.id).toBe(quiet);
    expect(a.jobs.claimNext(limits)?.id).toBe(busy2);
    // Three running: no fourth, from either process.
    expect(b.jobs.claimNext(limits)).toBeUndefined();
    a.jobs.succeed(quiet);
    // One slot free, but ana already runs one job.
    expect(b.jobs.claimNext(limits)).toBeUndefined();
    a.jobs.succeed(busy1);
    expect(b.jobs.claimNext(limits)?.id).toBe(busy3);
    expect(a.jobs.get(busy3)).toMatchObject({ status: 'running', shard: 0 });
  });

  it('keeps a session in order: its next job waits while an earlier one is queued or running', () => {
    const limits = { concurrency: 4, perUser: 4 };
    const session = JSON.stringify(['ana', 'c']);
    const first = a.jobs.create(job('ana', 'g', { sessionKey: session }));
    const second = b.jobs.create(job('ana', 'g', { sessionKey: session }));
    const other = b.jobs.create(job('ana', 'g', { sessionKey: JSON.stringify(['ana', 'd']) }));
    expect(b.jobs.places()).toEqual(
      new Map([
        [first, { place: 1 }],
        [other, { place: 2 }],
        [second, { session: true }],
      ]),
    );
    expect(b.jobs.claimNext(limits)?.id).toBe(first);
    expect(b.jobs.claimNext(limits)?.id).toBe(other);
    expect(b.jobs.claimNext(limits)).toBeUndefined();
    a.jobs.succeed(first);
    expect(a.jobs.claimNext(limits)?.id).toBe(second);
    expect(a.jobs.activeOfSession(session)).toEqual([second]);
  });

  it("fails another process's jobs once their heartbeat is stale, and only those", () => {
    const dead = a.jobs.create(job('u1', 'g', { interaction: { id: '1', token: 'tok' } }));
    const alive = b.jobs.create(job('u2', 'g'));
    b.jobs.claimNext({ concurrency: 4, perUser: 4 });
    b.jobs.claimNext({ concurrency: 4, perUser: 4 });
    a.store.sqlite.prepare('update jobs set heartbeat_at = ? where id = ?').run(new Date(Date.now() - 60_000).toISOString(), dead);
    b.jobs.beat([alive]);
    const failed = b.jobs.failStale(30, 'gone');
    expect(failed.map((j) => [j.id, j.interactionToken])).toEqual([[dead, 'tok']]);
    expect(a.jobs.get(dead)).toMatchObject({ status: 'failed', errorId: 'interrupted', interactionToken: null });
    expect(a.jobs.get(alive)!.status).toBe('running');
  });
});

describe('SceneLeases', () => {
  it("lets one job paint a scene key; another waits, takes the picture, or takes over when the painter's job ended or died", () => {
    const leasesA = new SceneLeases(a.store, 30);
    const leasesB = new SceneLeases(b.store, 30);
    const painter = a.jobs.create(job('u1', 'g'));
    const follower = b.jobs.create(job('u2', 'h'));
    a.jobs.claimNext({ concurrency: 4, perUser: 4 });
    b.jobs.claimNext({ concurrency: 4, perUser: 4 });
    let picture: string | undefined;
    const find = () => picture;
    expect(leasesA.take('k', painter, find)).toEqual({ kind: 'leader' });
    expect(leasesB.take('k', follower, find)).toEqual({ kind: 'wait' });
    picture = 'img';
    expect(leasesB.take('k', follower, find)).toEqual({ kind: 'picture', picture: 'img' });
    picture = undefined;
    // The painter's process died: its heartbeat goes stale and the follower paints.
    a.store.sqlite.prepare('update jobs set heartbeat_at = ? where id = ?').run(new Date(Date.now() - 60_000).toISOString(), painter);
    expect(leasesB.take('k', follower, find)).toEqual({ kind: 'leader' });
    expect(leasesA.take('k', painter, find)).toEqual({ kind: 'wait' });
    leasesB.release('k', follower);
    expect(leasesA.take('k', painter, find)).toEqual({ kind: 'leader' });
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
