/**
 * The contract between the consumer and a message handler. A handler is one function, async
 * or plain: the consumer awaits what it returns only when that is a promise, so a handler
 * whose work is synchronous costs no await per message. The consumer retries it with backoff
 * when it throws (or its promise rejects) and dead-letters the message when it keeps failing.
 * Throw UnprocessableMessageError for a message no retry can fix (bad format): it goes to the
 * dead-letter topic at once.
 */
import type { Logger } from '../common/logger';

export interface ConsumedMessage {
  readonly topic: string;
  readonly partition: number;
  /** Kafka offsets are 64-bit; kept as the decimal string Kafka clients use. */
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Header values are bytes; a name that occurs more than once has an array. */
  readonly headers: Readonly<Record<string, Buffer | Buffer[] | undefined>>;
  /** Milliseconds since the epoch (the record's CreateTime or LogAppendTime). */
  readonly timestamp: number;
}

/** The key a consumer keeps per-partition state under. */
export const partitionKey = (message: ConsumedMessage): string =>
  `${message.topic}/${message.partition}`;

/** Where a message sits, as logs name it. */
export const positionOf = (message: ConsumedMessage) => ({
  topic: message.topic,
  partition: message.partition,
  offset: message.offset,
});

export interface HandlerContext {
  readonly logger: Logger;
  /** Aborted when the service shuts down; a long handler may use it to stop early. */
  readonly signal: AbortSignal;
  /** 1 on the first call, then 2, 3, … on retries. */
  readonly attempt: number;
}

export type Handler = (message: ConsumedMessage, context: HandlerContext) => void | Promise<void>;

/** A message that retrying cannot fix; it is dead-lettered without retries. */
export class UnprocessableMessageError extends Error {
  readonly code = 'unprocessable_message';
  readonly retriable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UnprocessableMessageError';
  }
}
