import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { asc } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/platform/config.ts';
import type { CallOrigin, CallUsage } from '../../src/platform/gemini.ts';
import { databaseWritable, startHealthServer } from '../../src/platform/health.ts';
import { BudgetExceededError, BudgetGuard, checkBudget } from '../../src/jobs/budget.ts';
import { QueueClosedError } from '../../src/jobs/queue.ts';
import { JobInterruptedError, JobRunner } from '../../src/jobs/runner.ts';
import { CLI_SHARD, JobStore, type AdmissionFacts } from '../../src/jobs/store.ts';
import { createLogger, silentLogger } from '../../src/platform/log.ts';
import { Metrics } from '../../src/platform/metrics.ts';
import { openPostgresStore, openSqliteStore } from '../../src/platform/db.ts';
import { UsageLedger } from '../../src/usage/ledger.ts';
import { ROOT, tempDir } from '../support/fixtures.ts';
import type { Store } from '../../src/platform/db.ts';
import { describeEachDialect, linkUsage, openTestStore, POSTGRES_URL, type TestStore } from '../support/postgres.ts';

/** Waits (up to 2 s) until `condition` holds. */
async function until(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400 && !(await condition()); i++) await new Promise((r) => setTimeout(r, 5));
  expect(await condition()).toBe(true);
}

function config(budgets: Partial<Config['budgets']>): Config {
  const { config } = loadConfig({ env: {}, localFile: path.join(ROOT, 'test/support/test-config.yaml') });
  return { ...config, budgets: { ...config.budgets, ...budgets } };
}

const LIMITS = { concurrency: 4, perUser: 4 };

const imageCall: CallUsage = {
  model: 'gemini-3.1-flash-image',
  inputTokens: 100,
  outputTokens: 1120,
  imageTokens: 1120,
  costUsd: 0.07,
  estimatedInputTokens: 90,
};

/** Records an image call for `origin` and links it to picture `imageId`, as a painted picture leaves the ledger. */
async function painted(store: Store, ledger: UsageLedger, origin: CallOrigin, imageId: string): Promise<void> {
  await linkUsage(store, await ledger.record(origin, 'image', imageCall), imageId);
}

describe('checkBudget', () => {
  const budgets = config({ user_daily_images: 5 }).budgets;
  const now = Date.parse('2026-11-21T21:00:00Z');
  const facts = (f: Partial<AdmissionFacts> = {}): AdmissionFacts => ({
    inFlight: { guild: 0, user: 0 },
    guildToday: { images: 1, costUsd: 0.07 },
    userToday: { images: 1 },
    lastStart: undefined,
    ...f,
  });
  const limits = { images: 10, usd: null };

  it('counts a request of several pictures (a recap) as all of them, saying what it needs and what is left', () => {
    expect(() => checkBudget(budgets, 'g1', limits, facts(), { pictures: 4 }, now)).not.toThrow();
    expect(() => checkBudget(budgets, 'g1', limits, facts({ inFlight: { guild: 0, user: 1 } }), { pictures: 4 }, now)).toThrow(
      /^This request needs 4 pictures and this user has 3 of their 5 left for today/,
    );
    expect(() =>
      checkBudget(budgets, 'g1', limits, facts({ inFlight: { guild: 6, user: 0 }, userToday: { images: 0 } }), { pictures: 4 }, now),
    ).toThrow(/^This request needs 4 pictures and guild g1 has 3 of its 10 left/);
  });

  it('counts pictures in flight like pictures in the ledger', () => {
    expect(() => checkBudget(budgets, 'g1', { images: 2, usd: null }, facts(), {}, now)).not.toThrow();
    expect(() => checkBudget(budgets, 'g1', { images: 2, usd: null }, facts({ inFlight: { guild: 1, user: 0 } }), {}, now)).toThrow(
      'Guild g1 has used its 2 pictures for today; the budget resets in 3 h 0 min (00:00 UTC).',
    );
  });
});

describeEachDialect('BudgetGuard', (dialect) => {
  let t: TestStore;
  let ledger: UsageLedger;
  let jobs: JobStore;
  beforeEach(async () => {
    t = await openTestStore(dialect);
    ledger = new UsageLedger(t.store);
    jobs = new JobStore(t.store);
  });
  afterEach(async () => {
    await t.close();
  });

  it('refuses a guild over its daily pictures with what is left and when it resets, and allows again the next UTC day', async () => {
    let now = new Date('2026-11-21T21:00:00Z');
    const guard = new BudgetGuard(config({ guild_daily_images: 2 }), ledger, jobs, undefined, () => now);
    await painted(t.store, ledger, { userId: 'a', guildId: 'g1' }, 'img1');
    await expect(guard.check('g1', 'a')).resolves.toBeUndefined();
    // A picture in flight takes the last one.
    const queued = await jobs.create({ kind: 'scene turn', userId: 'b', guildId: 'g1' });
    await expect(guard.check('g1', 'a')).rejects.toBeInstanceOf(BudgetExceededError);
    await jobs.fail(queued, 'boom', 'boom');
    await painted(t.store, ledger, { userId: 'b', guildId: 'g1' }, 'img2');
    await expect(guard.check('g1', 'c')).rejects.toThrow(
      'Guild g1 has used its 2 pictures for today; the budget resets in 3 h 0 min (00:00 UTC).',
    );
    await expect(guard.check('g2', 'c')).resolves.toBeUndefined();
    // The ledger's rows are stamped with the real clock; a day later they no longer count.
    now = new Date(Date.now() + 86_400_000);
    await expect(guard.check('g1', 'c')).resolves.toBeUndefined();
  });

  it('takes a guild its own limits from its source, read before each decision', async () => {
    let images = 1;
    const guard = new BudgetGuard(config({}), ledger, jobs, { limits: async () => ({ images, usd: null }) });
    await painted(t.store, ledger, { userId: 'a', guildId: 'g1' }, 'img1');
    await expect(guard.check('g1', 'a')).rejects.toThrow(/used its 1 pictures/);
    images = 2;
    await expect(guard.check('g1', 'a')).resolves.toBeUndefined();
    expect(await guard.status('g1', 'a')).toMatchObject({ guildImagesLeft: 1, guildUsdLeft: null, guildToday: { images: 1, calls: 1 } });
  });

  it('refuses over the daily USD budget and the per-user pictures', async () => {
    const guard = new BudgetGuard(config({ guild_daily_usd: 0.1, user_daily_images: 1 }), ledger, jobs);
    await painted(t.store, ledger, { userId: 'a', guildId: 'g1' }, 'img1');
    await expect(guard.check('g2', 'a')).rejects.toThrow(/This user has used their 1 pictures for today/);
    await painted(t.store, ledger, { userId: 'b', guildId: 'g1' }, 'img2');
    await expect(guard.check('g1', 'c')).rejects.toThrow(/used its \$0\.10 budget for today \(\$0\.14 spent\)/);
    expect(await guard.status('g1', 'a')).toMatchObject({ guildUsdLeft: 0, userImagesLeft: 0, guildToday: { images: 2 } });
  });

  it('lets work that paints nothing pass the picture budgets and the cooldown, and starts no cooldown', async () => {
    const guard = new BudgetGuard(config({ user_daily_images: 1, user_cooldown_s: 30 }), ledger, jobs);
    await painted(t.store, ledger, { userId: 'a', guildId: 'g1' }, 'img1');
    await expect(guard.check('g1', 'a')).rejects.toBeInstanceOf(BudgetExceededError);
    await expect(guard.check('g1', 'a', { pictures: 0 })).resolves.toBeUndefined();
    const reading = await jobs.create({ kind: 'cast propose', userId: 'b', pictures: 0 });
    expect((await jobs.claimNext(LIMITS))?.id).toBe(reading);
    await expect(guard.check('g1', 'b')).resolves.toBeUndefined();
    const painting = await jobs.create({ kind: 'cast portrait', userId: 'b' });
    expect((await jobs.claimNext(LIMITS))?.id).toBe(painting);
    // Its picture would count in flight; finished without one, only its start holds the user back.
    await jobs.succeed(painting);
    await expect(guard.check('g1', 'b')).rejects.toThrow(/Please wait/);
    await expect(guard.check('g1', 'b', { cooldown: false })).resolves.toBeUndefined();
  });

  it('makes a user wait the cooldown between requests', async () => {
    const guard = new BudgetGuard(config({ user_cooldown_s: 30 }), ledger, jobs);
    const id = await jobs.create({ kind: 'scene turn', userId: 'a' });
    expect((await jobs.claimNext(LIMITS))?.id).toBe(id);
    await expect(guard.check('g', 'a')).rejects.toThrow(/Please wait (29|30) s before asking for another picture/);
    await expect(guard.check('g', 'b')).resolves.toBeUndefined();
    // The job about to start does not hold itself back.
    await expect(guard.check('g', 'a', { starting: id })).resolves.toBeUndefined();
  });
});

describeEachDialect('JobRunner', (dialect) => {
  let t: TestStore;
  let ledger: UsageLedger;
  let jobs: JobStore;
  beforeEach(async () => {
    t = await openTestStore(dialect);
    ledger = new UsageLedger(t.store);
    jobs = new JobStore(t.store);
  });
  afterEach(async () => {
    await t.close();
  });

  const runner = (budgets: Partial<Config['budgets']> = {}, concurrency = 1) =>
    new JobRunner(
      { jobs, budgets: new BudgetGuard(config(budgets), ledger, jobs), metrics: new Metrics({ processMetrics: false }), log: silentLogger },
      { concurrency, perUser: 1, pollMs: 10, leaseS: 30 },
    );

  it('records each job and its outcome', async () => {
    const r = runner();
    await r.run({ kind: 'scene turn', userId: 'a', guildId: 'g' }, async ({ jobId }) => jobId, { imageOf: () => 'img' });
    await expect(
      r.run({ kind: 'scene turn', userId: 'a', guildId: 'g' }, async () => Promise.reject(new TypeError('boom'))),
    ).rejects.toMatchObject({
      errorId: expect.stringMatching(/^[0-9a-f]{8}$/),
    });
    const { jobs: table } = t.store.tables;
    const rows = await t.store.db.select({ status: table.status, imageId: table.imageId }).from(table).orderBy(asc(table.seq));
    expect(rows).toEqual([
      { status: 'succeeded', imageId: 'img' },
      { status: 'failed', imageId: null },
    ]);
  });

  it('counts jobs in flight against the budget, so it is never overshot', async () => {
    const r = runner({ guild_daily_images: 2 }, 4);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const first = r.run({ kind: 'scene turn', userId: 'a', guildId: 'g' }, () => gate);
    const second = r.run({ kind: 'scene turn', userId: 'b', guildId: 'g' }, () => gate);
    await until(async () => (await jobs.inFlight('g', 'a')).guild === 2);
    await expect(r.check({ kind: 'scene turn', userId: 'c', guildId: 'g' })).rejects.toBeInstanceOf(BudgetExceededError);
    await expect(r.run({ kind: 'scene turn', userId: 'c', guildId: 'g' }, async () => undefined)).rejects.toBeInstanceOf(
      BudgetExceededError,
    );
    release();
    await Promise.all([first, second]);
  });

  it('shuts down gracefully: waiting jobs are refused, running ones finish within the grace period', async () => {
    const r = runner();
    let release!: () => void;
    let started = false;
    const running = r.run({ kind: 'scene turn', userId: 'a', guildId: 'g' }, () => {
      started = true;
      return new Promise<string>((resolve) => (release = () => resolve('done')));
    });
    await until(async () => started);
    const waiting = r.run({ kind: 'scene turn', userId: 'b', guildId: 'g' }, async () => 'never');
    await until(async () => r.load.waiting === 1);
    const closing = r.close(5_000);
    await expect(waiting).rejects.toBeInstanceOf(QueueClosedError);
    await expect(r.check({ kind: 'scene turn', userId: 'c' })).rejects.toBeInstanceOf(QueueClosedError);
    release();
    await expect(running).resolves.toBe('done');
    await closing;
  });

  it('refuses a job whose recording ends after shutdown began, and fails its row', async () => {
    const r = runner();
    const refused = r.run({ kind: 'scene turn', userId: 'a', guildId: 'g' }, async () => 'never');
    await r.close(5_000);
    await expect(refused).rejects.toBeInstanceOf(QueueClosedError);
    const { jobs: table } = t.store.tables;
    expect(await t.store.db.select({ status: table.status, errorId: table.errorId }).from(table)).toEqual([
      { status: 'failed', errorId: 'queue_closed' },
    ]);
  });

  it('stops a job still running when the grace period is over', async () => {
    const r = runner();
    let started = false;
    const running = r.run({ kind: 'scene turn', userId: 'a', guildId: 'g' }, ({ signal }) => {
      started = true;
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
    });
    await until(async () => started);
    await r.close(50);
    await expect(running).rejects.toBeInstanceOf(JobInterruptedError);
  });
});

describeEachDialect('JobStore.failInterrupted', (dialect) => {
  let t: TestStore;
  let jobs: JobStore;
  beforeEach(async () => {
    t = await openTestStore(dialect);
    jobs = new JobStore(t.store);
  });
  afterEach(async () => {
    await t.close();
  });

  it('fails what a dead process left queued or running and returns it with its token', async () => {
    const done = await jobs.create({ kind: 'scene turn', userId: 'a' });
    await jobs.succeed(done);
    const running = await jobs.create({ kind: 'scene turn', userId: 'a', interaction: { id: '1', token: 'tok' } });
    expect((await jobs.claimNext(LIMITS))?.id).toBe(running);
    const queued = await jobs.create({ kind: 'scene best', userId: 'b' });
    const left = await jobs.failInterrupted('restarted');
    expect(left.map((j) => [j.id, j.interactionToken]).sort()).toEqual(
      [
        [running, 'tok'],
        [queued, null],
      ].sort(),
    );
    expect(await jobs.get(running)).toMatchObject({
      status: 'failed',
      errorId: 'interrupted',
      errorMessage: 'restarted',
      interactionToken: null,
    });
    expect((await jobs.get(done))!.status).toBe('succeeded');
    expect(await jobs.failInterrupted('again')).toEqual([]);
  });

  it('leaves a CLI run beside the bot alone when shard 0 restarts', async () => {
    const cli = new JobStore(t.store, CLI_SHARD);
    const running = await cli.create({ kind: 'scene turn', userId: 'cli' });
    expect((await cli.claimNext(LIMITS))?.id).toBe(running);
    expect(await jobs.failInterrupted('restarted')).toEqual([]);
    expect((await jobs.get(running))!.status).toBe('running');
  });

  it('leaves the jobs of other shards alone: they are alive in their own processes', async () => {
    const otherShard = new JobStore(t.store, 1);
    const alive = await otherShard.create({ kind: 'scene turn', userId: 'a' });
    expect((await otherShard.claimNext(LIMITS))?.id).toBe(alive);
    const mine = await jobs.create({ kind: 'scene turn', userId: 'b' });
    expect((await jobs.failInterrupted('restarted')).map((j) => j.id)).toEqual([mine]);
    expect((await otherShard.get(alive))!.status).toBe('running');
    expect((await otherShard.failInterrupted('restarted')).map((j) => j.id)).toEqual([alive]);
  });
});

describeEachDialect('databaseWritable', (dialect) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore(dialect);
  });
  afterEach(async () => {
    await t.close();
  });

  it('says a database that takes writes is writable', async () => {
    expect(await databaseWritable(t.store)).toBe(true);
  });

  it('reports a read-only database as not writable', async () => {
    if (t.store.dialect === 'sqlite') {
      const ro = openSqliteStore(path.join(t.dir, 'limner.db'));
      ro.sqlite.pragma('query_only = ON');
      expect(await databaseWritable(ro)).toBe(false);
      await ro.close();
      return;
    }
    const [{ name }] = (await t.store.pool.query('select current_database() as name')).rows as [{ name: string }];
    const url = new URL(POSTGRES_URL!);
    url.pathname = `/${name}`;
    // One connection, made read-only as a standby's are.
    const readOnly = await openPostgresStore(url.toString(), { poolSize: 1 });
    await readOnly.pool.query('set default_transaction_read_only = on');
    expect(await databaseWritable(readOnly)).toBe(false);
    await readOnly.close();
  });
});

describe('health endpoint', () => {
  it('answers /healthz and /metrics', async () => {
    const metrics = new Metrics({ processMetrics: false });
    metrics.jobs.inc({ kind: 'scene turn', outcome: 'succeeded' });
    let gateway = 'ready';
    const t = await openTestStore('sqlite');
    const server = await startHealthServer({
      port: 0,
      metrics,
      health: async () => ({ gateway, databaseWritable: await databaseWritable(t.store), queue: { waiting: 2, running: 1 } }),
    });
    try {
      const ok = await fetch(`${server.url}/healthz`);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ ok: true, gateway: 'ready', databaseWritable: true, queue: { waiting: 2, running: 1 } });
      gateway = 'connecting';
      expect((await fetch(`${server.url}/healthz`)).status).toBe(503);
      const text = await (await fetch(`${server.url}/metrics`)).text();
      expect(text).toContain('limner_jobs_total{kind="scene turn",outcome="succeeded"} 1');
      expect(text).toContain('# TYPE limner_model_call_seconds histogram');
      expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    } finally {
      await server.close();
      await t.close();
    }
  });

  it('fails to start, instead of hanging, when the port is taken', async () => {
    const metrics = new Metrics({ processMetrics: false });
    const health = () => ({ gateway: 'ready', databaseWritable: true, queue: { waiting: 0, running: 0 } });
    const first = await startHealthServer({ port: 0, metrics, health });
    try {
      const port = Number(new URL(first.url).port);
      await expect(startHealthServer({ port, metrics, health })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await first.close();
    }
  });
});

describe('logs', () => {
  it('redact keys and tokens wherever they appear', () => {
    const tmp = tempDir();
    const file = path.join(tmp.dir, 'log.jsonl');
    const fd = openSync(file, 'w');
    const log = createLogger({ level: 'info', destination: fd });
    log.info(
      {
        apiKey: 'AIza-secret-1',
        token: 'discord-secret-2',
        request: { headers: { 'x-goog-api-key': 'AIza-secret-3', authorization: 'Bot secret-4' } },
      },
      'call',
    );
    log.info({ secrets: { geminiApiKey: 'AIza-secret-5', discordToken: 'secret-6' } }, 'config');
    // What a failed editReply throws: discord.js's DiscordAPIError carries the webhook URL (with the
    // interaction token) and the request body (with the picture's bytes).
    const apiError = Object.assign(new Error('Unknown Webhook'), {
      url: 'http://127.0.0.1:9/api/v10/webhooks/123456789012345678/aW50ZXJhY3Rpb24secret-7/messages/@original',
      requestBody: { files: [{ name: 'big.png', data: Buffer.alloc(64, 1) }], json: {} },
    });
    log.error({ err: apiError }, 'edit failed');
    closeSync(fd);
    const text = readFileSync(file, 'utf8');
    for (const secret of ['secret-1', 'secret-2', 'secret-3', 'secret-4', 'secret-5', 'secret-6', 'secret-7'])
      expect(text).not.toContain(secret);
    expect(text).toContain('/webhooks/123456789012345678/[redacted]/messages');
    expect(text).not.toContain('requestBody');
    expect(text).toContain('[redacted]');
    tmp.cleanup();
  });
});
