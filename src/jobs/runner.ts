import { LimnerError } from '../errors.ts';
import { newErrorId, type Logger } from '../platform/log.ts';
import type { Metrics } from '../platform/metrics.ts';
import type { BudgetGuard } from './budget.ts';
import { QueueClosedError, type QueueLimits } from './queue.ts';
import type { JobStore, NewJob } from './store.ts';
import type { CallOrigin } from '../platform/gemini.ts';

/** A job stopped by shutdown after the grace period, or failed by another process while it waited. */
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
  /** Called when the job waits behind an earlier job of its session (`sessionKey`). */
  readonly onSessionWait?: () => void;
  /** The picture a finished task made, for the job row. */
  readonly imageOf?: (result: T) => string | undefined;
}

/** The queue's limits and timings (`queue` in config). */
export interface QueueOptions extends QueueLimits {
  /** How often a process with waiting jobs looks for a free slot, ms. */
  readonly pollMs: number;
  /** A job whose heartbeat is older than this belongs to a dead process, s. */
  readonly leaseS: number;
}

/** A job of this process, waiting for its claim or running. */
interface LocalJob {
  running: boolean;
  readonly claimed: (failure?: Error) => void;
  readonly options: RunOptions<unknown>;
  lastPlace: string;
  readonly abort: AbortController;
}

/**
 * Runs model work as jobs: a job row per command, budgets checked before any model call, the fair
 * queue, metrics, and a graceful stop. The queue is the jobs table, shared by every process on the
 * database ({@link JobStore.claimNext}); this process runs the jobs it created once they are
 * claimed, looking for free slots every `pollMs` while it has jobs waiting and at once when one of
 * its jobs ends, and keeps their heartbeats. Unexpected errors get an error id, logged here with
 * the stack and attached to the error (`errorId`) so the door shows the same id.
 */
export class JobRunner {
  private readonly local = new Map<string, LocalJob>();
  private closed = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private beatTimer: NodeJS.Timeout | undefined;
  /** A pump round is under way; `pumpAgain`: one more was asked for meanwhile. */
  private pumping = false;
  private pumpAgain = false;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(
    private readonly deps: { jobs: JobStore; budgets: BudgetGuard; metrics: Metrics; log: Logger },
    private readonly queue: QueueOptions,
  ) {}

  /**
   * The admission check of {@link run} on its own, for doors that refuse before acknowledging.
   * @throws QueueClosedError during shutdown, BudgetExceededError.
   */
  async check(spec: NewJob): Promise<void> {
    if (this.closed) throw new QueueClosedError();
    if (spec.ignoreBudget) return;
    await this.deps.budgets.check(spec.guildId ?? null, spec.userId, admission(spec));
  }

  /** This process's jobs waiting and running. */
  get load(): { waiting: number; running: number } {
    let running = 0;
    for (const job of this.local.values()) if (job.running) running++;
    return { waiting: this.local.size - running, running };
  }

  /**
   * Records the job (checking budgets in the same transaction), waits for its claim, runs `task`,
   * records the outcome.
   * @throws BudgetExceededError (before queueing or before starting), DuplicateJobError for a second
   *   job of one kind for one interaction, QueueClosedError during shutdown, JobInterruptedError when
   *   shutdown's grace period ran out or another process failed the job as abandoned, and whatever
   *   `task` throws.
   */
  async run<T>(spec: NewJob, task: (job: JobContext) => Promise<T>, options: RunOptions<T> = {}): Promise<T> {
    const { jobs, budgets, metrics } = this.deps;
    const guildId = spec.guildId ?? null;
    const log = this.deps.log.child({ kind: spec.kind, guild: spec.guildId, user: spec.userId });
    if (this.closed) throw new QueueClosedError();
    let jobId: string;
    try {
      jobId = await jobs.create(spec, spec.ignoreBudget ? undefined : await budgets.admission(guildId, spec.userId, admission(spec)));
    } catch (err) {
      metrics.jobs.inc({ kind: spec.kind, outcome: 'refused' });
      throw err;
    }
    const jobLog = log.child({ jobId });
    const started = performance.now();
    const abort = new AbortController();
    try {
      await new Promise<void>((resolve, reject) => {
        // Shutdown began while the job was being recorded: its row is failed below.
        if (this.closed) {
          reject(new QueueClosedError());
          return;
        }
        const claimed = (failure?: Error) => (failure ? reject(failure) : resolve());
        this.local.set(jobId, { running: false, claimed, options: options as RunOptions<unknown>, lastPlace: '', abort });
        this.keepBeating();
        this.pump();
      });
      if (!spec.ignoreBudget) await budgets.check(guildId, spec.userId, { ...admission(spec), starting: jobId });
      let result: T;
      try {
        result = await task({ jobId, signal: abort.signal });
      } catch (err) {
        throw abort.signal.aborted ? new JobInterruptedError() : err;
      }
      await jobs.succeed(jobId, options.imageOf?.(result));
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
      await jobs.fail(jobId, errorId, err instanceof LimnerError ? err.message : String((err as Error)?.message ?? err));
      metrics.jobs.inc({ kind: spec.kind, outcome: 'failed' });
      throw err;
    } finally {
      // The row is final by now, so the claim below sees the slot free.
      this.local.delete(jobId);
      this.updateGauges();
      this.pump();
      if (this.local.size === 0) {
        clearInterval(this.beatTimer);
        this.beatTimer = undefined;
        for (const resolve of this.idleWaiters.splice(0)) resolve();
      }
    }
  }

  /**
   * Runs `task` once every job of `sessionKey` queued or running now has ended, for work on a
   * session that is not a job itself (undo), so it lands after the edits asked for before it.
   */
  async afterSession<T>(sessionKey: string, task: () => Promise<T>): Promise<T> {
    const ahead = await this.deps.jobs.activeOfSession(sessionKey);
    while ([...(await this.deps.jobs.statuses(ahead)).values()].some((s) => s === 'queued' || s === 'running')) {
      await new Promise((resolve) => setTimeout(resolve, this.queue.pollMs));
    }
    return task();
  }

  /**
   * Stops taking jobs, fails the waiting ones, gives running ones `graceMs` to finish, then
   * aborts what is left (their tasks see the signal and end with JobInterruptedError).
   */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    clearTimeout(this.pollTimer);
    for (const job of this.local.values()) if (!job.running) job.claimed(new QueueClosedError());
    if (this.local.size === 0) return;
    const drained = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
    const outcome = await Promise.race([drained.then(() => 'drained' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.deps.log.warn({ running: this.local.size }, 'grace period over: stopping running jobs');
      for (const job of this.local.values()) job.abort.abort(new JobInterruptedError());
      await drained;
    }
  }

  /**
   * Starts a round of {@link pumpRound}, or, while one is under way, asks it for one more: rounds
   * never overlap, so a job is told its claim once.
   */
  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    this.pumping = true;
    void this.pumpRound().finally(() => {
      this.pumping = false;
      if (this.pumpAgain) {
        this.pumpAgain = false;
        this.pump();
      }
    });
  }

  /**
   * Claims what may start (for any process: the fair order is global), starts this process's
   * claimed jobs, tells the others their places, and looks again after `pollMs` while any wait.
   * Never rejects: a database error is logged and the next poll tries again.
   */
  private async pumpRound(): Promise<void> {
    if (this.closed) return;
    const waiting = [...this.local].filter(([, job]) => !job.running);
    if (waiting.length === 0) return;
    let more = true;
    try {
      const { jobs } = this.deps;
      // Claims for every process, until the slots are full or every waiting job is held.
      while (await jobs.claimNext(this.queue));
      const statuses = await jobs.statuses(waiting.map(([id]) => id));
      const still = waiting.filter(([id, job]) => {
        const status = statuses.get(id);
        if (status === 'queued') return true;
        // Running: claimed (by this process or another). Anything else: failed as abandoned meanwhile.
        job.running = status === 'running';
        job.claimed(job.running ? undefined : new JobInterruptedError());
        return false;
      });
      more = still.length > 0;
      if (more) await this.reportPlaces(still);
    } catch (err) {
      this.deps.log.warn({ err }, 'could not look for a free slot; trying again');
    }
    this.updateGauges();
    if (more && !this.closed) this.pollTimer = setTimeout(() => this.pump(), this.queue.pollMs);
  }

  private async reportPlaces(waiting: ReadonlyArray<[string, LocalJob]>): Promise<void> {
    const places = await this.deps.jobs.places();
    for (const [id, job] of waiting) {
      const place = places.get(id);
      if (!place) continue;
      const key = 'place' in place ? String(place.place) : 'session';
      if (key === job.lastPlace) continue;
      job.lastPlace = key;
      if ('place' in place) job.options.onPosition?.(place.place);
      else job.options.onSessionWait?.();
    }
  }

  /** Renews this process's jobs' heartbeats every `leaseS / 3` while it has any. */
  private keepBeating(): void {
    this.beatTimer ??= setInterval(
      () =>
        void this.deps.jobs
          .beat([...this.local.keys()])
          .catch((err: unknown) => this.deps.log.warn({ err }, 'could not renew job heartbeats')),
      (this.queue.leaseS * 1000) / 3,
    );
  }

  private updateGauges(): void {
    const { waiting, running } = this.load;
    this.deps.metrics.queueDepth.set(waiting);
    this.deps.metrics.jobsRunning.set(running);
  }
}

export { QueueClosedError };

/** What a job asks of the budgets: its pictures (default 1) and whether the cooldown holds it. */
function admission(spec: NewJob): { pictures: number; cooldown: boolean } {
  return { pictures: spec.pictures ?? 1, cooldown: spec.cooldown ?? true };
}
