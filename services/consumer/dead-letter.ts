/**
 * Dead letters: a message the handler could not process is written to the dead-letter
 * topic with its original key, value and headers, plus headers that say where it came
 * from and why it failed. The writer is idempotent with acks=all, so a retried write is
 * not duplicated by the producer's own retries, and it replaces its producer after a
 * failed write, so a write whose answer was lost cannot make a later one (another source
 * partition's, hashed to the same dead-letter partition) pass for its duplicate.
 */
import type { IHeaders, Message } from '../common/kafka';
import type { SafeIdempotentWriter } from '../common/safe-idempotent-writer';
import type { ConsumedMessage } from './message';

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
): Message {
  const headers: IHeaders = {};
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

export interface DeadLetterSink {
  write(message: ConsumedMessage, failure: Failure): Promise<void>;
}

export interface DeadLetterPublisherOptions {
  writer: Pick<SafeIdempotentWriter, 'send'>;
  topic: string;
  consumerGroup: string;
  /** How long the broker may wait for all in-sync replicas (acks=all). */
  ackTimeoutMs: number;
}

export class DeadLetterPublisher implements DeadLetterSink {
  constructor(private readonly options: DeadLetterPublisherOptions) {}

  async write(message: ConsumedMessage, failure: Failure): Promise<void> {
    const { writer, topic, consumerGroup, ackTimeoutMs } = this.options;
    await writer.send({
      acks: -1,
      timeout: ackTimeoutMs,
      topicMessages: [
        { topic, messages: [buildDeadLetter(message, failure, consumerGroup, new Date())] },
      ],
    });
  }
}
