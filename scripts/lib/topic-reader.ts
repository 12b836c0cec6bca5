/**
 * Reading a topic back, independently of the services, with a throwaway consumer group that
 * starts at the beginning and commits nothing:
 *
 *   readTopic(topic, { brokers })          every record up to the log-end offsets of the moment
 *                                          it starts, so it ends by itself
 *   readAtLeast(topic, count, { brokers }) until `count` records arrived; everything received by
 *                                          the time it disconnects (more: duplicates or extras)
 *
 * Both reject after `timeoutMs` saying how far they got.
 */
import { Kafka, type IHeaders, type KafkaConfig } from 'kafkajs';
import { silentLogCreator } from './kafka-log';

export interface TopicRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
  timestamp: string;
}

export interface ReaderOptions {
  brokers: readonly string[];
  /** Extra client settings (SASL, a clientId, a more patient retry). */
  client?: Partial<KafkaConfig>;
  /** Default 60 s for readTopic, 30 s for readAtLeast. */
  timeoutMs?: number;
  /** The consumer's wait for data per fetch (default 200 ms). */
  maxWaitTimeInMs?: number;
}

export interface TopicContents {
  topic: string;
  records: TopicRecord[];
  /** Log-end offset of each partition when reading started. */
  endOffsets: Map<number, string>;
}

function clientOf(options: ReaderOptions, clientId: string): Kafka {
  return new Kafka({
    clientId,
    logCreator: silentLogCreator,
    ...options.client,
    brokers: [...options.brokers],
  });
}

const throwawayGroup = (prefix: string) =>
  `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

/**
 * The one consuming loop: a fresh group from the beginning, every record handed to `take`
 * in partition order, until `done()` is true or the time is up (then `timedOut()` says why).
 */
async function consume(
  kafka: Kafka,
  topic: string,
  options: ReaderOptions & { timeoutMs: number; groupPrefix: string },
  take: (record: TopicRecord) => void,
  done: () => boolean,
  timedOut: () => string,
): Promise<void> {
  const consumer = kafka.consumer({
    groupId: throwawayGroup(options.groupPrefix),
    maxWaitTimeInMs: options.maxWaitTimeInMs ?? 200,
    maxBytesPerPartition: 4 * 1024 * 1024,
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(timedOut())), options.timeoutMs);
      if (done()) resolve();
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            for (const message of batch.messages) {
              take({
                topic: batch.topic,
                partition: batch.partition,
                offset: message.offset,
                key: message.key ?? null,
                value: message.value ?? null,
                headers: message.headers ?? {},
                timestamp: message.timestamp,
              });
            }
            if (done()) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
}

/** Every record of `topic` below the log-end offsets it has when the call starts. */
export async function readTopic(topic: string, options: ReaderOptions): Promise<TopicContents> {
  const kafka = clientOf(options, 'topic-reader');
  const admin = kafka.admin();
  await admin.connect();
  let ends: Array<{ partition: number; high: string; low: string }>;
  try {
    ends = await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  const endOffsets = new Map(ends.map((e) => [e.partition, e.high]));
  const remaining = new Set(
    ends.filter((e) => BigInt(e.high) > BigInt(e.low)).map((e) => e.partition),
  );
  const records: TopicRecord[] = [];
  if (remaining.size === 0) return { topic, records, endOffsets };
  const timeoutMs = options.timeoutMs ?? 60_000;
  await consume(
    kafka,
    topic,
    { ...options, timeoutMs, groupPrefix: 'topic-reader' },
    (record) => {
      const end = BigInt(endOffsets.get(record.partition) ?? '0');
      if (BigInt(record.offset) >= end) return;
      records.push(record);
      if (BigInt(record.offset) + 1n >= end) remaining.delete(record.partition);
    },
    () => remaining.size === 0,
    () =>
      `readTopic(${topic}): partitions ${[...remaining].join(', ')} not read to their end in ${timeoutMs} ms (${records.length} records)`,
  );
  return { topic, records, endOffsets };
}

/**
 * Reads `topic` from the beginning until at least `count` records arrived. Returns every
 * record received, in arrival order, including those that came while disconnecting.
 */
export async function readAtLeast(
  topic: string,
  count: number,
  options: ReaderOptions,
): Promise<TopicRecord[]> {
  const records: TopicRecord[] = [];
  const timeoutMs = options.timeoutMs ?? 30_000;
  await consume(
    clientOf(options, 'topic-reader'),
    topic,
    { ...options, timeoutMs, groupPrefix: 'test-reader' },
    (record) => records.push(record),
    () => records.length >= count,
    () => `readAtLeast(${topic}): ${records.length} of ${count} messages after ${timeoutMs} ms`,
  );
  return records;
}
