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
 * the batcher sends nothing else for those partitions meanwhile, so a late retry of those
 * records cannot land after newer records of the same key.
 *
 * Each leader broker's sends go through a producer of their own (kafkajs gives each its own
 * connections and metadata), so replacing the producer of a broker that stopped answering
 * does not cut off the sends to the others.
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

/** The producer for sends without a known leader, and the one connect() starts. */
const DEFAULT_SLOT = 'any';

export class SendTimeoutError extends Error {
  constructor(ms: number) {
    super(`Kafka did not answer within ${ms} ms`);
    this.name = 'SendTimeoutError';
  }
}

interface Slot {
  readonly id: number;
  /** The leader broker whose sends it carries, or DEFAULT_SLOT. */
  readonly key: string;
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
  /** The producer in service for each leader broker. */
  private readonly current = new Map<string, Slot>();
  /** Every producer not yet disconnected, retired ones included. */
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

  /** True when a producer in service has connected (and has its producer id). */
  get connected(): boolean {
    return [...this.current.values()].some((slot) => slot.connected);
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
    return this.slotFor(DEFAULT_SLOT).ready.catch(() => undefined);
  }

  /** Sends one request; `leader` is the broker leading all of its partitions, if known. */
  async send(batches: TopicBatch[], leader?: number): Promise<PartitionAck[]> {
    if (this.closed) throw new Error('the Kafka producer is closed');
    const slot = this.slotFor(leader === undefined ? DEFAULT_SLOT : `broker-${leader}`);
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
        { err: error, producer: slot.id, leader },
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
    this.current.clear();
    await Promise.all(
      [...this.slots].map((slot) =>
        slot.producer.disconnect().catch((error: unknown) => {
          this.logger.warn({ err: error, producer: slot.id }, 'producer disconnect failed');
        }),
      ),
    );
    this.slots.clear();
  }

  private slotFor(key: string): Slot {
    const existing = this.current.get(key);
    if (existing && !existing.retired) return existing;
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
      key,
      producer,
      connected: false,
      retired: false,
      ready: producer.connect().then(() => {
        slot.connected = !slot.retired;
        if (!slot.connected) return;
        this.everConnected = true;
        this.logger.info({ producer: id, for: key }, 'Kafka producer connected');
      }),
    };
    slot.ready.catch((error: unknown) => {
      this.logger.warn({ err: error, producer: id }, 'Kafka producer could not connect');
      this.retire(slot, Promise.resolve());
    });
    this.current.set(key, slot);
    this.slots.add(slot);
    return slot;
  }

  /** Takes a producer out of service; it disconnects once its last send has ended. */
  private retire(slot: Slot, pending: Promise<unknown>): void {
    if (slot.retired) return;
    slot.retired = true;
    slot.connected = false;
    if (this.current.get(slot.key) === slot) this.current.delete(slot.key);
    void pending
      .catch(() => undefined)
      .then(() => slot.producer.disconnect())
      .catch((error: unknown) => {
        this.logger.debug({ err: error, producer: slot.id }, 'retired producer disconnect failed');
      })
      .finally(() => this.slots.delete(slot));
  }
}
