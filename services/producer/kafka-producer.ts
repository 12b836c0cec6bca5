/**
 * The kafkajs producer behind the batcher: idempotent, acks=all (-1), one request in
 * flight per broker, compression from configuration, and every send bounded in time.
 *
 * After any failed send the producer is replaced by a new one (a new producer id). kafkajs
 * rolls back an idempotent producer's sequence numbers when a send fails, but the broker
 * may have written that request anyway; the next, different records would then reuse
 * those sequence numbers and be dropped as duplicates or refused as out of order. A fresh
 * producer id cannot collide with anything written before.
 *
 * A send that outlives sendTimeoutMs is reported as failed (its requests get 503), but
 * send() returns only when kafkajs has given up on it (bounded by LATE_WRITE_GUARD_FACTOR):
 * the batcher sends nothing else meanwhile, so a late retry of those records cannot land
 * after newer records of the same key.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CompressionTypes,
  defaultPartitioner,
  type Kafka,
  type Producer,
  type RetryOptions,
  type TopicMessages,
} from '../common/kafka';
import type { Logger } from '../common/logger';
import type { PartitionAck, TopicBatch } from './batcher';

export interface KafkaSenderOptions {
  kafka: Kafka;
  logger: Logger;
  compression: 'none' | 'gzip';
  /** How long the broker may wait for all in-sync replicas (acks=all). */
  ackTimeoutMs: number;
  /** Hard bound of one send, connection and retries included. */
  sendTimeoutMs: number;
  retry: RetryOptions;
}

const LATE_WRITE_GUARD_FACTOR = 5;

export class SendTimeoutError extends Error {
  constructor(ms: number) {
    super(`Kafka did not answer within ${ms} ms`);
    this.name = 'SendTimeoutError';
  }
}

interface Slot {
  readonly id: number;
  readonly producer: Producer;
  readonly ready: Promise<void>;
  connected: boolean;
  retired: boolean;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SendTimeoutError(ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

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

export class KafkaSender {
  private slot: Slot | undefined;
  private readonly slots = new Set<Slot>();
  private nextId = 1;
  private closed = false;
  private everConnected = false;
  private readonly logger: Logger;
  private readonly compression: CompressionTypes;

  constructor(private readonly options: KafkaSenderOptions) {
    this.logger = options.logger.child({ component: 'kafka-producer' });
    this.compression =
      options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  }

  /** True when the current producer has connected (and has its producer id). */
  get connected(): boolean {
    return this.slot?.connected === true;
  }

  /**
   * True once a producer has connected. A producer replaced after a failed send is not a
   * reason to take the service out of rotation: the next send connects a new one.
   */
  get hasConnected(): boolean {
    return this.everConnected;
  }

  /** Connects a producer unless one is connected or connecting; never rejects. */
  connect(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.current().ready.catch(() => undefined);
  }

  async send(batches: TopicBatch[]): Promise<PartitionAck[]> {
    if (this.closed) throw new Error('the Kafka producer is closed');
    const slot = this.current();
    const attempt = slot.ready.then(() =>
      slot.producer.sendBatch({
        acks: -1,
        timeout: this.options.ackTimeoutMs,
        compression: this.compression,
        topicMessages: toTopicMessages(batches),
      }),
    );
    try {
      const metadata = await withTimeout(attempt, this.options.sendTimeoutMs);
      return metadata.map((entry) => ({
        topic: entry.topicName,
        partition: entry.partition,
        baseOffset: entry.baseOffset ?? '',
      }));
    } catch (error) {
      this.logger.warn(
        { err: error, producer: slot.id },
        'send to Kafka failed; replacing the producer',
      );
      this.retire(slot, attempt);
      if (error instanceof SendTimeoutError) await this.outlast(attempt, slot.id);
      throw error;
    }
  }

  private async outlast(attempt: Promise<unknown>, producer: number): Promise<void> {
    const guardMs = this.options.sendTimeoutMs * LATE_WRITE_GUARD_FACTOR;
    const ended = await Promise.race([
      attempt.then(
        () => true,
        () => true,
      ),
      sleep(guardMs, false, { ref: false }),
    ]);
    if (!ended) {
      this.logger.error(
        { producer, guardMs },
        'kafkajs still retries a timed-out send; continuing (its records may land late)',
      );
    }
  }

  async disconnect(): Promise<void> {
    this.closed = true;
    this.slot = undefined;
    await Promise.all(
      [...this.slots].map((slot) =>
        slot.producer.disconnect().catch((error: unknown) => {
          this.logger.warn({ err: error, producer: slot.id }, 'producer disconnect failed');
        }),
      ),
    );
    this.slots.clear();
  }

  private current(): Slot {
    if (this.slot && !this.slot.retired) return this.slot;
    const id = this.nextId;
    this.nextId += 1;
    const producer = this.options.kafka.producer({
      idempotent: true,
      // Also what kafkajs' idempotent producer does per broker; stated so nobody raises it.
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: this.options.retry,
      // Records carry their partition; the partitioner is only there to silence kafkajs.
      createPartitioner: defaultPartitioner,
    });
    const slot: Slot = {
      id,
      producer,
      connected: false,
      retired: false,
      ready: producer.connect().then(() => {
        slot.connected = !slot.retired;
        if (!slot.connected) return;
        this.everConnected = true;
        this.logger.info({ producer: id }, 'Kafka producer connected');
      }),
    };
    slot.ready.catch((error: unknown) => {
      this.logger.warn({ err: error, producer: id }, 'Kafka producer could not connect');
      this.retire(slot, Promise.resolve());
    });
    this.slot = slot;
    this.slots.add(slot);
    return slot;
  }

  /** Takes a producer out of service; it disconnects once its last send has ended. */
  private retire(slot: Slot, pending: Promise<unknown>): void {
    if (slot.retired) return;
    slot.retired = true;
    slot.connected = false;
    if (this.slot === slot) this.slot = undefined;
    void pending
      .catch(() => undefined)
      .then(() => slot.producer.disconnect())
      .catch((error: unknown) => {
        this.logger.debug({ err: error, producer: slot.id }, 'retired producer disconnect failed');
      })
      .finally(() => this.slots.delete(slot));
  }
}
