/**
 * An idempotent kafkajs producer (acks as asked, one request in flight) that is safe to keep
 * sending through after a failure. Both services write to Kafka through it: the producer API
 * (one per leader broker) and the consumer's dead-letter path.
 *
 * kafkajs rolls an idempotent producer's sequence numbers back when a produce request fails
 * (`eosManager.updateSequence(topic, partition, -count)` in sendMessages.js), but the broker
 * may have written that request: its answer was lost or came after the request timeout.
 * Different records sent next with those sequence numbers are then taken by the broker for
 * duplicates of the stored ones (answered as written, and not written) or refused as out of
 * order. Two rules keep that from happening:
 *
 * - One send at a time. kafkajs retries a failed request inside the same send, with the same
 *   records and sequence numbers, which the broker deduplicates correctly; a second send
 *   interleaved between the rollback and that retry would take the sequence numbers. Sends
 *   made while one is in flight wait their turn, in order.
 * - After any failed send (kafkajs gave up, or the send outlived sendTimeoutMs) the producer is
 *   retired and the next send goes through a new one, with a new producer id, which cannot
 *   collide with anything written before. The retired one disconnects once its send ended.
 *
 * A send that outlives sendTimeoutMs rejects only when kafkajs has given up on it (bounded by
 * LATE_WRITE_GUARD_FACTOR): a caller that sends nothing else for those partitions meanwhile
 * knows a late retry of those records cannot land after newer ones. The next queued send
 * starts at once, through the new producer.
 */
import { withTimeout } from './deadline';
import {
  defaultPartitioner,
  type Kafka,
  type Producer,
  type ProducerConfig,
  type RecordMetadata,
  type RetryOptions,
} from './kafka';
import type { Logger } from './logger';

/**
 * Every producer's settings but its retries. The bench's raw kafkajs rows use them too, so
 * that the client's cost is measured as our services configure it.
 */
export const IDEMPOTENT_PRODUCER_SETTINGS: Readonly<ProducerConfig> = {
  idempotent: true,
  // Also what kafkajs' idempotent producer does per broker; stated so nobody raises it.
  maxInFlightRequests: 1,
  allowAutoTopicCreation: false,
  // Murmur2, as Java clients; records that carry their partition do not use it.
  createPartitioner: defaultPartitioner,
};

/** What one send carries: kafkajs' ProducerBatch (acks, ack timeout, compression, records). */
export type WriterBatch = Parameters<Producer['sendBatch']>[0];

export interface SafeIdempotentWriterOptions {
  kafka: Kafka;
  /** Its bindings (e.g. which leader broker the writer is for) are on every line it logs. */
  logger: Logger;
  /** kafkajs' retries inside one send. */
  retry: RetryOptions;
  /** Hard bound of one send, connection and retries included (time in the queue excluded). */
  sendTimeoutMs: number;
}

const LATE_WRITE_GUARD_FACTOR = 5;

export class SendTimeoutError extends Error {
  constructor(ms: number) {
    super(`Kafka did not answer within ${ms} ms`);
    this.name = 'SendTimeoutError';
  }
}

export class WriterClosedError extends Error {
  constructor() {
    super('the Kafka producer is closed');
    this.name = 'WriterClosedError';
  }
}

/**
 * kafkajs retries that fit in one send of `sendTimeoutMs`: about one a second, at least two
 * (kafkajs warns that limited retries weaken idempotence; replacing the producer after a
 * failed send is what keeps that from mattering).
 */
export function retriesWithin(sendTimeoutMs: number): RetryOptions {
  const retries = Math.min(60, Math.max(2, Math.ceil(sendTimeoutMs / 1000)));
  return { retries, initialRetryTime: 100, maxRetryTime: 1000, factor: 0.2, multiplier: 2 };
}

/** One kafkajs producer, from creation until it is retired. */
interface Generation {
  /** Numbers every producer of the process, so log lines tell them apart. */
  readonly id: number;
  readonly producer: Producer;
  readonly ready: Promise<void>;
  connected: boolean;
  retired: boolean;
}

interface QueuedSend {
  start(): void;
  reject(error: Error): void;
}

let producersCreated = 0;

export class SafeIdempotentWriter {
  /** The producer in service; undefined until the first send or after a failure. */
  private current: Generation | undefined;
  /** Every producer not yet disconnected, retired ones included. */
  private readonly generations = new Set<Generation>();
  private readonly queue: QueuedSend[] = [];
  private sending = false;
  private closed = false;
  private everConnected = false;

  constructor(private readonly options: SafeIdempotentWriterOptions) {}

  /** True when the producer in service has connected (and has its producer id). */
  get connected(): boolean {
    return this.current?.connected === true;
  }

  /** True once a producer of this writer has connected. */
  get hasConnected(): boolean {
    return this.everConnected;
  }

  /** Connects a producer unless one is connected or connecting; rejects if it cannot. */
  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new WriterClosedError());
    return this.inService().ready;
  }

  /** Sends one kafkajs batch when the sends before it have ended. */
  send(batch: WriterBatch): Promise<RecordMetadata[]> {
    if (this.closed) return Promise.reject(new WriterClosedError());
    if (!this.sending) return this.sendNow(batch);
    return new Promise<RecordMetadata[]>((resolve, reject) => {
      // start() returns nothing: the send settles this promise, its rejection included.
      this.queue.push({
        start: () => {
          this.sendNow(batch).then(resolve, reject);
        },
        reject,
      });
    });
  }

  async disconnect(): Promise<void> {
    this.closed = true;
    this.current = undefined;
    for (const queued of this.queue.splice(0)) queued.reject(new WriterClosedError());
    await Promise.all(
      [...this.generations].map((generation) =>
        generation.producer.disconnect().catch((error: unknown) => {
          this.options.logger.warn(
            { err: error, producer: generation.id },
            'producer disconnect failed',
          );
        }),
      ),
    );
    this.generations.clear();
  }

  private sendNow(batch: WriterBatch): Promise<RecordMetadata[]> {
    this.sending = true;
    const generation = this.inService();
    const attempt = generation.ready.then(() => generation.producer.sendBatch(batch));
    const { sendTimeoutMs } = this.options;
    return withTimeout(attempt, sendTimeoutMs, () => new SendTimeoutError(sendTimeoutMs)).then(
      (metadata) => {
        this.startNext();
        return metadata;
      },
      (error: unknown) => this.failed(generation, attempt, error),
    );
  }

  private async failed(
    generation: Generation,
    attempt: Promise<unknown>,
    error: unknown,
  ): Promise<never> {
    this.options.logger.warn(
      { err: error, producer: generation.id },
      'send to Kafka failed; replacing the producer',
    );
    this.retire(generation, attempt);
    // The next send goes through a new producer: nothing of this one's sequence can touch it.
    this.startNext();
    if (error instanceof SendTimeoutError) await this.outlast(attempt, generation.id);
    throw error;
  }

  private startNext(): void {
    const next = this.queue.shift();
    if (next && !this.closed) next.start();
    else this.sending = false;
  }

  private async outlast(attempt: Promise<unknown>, producer: number): Promise<void> {
    const guardMs = this.options.sendTimeoutMs * LATE_WRITE_GUARD_FACTOR;
    const ended = await withTimeout(
      attempt.then(
        () => true,
        () => true,
      ),
      guardMs,
      'late-write guard',
    ).catch(() => false);
    if (!ended) {
      this.options.logger.error(
        { producer, guardMs },
        'kafkajs still retries a timed-out send; continuing (its records may land late)',
      );
    }
  }

  private inService(): Generation {
    const existing = this.current;
    if (existing && !existing.retired) return existing;
    producersCreated += 1;
    const id = producersCreated;
    const { kafka, logger, retry } = this.options;
    const producer = kafka.producer({ ...IDEMPOTENT_PRODUCER_SETTINGS, retry });
    const generation: Generation = {
      id,
      producer,
      connected: false,
      retired: false,
      ready: producer.connect().then(() => {
        generation.connected = !generation.retired;
        if (!generation.connected) return;
        this.everConnected = true;
        logger.info({ producer: id }, 'Kafka producer connected');
      }),
    };
    generation.ready.catch((error: unknown) => {
      logger.warn({ err: error, producer: id }, 'Kafka producer could not connect');
      this.retire(generation, Promise.resolve());
    });
    this.current = generation;
    this.generations.add(generation);
    return generation;
  }

  /** Takes a producer out of service; it disconnects once its last send has ended. */
  private retire(generation: Generation, pending: Promise<unknown>): void {
    if (generation.retired) return;
    generation.retired = true;
    generation.connected = false;
    if (this.current === generation) this.current = undefined;
    void pending
      .catch(() => undefined)
      .then(() => generation.producer.disconnect())
      .catch((error: unknown) => {
        this.options.logger.debug(
          { err: error, producer: generation.id },
          'retired producer disconnect failed',
        );
      })
      .finally(() => this.generations.delete(generation));
  }
}
