/**
 * @platformatic/kafka on its own, in its own process (forked by bench/scenarios/raw.ts): what
 * another pure-JavaScript client costs for the work of the raw kafkajs rows, so a reader sees
 * how much of our cost is the client's. The services keep kafkajs.
 *
 * Same settings and shapes as bench/workers/raw-kafkajs.ts: the producer idempotent with
 * acks=all, batches as large as our batcher builds, keyless runs of `chunk` per partition; the
 * consumer a fresh group from the earliest offset, committing as it goes, with or without a
 * JSON.parse of each value. The package is ESM (and needs Node 22 or later, which the bench
 * runs on): it is loaded with import().
 */
import { benchValueText } from '../lib/payload';
import { cpuSeconds } from '../lib/stats';
import type { RawConsumerConfig, RawProducerConfig, RawResult } from './raw-kafkajs';

type Platformatic = typeof import('@platformatic/kafka');
type Config = RawProducerConfig | RawConsumerConfig;

const CLIENT_ID = 'bench-raw-platformatic';

async function produce(kafka: Platformatic, config: RawProducerConfig): Promise<RawResult> {
  const producer = new kafka.Producer({
    clientId: CLIENT_ID,
    bootstrapBrokers: config.brokers,
    idempotent: true,
    acks: kafka.ProduceAcks.ALL,
    autocreateTopics: false,
    serializers: kafka.stringSerializers,
  });
  const value = benchValueText(0, 0, config.valueBytes);
  let next = 0;
  const batch = (count: number) =>
    Array.from({ length: count }, () => {
      const partition = Math.floor(next / config.chunk) % config.partitions;
      next += 1;
      return { topic: config.topic, value, partition };
    });
  const sendUntil = async (total: number, times?: number[]) => {
    for (let sent = 0; sent < total;) {
      const messages = batch(Math.min(config.batchMessages, total - sent));
      const started = performance.now();
      await producer.send({ messages });
      times?.push(performance.now() - started);
      sent += messages.length;
    }
  };
  try {
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
    await producer.close();
  }
}

async function consume(kafka: Platformatic, config: RawConsumerConfig): Promise<RawResult> {
  const consumer = new kafka.Consumer({
    clientId: CLIENT_ID,
    bootstrapBrokers: config.brokers,
    groupId: config.groupId,
  });
  const target = config.warmupMessages + config.messages;
  let count = 0;
  // Summed from the parsed values so the parse cannot be optimized away.
  let parsed = 0;
  let startedAt: number | undefined;
  let countAtStart = 0;
  let cpuBefore: NodeJS.CpuUsage | undefined;
  const stream = await consumer.consume({
    topics: [config.topic],
    mode: kafka.MessagesStreamModes.EARLIEST,
    autocommit: true,
  });
  try {
    const measured = await new Promise<{ messages: number; seconds: number; cpuSec: number }>(
      (resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${count} of ${target} messages after ${config.timeoutMs} ms`)),
          config.timeoutMs,
        );
        stream.on('error', reject);
        stream.on('data', (message: { value?: Buffer }) => {
          if (config.parseJson && message.value) {
            const value: unknown = JSON.parse(message.value.toString('utf8'));
            if (typeof value === 'object' && value !== null) parsed += 1;
          }
          count += 1;
          if (count === config.warmupMessages) {
            startedAt = performance.now();
            cpuBefore = process.cpuUsage();
            countAtStart = count;
          }
          if (count === target && startedAt !== undefined) {
            clearTimeout(timer);
            resolve({
              messages: count - countAtStart,
              seconds: (performance.now() - startedAt) / 1000,
              cpuSec: cpuSeconds(process.cpuUsage(cpuBefore)),
            });
          }
        });
      },
    );
    if (config.parseJson && parsed === 0) throw new Error('no value was parsed');
    return { ...measured, messagesPerSec: measured.messages / measured.seconds };
  } finally {
    await stream.close();
    await consumer.close();
  }
}

process.once('message', (config: Config) => {
  const work = import('@platformatic/kafka').then((kafka) =>
    config.kind === 'producer' ? produce(kafka, config) : consume(kafka, config),
  );
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
