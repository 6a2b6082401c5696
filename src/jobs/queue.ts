import { LimnerError } from '../errors.ts';

/** Who a job is for: fairness is round-robin between guilds, with a cap per user. */
export interface JobOwner {
  /** Discord guild id; `cli` or `dm` for work from elsewhere. */
  readonly guildId: string;
  readonly userId: string;
}

/** Options of {@link FairQueue}. */
export interface FairQueueOptions {
  /** Jobs running at once across everyone (model calls in flight). */
  readonly concurrency: number;
  /** Jobs one user may have running at once; their further jobs wait. */
  readonly perUser: number;
}

/** The queue is closing (shutdown) and takes no new work. */
export class QueueClosedError extends LimnerError {
  readonly code = 'queue_closed';
  constructor() {
    super('Limner is restarting and not taking new requests right now. Please try again in a minute.');
  }
}

interface Waiting {
  readonly owner: JobOwner;
  readonly start: () => void;
  readonly reject: (err: Error) => void;
  readonly onPosition: ((position: number) => void) | undefined;
  /** Arrival order, to break ties between guilds never served. */
  readonly seq: number;
  lastPosition: number;
}

/**
 * A queue of jobs with a global concurrency limit, at most `perUser` running jobs per user, and
 * round-robin between guilds so that one busy guild cannot starve the others: when a slot frees,
 * the next guild in turn that has a startable job goes first.
 */
export class FairQueue {
  /** Waiting jobs per guild, FIFO; guilds in the order they first queued. */
  private readonly waiting = new Map<string, Waiting[]>();
  private readonly runningByUser = new Map<string, number>();
  private running = 0;
  /**
   * When each guild was last served (a counter): the least recently served guild goes next,
   * which is round-robin. Kept for guilds with nothing waiting too, so a guild that just ran a
   * job does not count as new when it queues again.
   */
  private readonly lastServed = new Map<string, number>();
  private served = 0;
  private arrivals = 0;
  private closed = false;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(private readonly options: FairQueueOptions) {}

  /** Jobs waiting (not yet started). */
  get depth(): number {
    let n = 0;
    for (const list of this.waiting.values()) n += list.length;
    return n;
  }

  /** Jobs running now. */
  get active(): number {
    return this.running;
  }

  /**
   * Runs `task` when its turn comes and resolves with its result.
   * @param onPosition - Called with the job's 1-based place among waiting jobs whenever it
   *   changes (not called when the job starts at once), so a door can show "3rd in line".
   * @throws QueueClosedError after {@link close}; whatever `task` throws.
   */
  run<T>(owner: JobOwner, task: () => Promise<T>, onPosition?: (position: number) => void): Promise<T> {
    if (this.closed) return Promise.reject(new QueueClosedError());
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.running++;
        this.runningByUser.set(owner.userId, (this.runningByUser.get(owner.userId) ?? 0) + 1);
        task()
          .then(resolve, reject)
          .finally(() => {
            this.running--;
            const left = (this.runningByUser.get(owner.userId) ?? 1) - 1;
            if (left === 0) this.runningByUser.delete(owner.userId);
            else this.runningByUser.set(owner.userId, left);
            this.pump();
          });
      };
      const list = this.waiting.get(owner.guildId) ?? [];
      list.push({ owner, start, reject, onPosition, seq: this.arrivals++, lastPosition: 0 });
      this.waiting.set(owner.guildId, list);
      this.pump();
    });
  }

  /**
   * Stops taking jobs; resolves when nothing is running. Waiting jobs still run, unless
   * `dropWaiting`: then they never start and their `run` promises reject with QueueClosedError.
   */
  async close(options: { dropWaiting?: boolean } = {}): Promise<void> {
    this.closed = true;
    if (options.dropWaiting) {
      for (const list of this.waiting.values()) for (const job of list.splice(0)) job.reject(new QueueClosedError());
      this.waiting.clear();
    }
    if (this.running === 0 && this.depth === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Starts every job that may start, then tells the rest their places. */
  private pump(): void {
    while (this.running < this.options.concurrency) {
      const next = this.takeNext();
      if (!next) break;
      next.start();
    }
    this.reportPositions();
    if (this.running === 0 && this.depth === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** The first startable job of the least recently served guild that has one. */
  private takeNext(): Waiting | undefined {
    for (const guild of this.rotation()) {
      const list = this.waiting.get(guild)!;
      const index = list.findIndex((w) => (this.runningByUser.get(w.owner.userId) ?? 0) < this.options.perUser);
      if (index < 0) continue;
      const [job] = list.splice(index, 1);
      if (list.length === 0) this.waiting.delete(guild);
      this.lastServed.set(guild, ++this.served);
      return job;
    }
    return undefined;
  }

  /** Guilds with waiting jobs, least recently served first (never served: by arrival). */
  private rotation(): string[] {
    const key = (g: string) => this.lastServed.get(g) ?? -1;
    return [...this.waiting.keys()].sort((a, b) => key(a) - key(b) || this.waiting.get(a)![0]!.seq - this.waiting.get(b)![0]!.seq);
  }

  /** Places by simulated round-robin order (ignoring per-user caps, which only delay). */
  private reportPositions(): void {
    const queues = this.rotation().map((g) => [...this.waiting.get(g)!]);
    let position = 0;
    for (let depth = 0; queues.some((q) => q.length > depth); depth++) {
      for (const q of queues) {
        const job = q[depth];
        if (!job) continue;
        position++;
        if (job.lastPosition !== position) {
          job.lastPosition = position;
          job.onPosition?.(position);
        }
      }
    }
  }
}
