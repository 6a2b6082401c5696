/**
 * In-process single-flight: callers asking for the same key while a task for it runs share that
 * task's promise instead of paying for the same model calls again. Used for the scanner's reads of
 * a transcript; identical scenes and portraits are shared across processes by `SceneLeases` (scene-leases.ts) instead.
 */
export class SingleFlight<T> {
  private readonly flights = new Map<string, { readonly promise: Promise<T>; readonly signal: AbortSignal | undefined }>();

  /**
   * Runs `task` for `key`, or waits for the one already running. The check and the start happen in
   * the same tick as the call, so a caller that checked for a finished result just before cannot
   * miss a task started in between.
   * @param signal - Stops this caller's waiting, or its own task. When the task being waited for
   *   was stopped by its own caller's signal, nothing failed for this caller, so it runs the task itself.
   * @returns The value and whether this caller's task made it (`leader`) or another caller's (`false`).
   */
  async run(key: string, task: () => Promise<T>, signal?: AbortSignal): Promise<{ value: T; leader: boolean }> {
    let running = this.flights.get(key);
    while (running) {
      try {
        return { value: await abandonable(running.promise, signal), leader: false };
      } catch (err) {
        if (signal?.aborted || !running.signal?.aborted) throw err;
      }
      // Another waiter may have started a new task meanwhile; the stopped one may not be removed yet.
      const next = this.flights.get(key);
      running = next === running ? undefined : next;
    }
    const flight = { promise: task(), signal };
    this.flights.set(key, flight);
    try {
      return { value: await flight.promise, leader: true };
    } finally {
      if (this.flights.get(key) === flight) this.flights.delete(key);
    }
  }
}

/** `promise`, or a rejection with the signal's reason as soon as `signal` aborts (the promise runs on). */
function abandonable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
