/**
 * What happens to one message: the handler is called, retried with backoff when it
 * throws, and the message is dead-lettered when retries are used up (or at once when
 * the handler says it is unprocessable). The outcome tells the runner whether the
 * offset may be committed.
 *
 * A dead-letter write that fails or times out is remembered per partition. When the
 * same offset comes back (the runner paused the partition and fetched it again), the
 * remembered write is awaited or retried instead of calling the handler again, so a
 * write that was only slow is not written twice.
 */
import { withDeadline, withTimeout } from '../common/deadline';
import type { Logger } from '../common/logger';
import type { DeadLetterSink, Failure, FailureReason } from './dead-letter';
import {
  partitionKey,
  positionOf,
  type ConsumedMessage,
  type Handler,
  type HandlerContext,
} from './message';
import type { ConsumerMetrics } from './metrics';
import { performance } from 'node:perf_hooks';
import { backoffDelay, sleep, type BackoffPolicy } from './retry';

/**
 * processed / dead_lettered: the offset may be committed.
 * interrupted: shutdown began during a backoff; the message stays uncommitted.
 * blocked: the dead-letter write failed; nothing at or after this offset may be committed.
 */
export type Outcome = 'processed' | 'dead_lettered' | 'interrupted' | 'blocked';

export interface ProcessorOptions {
  handler: Handler;
  deadLetters: DeadLetterSink;
  metrics: ConsumerMetrics;
  logger: Logger;
  maxRetries: number;
  backoff: BackoffPolicy;
  deadLetterTimeoutMs: number;
  now?: () => number;
}

interface PendingDeadLetter {
  offset: string;
  failure: Failure;
  write?: TrackedWrite;
}

interface TrackedWrite {
  state: 'pending' | 'written' | 'failed';
  error?: unknown;
  done: Promise<void>;
}

function track(promise: Promise<void>): TrackedWrite {
  const tracked: TrackedWrite = { state: 'pending', done: Promise.resolve() };
  tracked.done = promise.then(
    () => {
      tracked.state = 'written';
    },
    (error: unknown) => {
      tracked.state = 'failed';
      tracked.error = error;
    },
  );
  return tracked;
}

/** Any error that says `retriable: false` (kafkajs' convention too) skips the retries. */
function isUnprocessable(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { retriable?: unknown }).retriable === false
  );
}

/** Why a failed attempt ends in the dead-letter topic, or nothing when it is retried. */
function deadLetterReason(
  error: unknown,
  attempt: number,
  maxRetries: number,
): FailureReason | undefined {
  if (isUnprocessable(error)) return 'unprocessable';
  if (attempt > maxRetries) return 'retries-exhausted';
  return undefined;
}

/** A promise, or anything a handler module returns that awaits like one. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

interface TopicSeries {
  processed: { inc(): void };
  retried: { inc(): void };
  duration: { observe(seconds: number): void };
  endToEnd: { observe(seconds: number): void };
}

export class MessageProcessor {
  private readonly pending = new Map<string, PendingDeadLetter>();
  private readonly series = new Map<string, TopicSeries>();
  private readonly now: () => number;
  private firstAttempt: HandlerContext | undefined;

  constructor(private readonly options: ProcessorOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * The metric series of one topic, looked up once: finding a series by its labels hashes
   * them, and that cost showed up per message in the consumer's profile.
   */
  private seriesOf(topic: string): TopicSeries {
    let series = this.series.get(topic);
    if (!series) {
      const { metrics } = this.options;
      series = {
        processed: metrics.processedCounter(topic),
        retried: metrics.consumed.labels(topic, 'retried'),
        duration: metrics.processingDuration.labels(topic),
        endToEnd: metrics.endToEndLatency.labels(topic),
      };
      this.series.set(topic, series);
    }
    return series;
  }

  /**
   * The outcome, at once when the handler returned without a promise and succeeded: the
   * runner then awaits nothing for this message (an await per message, its promise and the
   * async function around it cost more than the default handler's own work).
   */
  process(message: ConsumedMessage, signal: AbortSignal): Outcome | Promise<Outcome> {
    const pending = this.pending.size > 0 ? this.pendingFor(message) : undefined;
    if (pending) return this.deadLetter(message, pending, signal);
    return this.attempt(message, 1, signal);
  }

  /** The dead-letter write remembered for this message's partition, if it is this message's. */
  private pendingFor(message: ConsumedMessage): PendingDeadLetter | undefined {
    const key = partitionKey(message);
    const pending = this.pending.get(key);
    if (pending && pending.offset !== message.offset) {
      // The partition moved on without us (rebalance, seek): forget the stale write.
      this.pending.delete(key);
      return undefined;
    }
    return pending;
  }

  /** The context of a first attempt, the same object for every message while the signal is. */
  private firstAttemptContext(signal: AbortSignal): HandlerContext {
    let context = this.firstAttempt;
    if (context?.signal !== signal) {
      context = Object.freeze({ logger: this.options.logger, signal, attempt: 1 });
      this.firstAttempt = context;
    }
    return context;
  }

  /** One call of the handler; a failure is retried or dead-lettered. */
  private attempt(
    message: ConsumedMessage,
    attempt: number,
    signal: AbortSignal,
  ): Outcome | Promise<Outcome> {
    const { handler, logger } = this.options;
    const context = attempt === 1 ? this.firstAttemptContext(signal) : { logger, signal, attempt };
    const startedAt = performance.now();
    let returned: void | Promise<void>;
    try {
      returned = handler(message, context);
    } catch (error) {
      return this.failed(message, attempt, startedAt, error, signal);
    }
    if (!isThenable(returned)) return this.succeeded(message, startedAt);
    return Promise.resolve(returned).then(
      () => this.succeeded(message, startedAt),
      (error: unknown) => this.failed(message, attempt, startedAt, error, signal),
    );
  }

  private succeeded(message: ConsumedMessage, startedAt: number): 'processed' {
    const series = this.seriesOf(message.topic);
    series.duration.observe((performance.now() - startedAt) / 1000);
    series.processed.inc();
    series.endToEnd.observe(Math.max(0, this.now() - message.timestamp) / 1000);
    return 'processed';
  }

  private async failed(
    message: ConsumedMessage,
    attempt: number,
    startedAt: number,
    error: unknown,
    signal: AbortSignal,
  ): Promise<Outcome> {
    const { logger, maxRetries, backoff } = this.options;
    const series = this.seriesOf(message.topic);
    series.duration.observe((performance.now() - startedAt) / 1000);
    const reason = deadLetterReason(error, attempt, maxRetries);
    if (reason) return this.deadLetterFailed(message, { reason, error, attempts: attempt }, signal);
    const delayMs = backoffDelay(attempt, backoff);
    series.retried.inc();
    logger.warn(
      { ...positionOf(message), attempt, retryInMs: delayMs, err: error },
      'handler failed; retrying',
    );
    if (!(await sleep(delayMs, signal))) return 'interrupted';
    return this.attempt(message, attempt + 1, signal);
  }

  /** Remembers the failure for the partition (a blocked write is retried from it), then writes. */
  private deadLetterFailed(
    message: ConsumedMessage,
    failure: Failure,
    signal: AbortSignal,
  ): Promise<Outcome> {
    const pending: PendingDeadLetter = { offset: message.offset, failure };
    this.pending.set(partitionKey(message), pending);
    return this.deadLetter(message, pending, signal);
  }

  private async deadLetter(
    message: ConsumedMessage,
    pending: PendingDeadLetter,
    signal: AbortSignal,
  ): Promise<Outcome> {
    const { deadLetters, metrics, logger, deadLetterTimeoutMs } = this.options;
    const where = positionOf(message);
    if (!pending.write || pending.write.state === 'failed') {
      pending.write = track(deadLetters.write(message, pending.failure));
    }
    const write = pending.write;
    // Only the wait is bounded (the write itself goes on; its state says how it ended). A
    // shutdown that begins during the wait ends it; the letter of a message whose last attempt
    // ended after shutdown began is still waited for, which finishes the message in hand.
    const bounded = withTimeout(write.done, deadLetterTimeoutMs, 'dead-letter write');
    await (signal.aborted ? bounded : withDeadline(bounded, signal)).catch(() => undefined);
    if (write.state === 'written') {
      this.pending.delete(partitionKey(message));
      metrics.consumed.inc({ topic: message.topic, result: 'dead_lettered' });
      logger.error(
        {
          ...where,
          reason: pending.failure.reason,
          attempts: pending.failure.attempts,
          err: pending.failure.error,
        },
        'message dead-lettered',
      );
      return 'dead_lettered';
    }
    if (signal.aborted) return 'interrupted';
    logger.error(
      {
        ...where,
        err: write.state === 'failed' ? write.error : undefined,
        timedOutAfterMs: write.state === 'pending' ? deadLetterTimeoutMs : undefined,
      },
      'dead-letter write failed; the partition does not move past this message',
    );
    return 'blocked';
  }
}
