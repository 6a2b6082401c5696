import { LimnerError } from '../errors.ts';
import { newErrorId, type Logger } from '../platform/log.ts';
import type { Metrics } from '../platform/metrics.ts';
import type { BudgetGuard } from './budget.ts';
import { FairQueue, QueueClosedError, type FairQueueOptions } from './queue.ts';
import type { JobStore, NewJob } from './store.ts';
import type { CallOrigin } from '../platform/gemini.ts';

/** A job stopped by shutdown after the grace period. */
export class JobInterruptedError extends LimnerError {
  readonly code = 'job_interrupted';
  constructor() {
    super('Limner is restarting and had to stop this request. Please try again in a minute.');
  }
}

/**
 * Who asks for model work, and from where: Discord snowflakes from the bot, `cli` and the guild the
 * operator names (or none) from the CLI.
 */
export interface Requester {
  /** Discord user id or `cli`. */
  readonly userId: string;
  readonly guildId: string | null;
  readonly channelId: string | null;
  /** The interaction to answer if the process dies mid-job (bot only). */
  readonly interaction?: { readonly id: string; readonly token: string } | null;
  /**
   * The operator's bypass of budgets and the cooldown (CLI `--ignore-budget`); every model call of
   * such a job is marked in the usage ledger (`budget_bypassed`).
   */
  readonly ignoreBudget?: boolean;
}

/** The usage ledger's view of a requester. */
export function originOf(requester: Requester): CallOrigin {
  return {
    userId: requester.userId,
    guildId: requester.guildId,
    channelId: requester.channelId,
    ...(requester.ignoreBudget ? { budgetBypassed: true } : {}),
  };
}

/** What a job's task gets: its id (for logs and the usage ledger) and a signal aborted at shutdown. */
export interface JobContext {
  readonly jobId: string;
  readonly signal: AbortSignal;
}

/** Options of {@link JobRunner.run}. */
export interface RunOptions<T> {
  /** Called with the job's place in line whenever it changes while it waits. */
  readonly onPosition?: (position: number) => void;
  /** The picture a finished task made, for the job row. */
  readonly imageOf?: (result: T) => string | undefined;
}

/**
 * Runs model work as jobs: a job row per command, budgets checked before any model call, the
 * fair queue, metrics, and a graceful stop. Unexpected errors get an error id, logged here with
 * the stack and attached to the error (`errorId`) so the door shows the same id.
 */
export class JobRunner {
  private readonly queue: FairQueue;
  private readonly running = new Map<string, { guild: string; user: string; pictures: number; abort: AbortController }>();
  private readonly waiting = new Map<string, { guild: string; user: string; pictures: number }>();

  constructor(
    private readonly deps: { jobs: JobStore; budgets: BudgetGuard; metrics: Metrics; log: Logger },
    queue: FairQueueOptions,
  ) {
    this.queue = new FairQueue(queue);
  }

  private closed = false;

  /**
   * The admission check of {@link run} on its own, for doors that refuse before acknowledging.
   * @throws QueueClosedError during shutdown, BudgetExceededError.
   */
  check(spec: NewJob): void {
    if (this.closed) throw new QueueClosedError();
    if (spec.ignoreBudget) return;
    this.deps.budgets.check(spec.guildId ?? null, spec.userId, this.inFlight(spec.guildId ?? 'none', spec.userId, true), spec.pictures);
  }

  /** Jobs waiting and running. */
  get load(): { waiting: number; running: number } {
    return { waiting: this.queue.depth, running: this.queue.active };
  }

  /**
   * Records the job, checks budgets, waits for its turn, runs `task`, records the outcome.
   * @throws BudgetExceededError (before queueing or before starting), QueueClosedError during
   *   shutdown, JobInterruptedError when shutdown's grace period ran out, and whatever `task` throws.
   */
  async run<T>(spec: NewJob, task: (job: JobContext) => Promise<T>, options: RunOptions<T> = {}): Promise<T> {
    const { jobs, budgets, metrics } = this.deps;
    const guild = spec.guildId ?? 'none';
    const log = this.deps.log.child({ kind: spec.kind, guild: spec.guildId, user: spec.userId });
    if (this.closed) throw new QueueClosedError();
    try {
      if (!spec.ignoreBudget) budgets.check(spec.guildId ?? null, spec.userId, this.inFlight(guild, spec.userId, true), spec.pictures);
    } catch (err) {
      metrics.jobs.inc({ kind: spec.kind, outcome: 'refused' });
      throw err;
    }
    const jobId = jobs.create(spec);
    const jobLog = log.child({ jobId });
    const pictures = spec.pictures ?? 1;
    this.waiting.set(jobId, { guild, user: spec.userId, pictures });
    this.updateGauges();
    const started = performance.now();
    try {
      const result = await this.queue.run(
        { guildId: guild, userId: spec.userId },
        async () => {
          this.waiting.delete(jobId);
          if (!spec.ignoreBudget) budgets.check(spec.guildId ?? null, spec.userId, this.inFlight(guild, spec.userId, false), pictures);
          const abort = new AbortController();
          this.running.set(jobId, { guild, user: spec.userId, pictures, abort });
          this.updateGauges();
          jobs.start(jobId);
          try {
            return await task({ jobId, signal: abort.signal });
          } catch (err) {
            throw abort.signal.aborted ? new JobInterruptedError() : err;
          } finally {
            this.running.delete(jobId);
          }
        },
        options.onPosition,
      );
      jobs.succeed(jobId, options.imageOf?.(result));
      metrics.jobs.inc({ kind: spec.kind, outcome: 'succeeded' });
      jobLog.info({ ms: Math.round(performance.now() - started) }, 'job succeeded');
      return result;
    } catch (err) {
      const errorId = err instanceof LimnerError ? err.code : newErrorId();
      if (err instanceof LimnerError) jobLog.info({ code: err.code, ms: Math.round(performance.now() - started) }, 'job refused or failed');
      else {
        jobLog.error({ err, errorId }, 'job failed unexpectedly');
        if (err && typeof err === 'object') Object.assign(err, { errorId });
      }
      jobs.fail(jobId, errorId, err instanceof LimnerError ? err.message : String((err as Error)?.message ?? err));
      metrics.jobs.inc({ kind: spec.kind, outcome: 'failed' });
      throw err;
    } finally {
      this.waiting.delete(jobId);
      this.updateGauges();
    }
  }

  /**
   * Stops taking jobs, fails the waiting ones, gives running ones `graceMs` to finish, then
   * aborts what is left (their tasks see the signal and end with JobInterruptedError).
   */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    const drained = this.queue.close({ dropWaiting: true });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
    const outcome = await Promise.race([drained.then(() => 'drained' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.deps.log.warn({ running: this.running.size }, 'grace period over: stopping running jobs');
      for (const job of this.running.values()) job.abort.abort(new JobInterruptedError());
      await drained;
    }
  }

  /** Pictures counted against budgets: those of running jobs, and at admission of waiting ones too. */
  private inFlight(guild: string, user: string, includeWaiting: boolean): { guild: number; user: number } {
    const all = includeWaiting ? [...this.running.values(), ...this.waiting.values()] : [...this.running.values()];
    const pictures = (jobs: typeof all) => jobs.reduce((n, j) => n + j.pictures, 0);
    return { guild: pictures(all.filter((j) => j.guild === guild)), user: pictures(all.filter((j) => j.user === user)) };
  }

  private updateGauges(): void {
    this.deps.metrics.queueDepth.set(this.queue.depth);
    this.deps.metrics.jobsRunning.set(this.queue.active);
  }
}

export { QueueClosedError };
