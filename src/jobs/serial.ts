import pLimit, { type LimitFunction } from 'p-limit';

/**
 * Runs tasks one after another per key while different keys run in parallel (e.g. writes to one
 * campaign's files). Each key gets a p-limit of 1, dropped when idle. In-process only: work that
 * must be ordered across processes is ordered by the job rows (see `JobStore`).
 */
export class KeyedSerialQueue {
  private readonly limits = new Map<string, LimitFunction>();

  /** Runs `task` after every task queued earlier for `key` has settled; a failed task does not block the next. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    let limit = this.limits.get(key);
    if (!limit) {
      limit = pLimit(1);
      this.limits.set(key, limit);
    }
    const own = limit;
    return own(task).finally(() => {
      if (own.activeCount === 0 && own.pendingCount === 0 && this.limits.get(key) === own) this.limits.delete(key);
    });
  }
}
