import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/platform/config.ts';
import type { CallUsage } from '../../src/platform/gemini.ts';
import { databaseWritable, startHealthServer } from '../../src/platform/health.ts';
import { BudgetExceededError, BudgetGuard } from '../../src/jobs/budget.ts';
import { QueueClosedError } from '../../src/jobs/queue.ts';
import { JobInterruptedError, JobRunner } from '../../src/jobs/runner.ts';
import { CLI_SHARD, JobStore } from '../../src/jobs/store.ts';
import { createLogger, silentLogger } from '../../src/platform/log.ts';
import { Metrics } from '../../src/platform/metrics.ts';
import { openSqliteStore, type SqliteStore } from '../../src/platform/db.ts';
import { UsageLedger } from '../../src/usage/ledger.ts';
import { ROOT, tempDir } from '../support/fixtures.ts';

let tmp: { dir: string; cleanup: () => void };
let store: SqliteStore;
let ledger: UsageLedger;
let jobs: JobStore;
beforeEach(() => {
  tmp = tempDir();
  store = openSqliteStore(path.join(tmp.dir, 'limner.db'));
  ledger = new UsageLedger(store);
  jobs = new JobStore(store);
});
afterEach(() => {
  store.close();
  tmp.cleanup();
});

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

describe('BudgetGuard', () => {
  it('refuses a guild over its daily pictures with what is left and when it resets, and allows again the next UTC day', () => {
    let now = new Date('2026-11-21T21:00:00Z');
    const guard = new BudgetGuard(config({ guild_daily_images: 2 }), ledger, jobs, undefined, () => now);
    ledger.linkImage(ledger.record({ userId: 'a', guildId: 'g1' }, 'image', imageCall), 'img1');
    expect(() => guard.check('g1', 'a')).not.toThrow();
    expect(() => guard.check('g1', 'a', { guild: 1, user: 0 })).toThrow(BudgetExceededError);
    ledger.linkImage(ledger.record({ userId: 'b', guildId: 'g1' }, 'image', imageCall), 'img2');
    expect(() => guard.check('g1', 'c')).toThrow('Guild g1 has used its 2 pictures for today; the budget resets in 3 h 0 min (00:00 UTC).');
    expect(() => guard.check('g2', 'c')).not.toThrow();
    // The ledger's rows are stamped with the real clock; a day later they no longer count.
    now = new Date(Date.now() + 86_400_000);
    expect(() => guard.check('g1', 'c')).not.toThrow();
  });

  it('refuses over the daily USD budget and the per-user pictures', () => {
    const guard = new BudgetGuard(config({ guild_daily_usd: 0.1, user_daily_images: 1 }), ledger, jobs);
    ledger.linkImage(ledger.record({ userId: 'a', guildId: 'g1' }, 'image', imageCall), 'img1');
    expect(() => guard.check('g2', 'a')).toThrow(/This user has used their 1 pictures for today/);
    ledger.linkImage(ledger.record({ userId: 'b', guildId: 'g1' }, 'image', imageCall), 'img2');
    expect(() => guard.check('g1', 'c')).toThrow(/used its \$0\.10 budget for today \(\$0\.14 spent\)/);
  });

  it('counts a request of several pictures (a recap) as all of them, saying what it needs and what is left', () => {
    const guard = new BudgetGuard(config({ guild_daily_images: 10, user_daily_images: 5 }), ledger, jobs);
    ledger.linkImage(ledger.record({ userId: 'a', guildId: 'g1' }, 'image', imageCall), 'img1');
    expect(() => guard.check('g1', 'a', { guild: 0, user: 0 }, { pictures: 4 })).not.toThrow();
    expect(() => guard.check('g1', 'a', { guild: 0, user: 1 }, { pictures: 4 })).toThrow(
      /^This request needs 4 pictures and this user has 3 of their 5 left for today/,
    );
    expect(() => guard.check('g1', 'b', { guild: 6, user: 0 }, { pictures: 4 })).toThrow(
      /^This request needs 4 pictures and guild g1 has 3 of its 10 left/,
    );
  });

  it('lets work that paints nothing pass the picture budgets and the cooldown, and starts no cooldown', () => {
    const guard = new BudgetGuard(config({ user_daily_images: 1, user_cooldown_s: 30 }), ledger, jobs);
    ledger.linkImage(ledger.record({ userId: 'a', guildId: 'g1' }, 'image', imageCall), 'img1');
    expect(() => guard.check('g1', 'a')).toThrow(BudgetExceededError);
    expect(() => guard.check('g1', 'a', undefined, { pictures: 0 })).not.toThrow();
    const reading = jobs.create({ kind: 'cast propose', userId: 'b', pictures: 0 });
    expect(jobs.claimNext(LIMITS)?.id).toBe(reading);
    expect(() => guard.check('g1', 'b')).not.toThrow();
    const painting = jobs.create({ kind: 'cast portrait', userId: 'b' });
    expect(jobs.claimNext(LIMITS)?.id).toBe(painting);
    expect(() => guard.check('g1', 'b')).toThrow(/Please wait/);
    expect(() => guard.check('g1', 'b', undefined, { cooldown: false })).not.toThrow();
  });

  it('makes a user wait the cooldown between requests', () => {
    const guard = new BudgetGuard(config({ user_cooldown_s: 30 }), ledger, jobs);
    const id = jobs.create({ kind: 'scene turn', userId: 'a' });
    expect(jobs.claimNext(LIMITS)?.id).toBe(id);
    expect(() => guard.check('g', 'a')).toThrow(/Please wait (29|30) s before asking for another picture/);
    expect(() => guard.check('g', 'b')).not.toThrow();
    // The job about to start does not hold itself back.
    expect(() => guard.check('g', 'a', undefined, { starting: id })).not.toThrow();
  });
});

describe('JobRunner', () => {
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
    const rows = store.sqlite
      .prepare('select status, image_id as imageId, error_id as errorId from jobs order by created_at')
      .all() as Array<Record<string, string>>;
    expect(rows.map((r) => r.status)).toEqual(['succeeded', 'failed']);
    expect(rows[0]!.imageId).toBe('img');
  });

  it('counts jobs in flight against the budget, so it is never overshot', async () => {
    const r = runner({ guild_daily_images: 2 }, 4);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const first = r.run({ kind: 'scene turn', userId: 'a', guildId: 'g' }, () => gate);
    const second = r.run({ kind: 'scene turn', userId: 'b', guildId: 'g' }, () => gate);
    await expect(r.run({ kind: 'scene turn', userId: 'c', guildId: 'g' }, async () => undefined)).rejects.toBeInstanceOf(
      BudgetExceededError,
    );
    release();
    await Promise.all([first, second]);
  });

  it('shuts down gracefully: waiting jobs are refused, running ones finish within the grace period', async () => {
    const r = runner();
    let release!: () => void;
    const running = r.run(
      { kind: 'scene turn', userId: 'a', guildId: 'g' },
      () => new Promise<string>((resolve) => (release = () => resolve('done'))),
    );
    const waiting = r.run({ kind: 'scene turn', userId: 'b', guildId: 'g' }, async () => 'never');
    await new Promise((resolve) => setImmediate(resolve));
    const closing = r.close(5_000);
    await expect(waiting).rejects.toBeInstanceOf(QueueClosedError);
    expect(() => r.check({ kind: 'scene turn', userId: 'c' })).toThrow(QueueClosedError);
    release();
    await expect(running).resolves.toBe('done');
    await closing;
  });

  it('stops a job still running when the grace period is over', async () => {
    const r = runner();
    const running = r.run(
      { kind: 'scene turn', userId: 'a', guildId: 'g' },
      ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))),
    );
    await new Promise((resolve) => setImmediate(resolve));
    await r.close(50);
    await expect(running).rejects.toBeInstanceOf(JobInterruptedError);
  });
});

describe('JobStore.failInterrupted', () => {
  it('fails what a dead process left queued or running and returns it with its token', () => {
    const done = jobs.create({ kind: 'scene turn', userId: 'a' });
    jobs.succeed(done);
    const running = jobs.create({ kind: 'scene turn', userId: 'a', interaction: { id: '1', token: 'tok' } });
    expect(jobs.claimNext(LIMITS)?.id).toBe(running);
    const queued = jobs.create({ kind: 'scene best', userId: 'b' });
    const left = jobs.failInterrupted('restarted');
    expect(left.map((j) => [j.id, j.interactionToken]).sort()).toEqual(
      [
        [running, 'tok'],
        [queued, null],
      ].sort(),
    );
    expect(jobs.get(running)).toMatchObject({
      status: 'failed',
      errorId: 'interrupted',
      errorMessage: 'restarted',
      interactionToken: null,
    });
    expect(jobs.get(done)!.status).toBe('succeeded');
    expect(jobs.failInterrupted('again')).toEqual([]);
  });

  it('leaves a CLI run beside the bot alone when shard 0 restarts', () => {
    const cli = new JobStore(store, CLI_SHARD);
    const running = cli.create({ kind: 'scene turn', userId: 'cli' });
    expect(cli.claimNext(LIMITS)?.id).toBe(running);
    expect(jobs.failInterrupted('restarted')).toEqual([]);
    expect(jobs.get(running)!.status).toBe('running');
  });

  it('leaves the jobs of other shards alone: they are alive in their own processes', () => {
    const otherShard = new JobStore(store, 1);
    const alive = otherShard.create({ kind: 'scene turn', userId: 'a' });
    expect(otherShard.claimNext(LIMITS)?.id).toBe(alive);
    const mine = jobs.create({ kind: 'scene turn', userId: 'b' });
    expect(jobs.failInterrupted('restarted').map((j) => j.id)).toEqual([mine]);
    expect(otherShard.get(alive)!.status).toBe('running');
    expect(otherShard.failInterrupted('restarted').map((j) => j.id)).toEqual([alive]);
  });
});

describe('health endpoint', () => {
  it('answers /healthz and /metrics', async () => {
    const metrics = new Metrics({ processMetrics: false });
    metrics.jobs.inc({ kind: 'scene turn', outcome: 'succeeded' });
    let gateway = 'ready';
    const server = await startHealthServer({
      port: 0,
      metrics,
      health: () => ({ gateway, databaseWritable: databaseWritable(store), queue: { waiting: 2, running: 1 } }),
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

  it('reports a read-only database as not writable', () => {
    const ro = openSqliteStore(path.join(tmp.dir, 'limner.db'));
    ro.sqlite.pragma('query_only = ON');
    expect(databaseWritable(ro)).toBe(false);
    ro.close();
  });
});

describe('logs', () => {
  it('redact keys and tokens wherever they appear', () => {
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
  });
});
