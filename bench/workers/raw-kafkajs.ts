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
import type { Message } from 'kafkajs';
import { IDEMPOTENT_PRODUCER_SETTINGS } from '../../services/common/safe-idempotent-writer';
import { rawKafka } from '../lib/kafka';
import {
  chunkedPartition,
  measureSends,
  MeasureWindow,
  parsesToObject,
  type RawConfig,
  type RawConsumerConfig,
  type RawProducerConfig,
  type RawResult,
} from '../lib/raw-client';
import { benchValueText } from '../lib/payload';
import { serveWorker } from '../lib/serve-worker';

async function produce(config: RawProducerConfig): Promise<RawResult> {
  const producer = rawKafka(config.brokers, 'bench-raw').producer(IDEMPOTENT_PRODUCER_SETTINGS);
  await producer.connect();
  const value = benchValueText(0, 0, config.valueBytes);
  let next = 0;
  const send = (count: number) => {
    const messages: Message[] = Array.from({ length: count }, () => ({
      value,
      partition: chunkedPartition(config, next++),
    }));
    return producer.sendBatch({ acks: -1, topicMessages: [{ topic: config.topic, messages }] });
  };
  try {
    await firstSendAccepted(() => send(config.batchMessages));
    return await measureSends(config, send);
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

async function consume(config: RawConsumerConfig): Promise<RawResult> {
  const consumer = rawKafka(config.brokers, 'bench-raw').consumer({
    groupId: config.groupId,
    allowAutoTopicCreation: false,
  });
  // Summed from the parsed values so the parse cannot be optimized away.
  let parsed = 0;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [config.topic], fromBeginning: true });
    const window = new MeasureWindow(config);
    consumer
      .run({
        partitionsConsumedConcurrently: config.partitionsConsumedConcurrently,
        eachBatch: async ({ batch }) => {
          if (config.parseJson) {
            for (const message of batch.messages) parsed += parsesToObject(message.value);
          }
          window.add(batch.messages.length);
        },
      })
      .catch((error: unknown) => window.fail(error));
    const measured = await window.measured;
    if (config.parseJson && parsed === 0) throw new Error('no value was parsed');
    return { ...measured, messagesPerSec: measured.messages / measured.seconds };
  } finally {
    await consumer.disconnect();
  }
}

serveWorker((config: RawConfig) =>
  config.kind === 'producer' ? produce(config) : consume(config),
);
