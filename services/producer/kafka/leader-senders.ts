/**
 * The kafkajs producers behind the batcher: idempotent, acks=all (-1), one request in
 * flight per broker, compression from configuration, and every send bounded in time.
 *
 * Each leader broker's sends go through a writer of their own (kafkajs gives each producer
 * its own connections and metadata), so replacing the producer of a broker that stopped
 * answering does not cut off the sends to the others. The writer (common/safe-idempotent-writer)
 * replaces its producer after any failed send, so a sequence number kafkajs rolled back is
 * never reused, and a timed-out send returns only when kafkajs has given up on it: the
 * batcher sends nothing else for those partitions meanwhile, so a late retry of those
 * records cannot land after newer records of the same key.
 */
import {
  CompressionTypes,
  type Kafka,
  type RetryOptions,
  type TopicMessages,
} from '../../common/kafka';
import type { Logger } from '../../common/logger';
import { SafeIdempotentWriter } from '../../common/safe-idempotent-writer';
import type { PlacedRecord } from './placement';

export { SendTimeoutError } from '../../common/safe-idempotent-writer';

/** The records of one topic in one send. */
export interface TopicBatch {
  topic: string;
  records: PlacedRecord[];
}

/** Kafka's acknowledgement of one topic-partition of a send. */
export interface PartitionAck {
  topic: string;
  partition: number;
  baseOffset: string;
}

export interface LeaderSendersOptions {
  kafka: Kafka;
  logger: Logger;
  compression: 'none' | 'gzip';
  /** How long the broker may wait for all in-sync replicas (acks=all). */
  ackTimeoutMs: number;
  /** Hard bound of one send, connection and retries included. */
  sendTimeoutMs: number;
  retry: RetryOptions;
}

/** The writer for sends without a known leader, and the one connect() starts. */
const DEFAULT_SLOT = 'any';

export function toTopicMessages(batches: TopicBatch[]): TopicMessages[] {
  return batches.map(({ topic, records }) => ({
    topic,
    messages: records.map(({ key, value, headers, partition }) => ({
      key,
      value,
      partition,
      ...(headers ? { headers } : {}),
    })),
  }));
}

export class LeaderSenders {
  /** The writer of each leader broker (DEFAULT_SLOT: leader unknown). */
  private readonly writers = new Map<string, SafeIdempotentWriter>();
  private closed = false;
  private readonly logger: Logger;
  private readonly compression: CompressionTypes;

  constructor(private readonly options: LeaderSendersOptions) {
    this.logger = options.logger.child({ component: 'kafka-producer' });
    this.compression =
      options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  }

  /** True when a producer in service has connected (and has its producer id). */
  get connected(): boolean {
    return [...this.writers.values()].some((writer) => writer.connected);
  }

  /**
   * True once a producer has connected. A producer replaced after a failed send is not a
   * reason to take the service out of rotation: the next send connects a new one.
   */
  get hasConnected(): boolean {
    return [...this.writers.values()].some((writer) => writer.hasConnected);
  }

  /** Connects a producer unless one is connected or connecting; never rejects. */
  connect(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.writerFor(DEFAULT_SLOT)
      .connect()
      .catch(() => undefined);
  }

  /** Sends one request; `leader` is the broker leading all of its partitions, if known. */
  async send(batches: TopicBatch[], leader?: number): Promise<PartitionAck[]> {
    if (this.closed) throw new Error('the Kafka producer is closed');
    const writer = this.writerFor(leader === undefined ? DEFAULT_SLOT : `broker-${leader}`);
    const metadata = await writer.send({
      acks: -1,
      timeout: this.options.ackTimeoutMs,
      compression: this.compression,
      topicMessages: toTopicMessages(batches),
    });
    return metadata.map((entry) => ({
      topic: entry.topicName,
      partition: entry.partition,
      baseOffset: entry.baseOffset ?? '',
    }));
  }

  async disconnect(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.writers.values()].map((writer) => writer.disconnect()));
  }

  private writerFor(key: string): SafeIdempotentWriter {
    let writer = this.writers.get(key);
    if (!writer) {
      writer = new SafeIdempotentWriter({
        kafka: this.options.kafka,
        logger: this.logger.child({ for: key }),
        retry: this.options.retry,
        sendTimeoutMs: this.options.sendTimeoutMs,
      });
      this.writers.set(key, writer);
    }
    return writer;
  }
}
