/**
 * Waiting for a condition with a deadline, printing progress only when it changes. Pure apart
 * from the clock and the sleep it is given (tests/unit/e2e-poll.test.ts uses fakes of both).
 */
import { setTimeout as realSleep } from 'node:timers/promises';

export interface PollResult<T> {
  /** Done: the value to return. Not done: undefined. */
  value?: T;
  /** One line about where things stand, printed when it differs from the last one. */
  status: string;
}

export interface PollOptions<T> {
  /** What is awaited, for progress lines and the timeout error. */
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  check: () => Promise<PollResult<T>>;
  /** Progress lines (default: stderr with an [e2e] prefix). */
  log?: (line: string) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<unknown>;
}

export class PollTimeoutError extends Error {
  override readonly name = 'PollTimeoutError';
}

export const progress = (line: string): void => {
  process.stderr.write(`[e2e] ${line}\n`);
};

/**
 * Calls `check` until it returns a value or the deadline passes. A check that throws counts as
 * "not yet" (its message becomes the status): the API server or a pod may be briefly away.
 */
export async function poll<T>(options: PollOptions<T>): Promise<T> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => realSleep(ms));
  const log = options.log ?? progress;
  const interval = options.intervalMs ?? 1_000;
  const started = now();
  const deadline = started + options.timeoutMs;
  let last: string | undefined;
  for (;;) {
    let result: PollResult<T>;
    try {
      result = await options.check();
    } catch (error) {
      result = { status: `not yet: ${error instanceof Error ? error.message : String(error)}` };
    }
    const elapsed = Math.round((now() - started) / 1000);
    if (result.value !== undefined) {
      log(`${options.what}: ${result.status} (${elapsed} s)`);
      return result.value;
    }
    if (result.status !== last) {
      log(`${options.what}: ${result.status} (${elapsed} s)`);
      last = result.status;
    }
    if (now() >= deadline) {
      throw new PollTimeoutError(
        `timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for ${options.what}; last: ${result.status}`,
      );
    }
    await sleep(Math.min(interval, Math.max(0, deadline - now())));
  }
}
