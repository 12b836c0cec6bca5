/**
 * One way to bound a wait: the caller's AbortSignal (AbortSignal.timeout for a deadline,
 * AbortSignal.any to combine one with a shutdown). The promise itself keeps running; only
 * the wait for it ends.
 */

/** The wait outlived its deadline; `message` says what was waited for. */
export class DeadlineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeadlineError';
  }
}

/**
 * Resolves as `promise` does, or rejects with the signal's reason (a DeadlineError when the
 * signal has none of its own) once the signal aborts, whichever comes first.
 */
export function withDeadline<T>(
  promise: Promise<T>,
  signal: AbortSignal,
  what = 'the operation',
): Promise<T> {
  const reasonOf = (): Error => {
    const reason: unknown = signal.reason;
    // AbortSignal.timeout's own reason is a DOMException "TimeoutError": say what timed out.
    if (reason instanceof Error && reason.name !== 'TimeoutError' && reason.name !== 'AbortError') {
      return reason;
    }
    return new DeadlineError(`${what} did not finish in time`);
  };
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(reasonOf());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(reasonOf());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * `withDeadline` with a deadline of its own: `ms` from now, failing with `reason` (a
 * DeadlineError with this message when it is a string; a function makes the error only when
 * the deadline passes, where a send path would otherwise build one, stack and all, per call).
 * Its timer ends with the promise.
 */
export function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  reason: string | Error | (() => Error),
): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => {
    const error =
      typeof reason === 'string'
        ? new DeadlineError(reason)
        : typeof reason === 'function'
          ? reason()
          : reason;
    controller.abort(error);
  }, ms);
  // The promise waited for keeps the process alive, not its deadline.
  timer.unref();
  return withDeadline(promise, controller.signal).finally(() => clearTimeout(timer));
}
