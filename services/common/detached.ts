/**
 * Work started from a place that cannot wait for it (a timer, an event listener) and that
 * nobody awaits. `void promise` would leave its rejection unhandled: in a service the crash
 * handler then shuts the whole process down for what may be one failed background task, and
 * where no handler is installed the error ends the process. Here a rejection is one error
 * line that says what failed, and the process goes on.
 *
 * Use it for a task whose own failures are already handled inside it, so that only a bug can
 * reach this catch; a task that fails in normal operation handles (and counts) that itself.
 * ESLint's no-floating-promises (ignoreVoid: false) sends every unawaited promise here or to
 * an explicit rejection handler.
 */
import type { Logger } from './logger';

export function runDetached(promise: Promise<unknown>, logger: Logger, what: string): void {
  promise.catch((error: unknown) => {
    logger.error({ err: error, task: what }, `${what} failed unexpectedly`);
  });
}
