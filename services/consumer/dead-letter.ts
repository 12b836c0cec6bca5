/**
 * Dead letters: a message the handler could not process is written to the dead-letter
 * topic with its original key, value and headers, plus headers that say where it came
 * from and why it failed. This module builds the letter; kafkajs-dead-letters.ts writes it.
 */
import type { ConsumedMessage } from './message';
import type { DeadLetter, DeadLetterHeaders } from './port';

export const DEAD_LETTER_HEADERS = {
  sourceTopic: 'x-dlq-source-topic',
  sourcePartition: 'x-dlq-source-partition',
  sourceOffset: 'x-dlq-source-offset',
  sourceTimestamp: 'x-dlq-source-timestamp',
  consumerGroup: 'x-dlq-consumer-group',
  /** `unprocessable` (dead-lettered at once, e.g. not JSON) or `retries-exhausted`. */
  reason: 'x-dlq-reason',
  error: 'x-dlq-error',
  /** Handler calls made, the first one included. */
  attempts: 'x-dlq-attempts',
  failedAt: 'x-dlq-failed-at',
} as const;

export type FailureReason = 'unprocessable' | 'retries-exhausted';

export interface Failure {
  reason: FailureReason;
  error: unknown;
  attempts: number;
}

/** Error texts can be long (stack-like messages); headers count against the record size. */
export const MAX_ERROR_HEADER_CHARS = 1000;

export function errorText(error: unknown): string {
  const text =
    error instanceof Error
      ? `${error.name}: ${error.message}`
      : `non-error thrown: ${String(error)}`;
  return text.length > MAX_ERROR_HEADER_CHARS
    ? `${text.slice(0, MAX_ERROR_HEADER_CHARS - 1)}…`
    : text;
}

export function buildDeadLetter(
  message: ConsumedMessage,
  failure: Failure,
  consumerGroup: string,
  failedAt: Date,
): DeadLetter {
  const headers: DeadLetterHeaders = {};
  // Original headers first; our own win if a re-driven dead letter already carries them.
  for (const [name, value] of Object.entries(message.headers)) {
    if (value !== undefined) headers[name] = value;
  }
  Object.assign(headers, {
    [DEAD_LETTER_HEADERS.sourceTopic]: message.topic,
    [DEAD_LETTER_HEADERS.sourcePartition]: String(message.partition),
    [DEAD_LETTER_HEADERS.sourceOffset]: message.offset,
    [DEAD_LETTER_HEADERS.sourceTimestamp]: String(message.timestamp),
    [DEAD_LETTER_HEADERS.consumerGroup]: consumerGroup,
    [DEAD_LETTER_HEADERS.reason]: failure.reason,
    [DEAD_LETTER_HEADERS.error]: errorText(failure.error),
    [DEAD_LETTER_HEADERS.attempts]: String(failure.attempts),
    [DEAD_LETTER_HEADERS.failedAt]: failedAt.toISOString(),
  });
  return { key: message.key, value: message.value, headers };
}

/** Where the processor sends a message it gives up on; resolves once the letter is written. */
export interface DeadLetterSink {
  write(message: ConsumedMessage, failure: Failure): Promise<void>;
}
