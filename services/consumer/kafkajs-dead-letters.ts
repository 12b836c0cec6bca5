/**
 * Writes dead letters through a kafkajs producer (common/safe-idempotent-writer.ts). The
 * writer is idempotent with acks=all, so a retried write is not duplicated by the producer's
 * own retries, and it replaces its producer after a failed write, so a write whose answer was
 * lost cannot make a later one (another source partition's, hashed to the same dead-letter
 * partition) pass for its duplicate.
 */
import type { SafeIdempotentWriter } from '../common/safe-idempotent-writer';
import { buildDeadLetter, type DeadLetterSink, type Failure } from './dead-letter';
import type { ConsumedMessage } from './message';

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
