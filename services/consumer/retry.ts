/** Exponential backoff with a cap, and a wait that ends early on shutdown. */

export interface BackoffPolicy {
  /** Delay before the first retry. */
  initialMs: number;
  /** No delay is longer than this. */
  maxMs: number;
}

/** Delay before retry number `retry` (1-based): initial, 2×initial, 4×initial, … capped at max. */
export function backoffDelay(retry: number, policy: BackoffPolicy): number {
  if (retry < 1) return 0;
  // Beyond 2^30 the cap has long been reached; the limit keeps the number finite.
  const factor = 2 ** Math.min(retry - 1, 30);
  return Math.min(policy.maxMs, policy.initialMs * factor);
}

/** Waits `ms`; resolves false at once if `signal` is (or becomes) aborted, true otherwise. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
