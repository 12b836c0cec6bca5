/**
 * kafkajs on its own, in its own process (forked by bench/scenarios/raw.ts): the client's
 * limit, with nothing of ours around it.
 *
 * - producer: the same producer settings as our API (idempotent, acks=all, one request in
 *   flight) sending batches as large as our batcher builds, back to back; keyless messages
 *   in runs of `chunk` per partition, as our API places a keyless request's messages.
 * - consumer: a fresh group reading the topic from the beginning with an eachBatch handler
 *   that does nothing (kafkajs resolves and commits the offsets), as many partitions at once
 *   as our consumer handles; with `parseJson`, the handler parses every value as JSON, the
 *   work our default handler must do, and nothing else.
 */
import { Kafka, logLevel, Partitioners, type Message } from 'kafkajs';
import { benchValueText } from '../lib/payload';
import { cpuSeconds } from '../lib/stats';

export interface RawProducerConfig {
  kind: 'producer';
  brokers: string[];
  topic: string;
  partitions: number;
  batchMessages: number;
  valueBytes: number;
  /** Consecutive messages sent to one partition before moving to the next. */
  chunk: number;
  warmupMessages: number;
  messages: number;
}

export interface RawConsumerConfig {
  kind: 'consumer';
  brokers: string[];
  topic: string;
  groupId: string;
  partitionsConsumedConcurrently: number;
  parseJson: boolean;
  warmupMessages: number;
  messages: number;
  timeoutMs: number;
}

export interface RawResult {
  messages: number;
  seconds: number;
  messagesPerSec: number;
  /** CPU time (user + system) of this process in the measured part. */
  cpuSec: number;
  /** Producer: time of one sendBatch (ms). */
  sendMs?: { p50: number; p99: number };
}

type Config = RawProducerConfig | RawConsumerConfig;

function client(brokers: string[]): Kafka {
  return new Kafka({ clientId: 'bench-raw', brokers, logLevel: logLevel.NOTHING });
}

async function produce(config: RawProducerConfig): Promise<RawResult> {
  const producer = client(config.brokers).producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const value = benchValueText(0, 0, config.valueBytes);
  let next = 0;
  const batch = (): Message[] =>
    Array.from({ length: config.batchMessages }, () => {
      const partition = Math.floor(next / config.chunk) % config.partitions;
      next += 1;
      return { value, partition };
    });
  const sendUntil = async (total: number, times?: number[]) => {
    for (let sent = 0; sent < total;) {
      const messages = batch().slice(0, total - sent);
      const started = performance.now();
      await producer.sendBatch({ acks: -1, topicMessages: [{ topic: config.topic, messages }] });
      times?.push(performance.now() - started);
      sent += messages.length;
    }
  };
  try {
    await firstSendAccepted(() =>
      producer.sendBatch({ acks: -1, topicMessages: [{ topic: config.topic, messages: batch() }] }),
    );
    await sendUntil(config.warmupMessages);
    const times: number[] = [];
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    await sendUntil(config.messages, times);
    const seconds = (performance.now() - started) / 1000;
    const cpuSec = cpuSeconds(process.cpuUsage(cpuBefore));
    times.sort((a, b) => a - b);
    const at = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? 0;
    return {
      messages: config.messages,
      seconds,
      messagesPerSec: config.messages / seconds,
      cpuSec,
      sendMs: { p50: at(0.5), p99: at(0.99) },
    };
  } finally {
    await producer.disconnect();
  }
}

/**
 * The topic was created just before, and every partition has a leader in the metadata; a
 * broker can still answer UNKNOWN_TOPIC_OR_PARTITION for a moment (on a loaded machine longer
 * than kafkajs' own retries last). Part of the warm-up, so the measured sends are not touched.
 */
async function firstSendAccepted(send: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await send();
      return;
    } catch (error) {
      // kafkajs gives up with KafkaJSNumberOfRetriesExceeded, itself not retriable.
      const { name, retriable } = error as { name?: unknown; retriable?: unknown };
      const worthRetrying = retriable === true || name === 'KafkaJSNumberOfRetriesExceeded';
      if (!worthRetrying || Date.now() > deadline) throw error;
      await new Promise((done) => setTimeout(done, 500));
    }
  }
}

/** 1 for a value that parses to an object, as the bench's values do. */
function parseValue(value: Buffer | null): number {
  if (value === null) return 0;
  const parsed: unknown = JSON.parse(value.toString('utf8'));
  return typeof parsed === 'object' && parsed !== null ? 1 : 0;
}

async function consume(config: RawConsumerConfig): Promise<RawResult> {
  const consumer = client(config.brokers).consumer({
    groupId: config.groupId,
    allowAutoTopicCreation: false,
  });
  const target = config.warmupMessages + config.messages;
  let count = 0;
  // Summed from the parsed values so the parse cannot be optimized away.
  let parsed = 0;
  let startedAt: number | undefined;
  let countAtStart = 0;
  let cpuBefore: NodeJS.CpuUsage | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [config.topic], fromBeginning: true });
    type Measured = { messages: number; seconds: number; cpuSec: number };
    const measured = await new Promise<Measured>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${count} of ${target} messages after ${config.timeoutMs} ms`)),
        config.timeoutMs,
      );
      consumer
        .run({
          partitionsConsumedConcurrently: config.partitionsConsumedConcurrently,
          eachBatch: async ({ batch }) => {
            if (config.parseJson) {
              for (const message of batch.messages) parsed += parseValue(message.value);
            }
            count += batch.messages.length;
            // Counted per batch: the window runs from the batch that crossed the warm-up
            // count to the one that reached the target, and counts what lies between.
            if (startedAt === undefined && count >= config.warmupMessages) {
              startedAt = performance.now();
              cpuBefore = process.cpuUsage();
              countAtStart = count;
            }
            if (count >= target && startedAt !== undefined) {
              clearTimeout(timer);
              if (count === countAtStart) {
                reject(
                  new Error(
                    'one fetch held both the warm-up and the measured messages: raise the count',
                  ),
                );
                return;
              }
              resolve({
                messages: count - countAtStart,
                seconds: (performance.now() - startedAt) / 1000,
                cpuSec: cpuSeconds(process.cpuUsage(cpuBefore)),
              });
            }
          },
        })
        .catch(reject);
    });
    if (config.parseJson && parsed === 0) throw new Error('no value was parsed');
    return { ...measured, messagesPerSec: measured.messages / measured.seconds };
  } finally {
    await consumer.disconnect();
  }
}

process.once('message', (config: Config) => {
  const work = config.kind === 'producer' ? produce(config) : consume(config);
  work
    .then((result) => process.send?.({ type: 'result', result }))
    .catch((error: unknown) =>
      process.send?.({
        type: 'error',
        message: error instanceof Error ? error.message : String(error),
      }),
    )
    .finally(() => process.disconnect?.());
});

process.on('disconnect', () => setTimeout(() => process.exit(0), 2_000).unref());
