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
import { serveWorker } from '../lib/serve-worker';

type Platformatic = typeof import('@platformatic/kafka');

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
  const send = (count: number) => {
    const messages = Array.from({ length: count }, () => ({
      topic: config.topic,
      value,
      partition: chunkedPartition(config, next++),
    }));
    return producer.send({ messages });
  };
  try {
    return await measureSends(config, send);
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
  // Summed from the parsed values so the parse cannot be optimized away.
  let parsed = 0;
  const stream = await consumer.consume({
    topics: [config.topic],
    mode: kafka.MessagesStreamModes.EARLIEST,
    autocommit: true,
  });
  try {
    const window = new MeasureWindow(config);
    stream.on('error', (error: unknown) => window.fail(error));
    stream.on('data', (message: { value?: Buffer }) => {
      if (config.parseJson) parsed += parsesToObject(message.value);
      window.add(1);
    });
    const measured = await window.measured;
    if (config.parseJson && parsed === 0) throw new Error('no value was parsed');
    return { ...measured, messagesPerSec: measured.messages / measured.seconds };
  } finally {
    await stream.close();
    await consumer.close();
  }
}

serveWorker(async (config: RawConfig) => {
  const kafka = await import('@platformatic/kafka');
  return config.kind === 'producer' ? produce(kafka, config) : consume(kafka, config);
});
