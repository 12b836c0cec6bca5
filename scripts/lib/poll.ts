/**
 * Waiting for a condition with a deadline: the one polling loop of the dev tools.
 *
 *   poll({ what, timeoutMs, check })      check answers { value?, status }; a status line is
 *                                          logged when it changes (the e2e suite's progress)
 *   waitFor(what, check, options)         check answers a value, or undefined/false for "not yet"
 *   waitUntil(what, check, options)       check answers a boolean; resolves with the ms it took
 *
 * Pure apart from the clock and the sleep it is given (tests/unit/e2e-poll.test.ts uses fakes).
 */
import { setTimeout as realSleep } from 'node:timers/promises';

export interface PollResult<T> {
  /** Done: the value to return. Not done: undefined. */
  value?: T;
  /** One line about where things stand, logged when it differs from the last one. */
  status: string;
}

export interface PollOptions<T> {
  /** What is awaited, for progress lines and the timeout error. */
  what: string;
  timeoutMs: number;
  /** Default 1 s. */
  intervalMs?: number;
  check: () => Promise<PollResult<T>>;
  /**
   * A check that throws: true (default), "not yet", its message becomes the status (an API
   * server or a pod may be briefly away); false, the error ends the wait at once.
   */
  retryErrors?: boolean;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<unknown>;
}

export class PollTimeoutError extends Error {
  override readonly name = 'PollTimeoutError';
}

/** Calls `check` until it returns a value or the deadline passes (PollTimeoutError). */
export async function poll<T>(options: PollOptions<T>): Promise<T> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => realSleep(ms));
  const log = options.log ?? (() => undefined);
  const interval = options.intervalMs ?? 1_000;
  const started = now();
  const deadline = started + options.timeoutMs;
  let last: string | undefined;
  for (;;) {
    let result: PollResult<T>;
    try {
      result = await options.check();
    } catch (error) {
      if (options.retryErrors === false) throw error;
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

export interface WaitOptions {
  /** Default 30 s. */
  timeoutMs?: number;
  /** Default 200 ms. */
  intervalMs?: number;
  /** Default false: a check that throws ends the wait with its error (see PollOptions). */
  retryErrors?: boolean;
}

/** Polls `check` until it returns something other than undefined or false, and returns that. */
export function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  options: WaitOptions = {},
): Promise<T> {
  return poll<T>({
    what,
    timeoutMs: options.timeoutMs ?? 30_000,
    intervalMs: options.intervalMs ?? 200,
    retryErrors: options.retryErrors ?? false,
    check: async () => {
      const value = await check();
      return value === undefined || value === false
        ? { status: 'not yet' }
        : { value, status: 'done' };
    },
  });
}

/** Polls `check` until it returns true; resolves with the milliseconds that took. */
export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  options: WaitOptions = {},
): Promise<number> {
  const started = Date.now();
  await waitFor(what, async () => (await check()) || undefined, options);
  return Date.now() - started;
}
