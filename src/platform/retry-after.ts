import { setTimeout as sleep } from 'node:timers/promises';

/** The `@type` of the error detail in which Google APIs say how long to wait (google.rpc.RetryInfo). */
const RETRY_INFO = 'type.googleapis.com/google.rpc.RetryInfo';

/**
 * The wait, ms, that a Gemini rate-limit answer (HTTP 429) asks for: the `retryDelay` of the
 * `google.rpc.RetryInfo` detail in its JSON error body (a protobuf Duration such as `"12s"` or
 * `"1.5s"`; Gemini API troubleshooting guide). The SDK's `ApiError` carries that body, as JSON, in its
 * `message` (it keeps no response headers, so a `Retry-After` header cannot be read from it).
 * @returns undefined when the error names no delay, or names one that does not parse.
 */
export function retryDelayMs(error: unknown): number | undefined {
  const message = (error as { message?: unknown } | null)?.message;
  if (typeof message !== 'string') return undefined;
  let body: unknown;
  try {
    body = JSON.parse(message);
  } catch {
    return undefined;
  }
  const details = (body as { error?: { details?: unknown } } | null)?.error?.details;
  if (!Array.isArray(details)) return undefined;
  for (const detail of details) {
    const { '@type': type, retryDelay } = (detail ?? {}) as { '@type'?: unknown; retryDelay?: unknown };
    if (type !== RETRY_INFO || typeof retryDelay !== 'string') continue;
    const m = /^(\d+(?:\.\d+)?)s$/.exec(retryDelay.trim());
    if (m) return Math.round(Number(m[1]) * 1000);
  }
  return undefined;
}

/** True for the SDK's `ApiError` with status 429 (matched by name: it may come from another thread). */
export function isRateLimited(error: unknown): boolean {
  const { name, status } = (error ?? {}) as { name?: unknown; status?: unknown };
  return name === 'ApiError' && status === 429;
}

/**
 * Calls `call`, and again after each rate-limit answer (HTTP 429, {@link isRateLimited}) as long as
 * the wait it asks for ({@link retryDelayMs}, else `backoffMs(attempt)`) ends before `deadline` and
 * fewer than `attempts` calls were made. Other failures are thrown at once; so is the last 429, for
 * the caller to report as the rate limit.
 * @param options.attempts - Calls at most, the first included.
 * @param options.deadline - `performance.now()` time (ms) by which the call's whole budget ends.
 * @param options.backoffMs - Wait (ms) before call `attempt + 1` when the answer named none.
 * @param options.signal - Ends a wait early (the wait then throws the signal's reason).
 * @param options.onWait - Told each wait, ms, before it starts.
 */
export async function withRateLimitRetries<T>(
  call: () => Promise<T>,
  options: {
    readonly attempts: number;
    readonly deadline: number;
    readonly backoffMs: (attempt: number) => number;
    readonly signal?: AbortSignal;
    readonly onWait?: (ms: number) => void;
  },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!isRateLimited(err) || attempt >= options.attempts) throw err;
      const wait = retryDelayMs(err) ?? options.backoffMs(attempt);
      if (performance.now() + wait >= options.deadline) throw err;
      options.onWait?.(wait);
      await sleep(wait, undefined, options.signal ? { signal: options.signal } : {});
    }
  }
}
