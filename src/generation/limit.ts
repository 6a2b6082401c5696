/**
 * At most `max` tasks running at once; the others wait in arrival order. One instance bounds
 * every caller that shares it, so two `/scene best` requests together stay within the limit.
 */
export class ConcurrencyLimit {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  /** @param max - Tasks allowed at once, at least 1. */
  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`concurrency limit must be a whole number of at least 1, got ${max}`);
  }

  /**
   * Runs `task` once a slot is free.
   * @param signal - A task whose signal aborted while it waited is not started: it rejects with `signal.reason`.
   */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.running < this.max) this.running++;
    // A finishing task hands its slot straight to the next waiter, so `running` stays counted.
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      signal?.throwIfAborted();
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
