/**
 * Runs tasks one after another per key while different keys run in parallel: the per-session
 * lock of edits, keyed by user and campaign, so a second edit starts only once the first has
 * moved the session and therefore changes the first one's result, never a stale picture.
 * In-process only: Limner runs one bot process per database.
 */
export class KeyedSerialQueue {
  /** The settled tail of each key's chain; a key is removed once its chain is idle. */
  private readonly tails = new Map<string, Promise<void>>();

  /** True while a task for `key` is running or waiting. */
  busy(key: string): boolean {
    return this.tails.has(key);
  }

  /** Runs `task` after every task queued earlier for `key` has settled; a failed task does not block the next. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const result = (this.tails.get(key) ?? Promise.resolve()).then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
