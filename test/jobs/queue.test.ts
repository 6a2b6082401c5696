import path from 'node:path';
import { asc, eq } from 'drizzle-orm';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config.ts';
import { BudgetGuard } from '../../src/jobs/budget.ts';
import { QueueClosedError } from '../../src/jobs/queue.ts';
import { JobInterruptedError, JobRunner, type RunOptions } from '../../src/jobs/runner.ts';
import { JobStore } from '../../src/jobs/store.ts';
import type { JobRow } from '../../src/platform/schema.ts';
import { silentLogger } from '../../src/platform/log.ts';
import { Metrics } from '../../src/platform/metrics.ts';
import { UsageLedger } from '../../src/usage/ledger.ts';
import { ROOT } from '../support/fixtures.ts';
import { describeEachDialect, openSharedTestStores, type SharedTestStores } from '../support/postgres.ts';

/** A task the test finishes by hand. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, task: () => opened };
}

/** Waits (up to 2 s) until `condition` holds. */
const until = async (condition: () => boolean | Promise<boolean>) => {
  for (let i = 0; i < 400 && !(await condition()); i++) await new Promise((r) => setTimeout(r, 5));
  expect(await condition()).toBe(true);
};

describeEachDialect('the fair queue shared by two processes', (dialect) => {
  let shared: SharedTestStores;
  beforeEach(async () => {
    shared = await openSharedTestStores(dialect, 2);
  });
  afterEach(async () => {
    await shared.close();
  });

  /** One process on the shared database: its own connection or pool, job store and runner. */
  function process_(shard: number, limits: { concurrency: number; perUser: number }) {
    const store = shared.stores[shard]!;
    const { config } = loadConfig({ env: {}, localFile: path.join(ROOT, 'test/support/test-config.yaml') });
    const jobs = new JobStore(store, shard);
    const budgets = new BudgetGuard(config, new UsageLedger(store), jobs);
    const runner = new JobRunner(
      { jobs, budgets, metrics: new Metrics({ processMetrics: false }), log: silentLogger },
      { ...limits, pollMs: 5, leaseS: 30 },
    );
    const run = <T>(guildId: string, userId: string, task: () => Promise<T>, options?: RunOptions<T> & { sessionKey?: string }) =>
      runner.run({ kind: 'scene turn', guildId, userId, sessionKey: options?.sessionKey ?? null }, task, options);
    return { store, jobs, runner, run };
  }

  /** Job rows of `status` (every status when absent). */
  const rows = async (status?: JobRow['status']) => {
    const store = shared.stores[0]!;
    const { jobs } = store.tables;
    return store.db
      .select({ status: jobs.status, errorId: jobs.errorId })
      .from(jobs)
      .where(status ? eq(jobs.status, status) : undefined)
      .orderBy(asc(jobs.seq));
  };
  /** Waits until `n` jobs are recorded: jobs asked for one after another arrive in that order. */
  const recorded = (n: number) => until(async () => (await rows()).length === n);

  it('never runs more than the concurrency limit across both', async () => {
    const a = process_(0, { concurrency: 2, perUser: 5 });
    const b = process_(1, { concurrency: 2, perUser: 5 });
    let active = 0;
    let peak = 0;
    const task = async () => {
      peak = Math.max(peak, ++active);
      await new Promise((r) => setTimeout(r, 15));
      active--;
    };
    await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).run('g', `u${i}`, task)));
    expect(peak).toBe(2);
    expect(await rows('succeeded')).toHaveLength(8);
  });

  it('serves guilds round-robin whichever process asked, so a busy guild cannot starve a quiet one', async () => {
    const a = process_(0, { concurrency: 1, perUser: 10 });
    const b = process_(1, { concurrency: 1, perUser: 10 });
    const order: string[] = [];
    const first = gate();
    const blocker = a.run('busy', 'x', first.task);
    await recorded(1);
    const jobs: Array<Promise<unknown>> = [];
    const ask = async (job: () => Promise<unknown>) => {
      jobs.push(job());
      await recorded(jobs.length + 1);
    };
    for (let i = 0; i < 4; i++) await ask(() => (i % 2 ? b : a).run('busy', `b${i}`, async () => void order.push(`busy${i}`)));
    await ask(() => b.run('quiet', 'q', async () => void order.push('quiet0')));
    await ask(() => a.run('other', 'o', async () => void order.push('other0')));
    first.open();
    await blocker;
    await Promise.all(jobs);
    expect(order).toEqual(['quiet0', 'other0', 'busy0', 'busy1', 'busy2', 'busy3']);
  });

  it("holds a user's second job, asked in the other process, until the first finishes, letting others pass", async () => {
    const a = process_(0, { concurrency: 2, perUser: 1 });
    const b = process_(1, { concurrency: 2, perUser: 1 });
    const order: string[] = [];
    const a1 = gate();
    const first = a.run('g', 'ana', async () => {
      order.push('ana1');
      await a1.task();
    });
    await until(() => order.length === 1);
    const second = b.run('g', 'ana', async () => void order.push('ana2'));
    await recorded(2);
    const bo = b.run('g', 'bo', async () => void order.push('bo'));
    await bo;
    expect(order).toEqual(['ana1', 'bo']);
    a1.open();
    await Promise.all([first, second]);
    expect(order).toEqual(['ana1', 'bo', 'ana2']);
  });

  it('reports places in line from the database as they change', async () => {
    const a = process_(0, { concurrency: 1, perUser: 1 });
    const b = process_(1, { concurrency: 1, perUser: 1 });
    const g = gate();
    const running = a.run('g', 'a', g.task);
    await recorded(1);
    const places: number[] = [];
    // Held too, so the place it leaves behind is seen before the last job can be claimed.
    const g1 = gate();
    const waiting1 = b.run('g', 'b', g1.task);
    await recorded(2);
    const waiting2 = a.run('g', 'c', async () => undefined, { onPosition: (p) => places.push(p) });
    await until(() => places.length === 1);
    expect(places).toEqual([2]);
    g.open();
    await until(() => places.length === 2);
    g1.open();
    await Promise.all([running, waiting1, waiting2]);
    expect(places).toEqual([2, 1]);
  });

  it("runs a session's jobs in order across processes, saying the later one waits for the earlier", async () => {
    const a = process_(0, { concurrency: 4, perUser: 4 });
    const b = process_(1, { concurrency: 4, perUser: 4 });
    const order: string[] = [];
    const g = gate();
    const sessionKey = JSON.stringify(['ana', 'kraghammer']);
    const first = a.run(
      'g',
      'ana',
      async () => {
        order.push('edit1 start');
        await g.task();
        order.push('edit1 end');
      },
      { sessionKey },
    );
    await recorded(1);
    let told = false;
    const second = b.run('g', 'ana', async () => void order.push('edit2'), { sessionKey, onSessionWait: () => (told = true) });
    await until(() => told);
    // The undo asked now lands after both edits.
    const undo = b.runner.afterSession(sessionKey, async () => void order.push('undo'));
    g.open();
    await Promise.all([first, second, undo]);
    expect(order).toEqual(['edit1 start', 'edit1 end', 'edit2', 'undo']);
  });

  it('passes failures to the caller and keeps going', async () => {
    const a = process_(0, { concurrency: 1, perUser: 1 });
    await expect(a.run('g', 'a', async () => Promise.reject(new Error('model down')))).rejects.toThrow('model down');
    await expect(a.run('g', 'a', async () => 42)).resolves.toBe(42);
  });

  it('tells a waiting job that another process failed it as abandoned', async () => {
    const a = process_(0, { concurrency: 1, perUser: 1 });
    const b = process_(1, { concurrency: 1, perUser: 1 });
    const g = gate();
    const running = a.run('g', 'a', g.task);
    const waiting = a.run('g', 'b', async () => 'never');
    await until(() => a.runner.load.waiting === 1 && a.runner.load.running === 1);
    const { jobs } = b.store.tables;
    await b.store.db.update(jobs).set({ heartbeatAt: '2000-01-01T00:00:00.000Z' }).where(eq(jobs.status, 'queued'));
    expect(await b.jobs.failStale(30, 'gone')).toHaveLength(1);
    await expect(waiting).rejects.toBeInstanceOf(JobInterruptedError);
    g.open();
    await running;
  });

  it('refuses new jobs after close, fails the waiting ones and waits for running ones', async () => {
    const a = process_(0, { concurrency: 1, perUser: 1 });
    const g = gate();
    let finished = false;
    const running = a.run('g', 'a', async () => {
      await g.task();
      finished = true;
    });
    let started = false;
    const waiting = a.run('g', 'b', async () => void (started = true));
    await until(() => a.runner.load.waiting === 1 && a.runner.load.running === 1);
    const closing = a.runner.close(5_000);
    await expect(waiting).rejects.toBeInstanceOf(QueueClosedError);
    await expect(a.run('g', 'c', async () => 1)).rejects.toBeInstanceOf(QueueClosedError);
    g.open();
    await closing;
    await running;
    expect([finished, started]).toEqual([true, false]);
    expect(await rows()).toEqual([
      { status: 'succeeded', errorId: null },
      { status: 'failed', errorId: 'queue_closed' },
    ]);
  });
});
