/**
 * 2. Raw kafkajs, the client's limit (bench/workers/raw-kafkajs.ts in its own process): the
 * producer our API is built on, fed batches as large as our batcher makes; an eachBatch
 * consumer that does nothing; and one that parses each value as our default handler does.
 */
import { consumerSpec, producerSpec } from '../../services/common/config';
import { recordBytes } from '../../services/producer/kafka/placement';
import { PARTITIONS, withTopic } from '../lib/kafka';
import { benchValueText, VALUE_BYTES } from '../lib/payload';
import type { Context, Measurement, Scenario } from '../lib/scenario';
import { runWorker } from '../lib/worker';
import type { RawConsumerConfig, RawProducerConfig, RawResult } from '../lib/raw-client';

/** Messages per Kafka request our batcher builds at most, with its default limits. */
export function ourBatchMessages(valueBytes = VALUE_BYTES): number {
  const maxMessages = producerSpec.BATCH_MAX_MESSAGES.defaultValue ?? 2000;
  const maxBytes = producerSpec.BATCH_MAX_BYTES.defaultValue ?? 1_048_576;
  return Math.max(
    1,
    Math.min(
      maxMessages,
      Math.floor(maxBytes / recordBytes(null, benchValueText(0, 0, valueBytes), undefined)),
    ),
  );
}

/** Partitions our consumer handles side by side by default. */
export function ourConsumerConcurrency(): number {
  return consumerSpec.PARTITIONS_CONSUMED_CONCURRENTLY.defaultValue ?? 1;
}

export const rawProducer: Scenario = {
  id: 'raw-producer',
  ref: '2a',
  title: `raw kafkajs producer (idempotent, acks=all, batches of ${ourBatchMessages()})`,
  group: 'raw',
  primary: 'msgsPerSec',
  better: 'higher',
  ratios: [{ label: "raw kafkajs ÷ Kafka's tool", over: 'kafka-producer-perf' }],
  run: (ctx) =>
    runRawProducer(ctx, 'raw-producer', VALUE_BYTES, {
      warmup: ctx.profile.rawProducer.warmup,
      messages: ctx.profile.rawProducer.messages,
    }),
};

/** The client a raw row runs on, each in its own worker (bench/workers/raw-*.ts). */
export type RawClient = 'raw-kafkajs' | 'raw-platformatic';

/** A raw client producing `valueBytes` values in batches as large as our batcher's. */
export async function runRawProducer(
  ctx: Context,
  id: string,
  valueBytes: number,
  counts: { warmup: number; messages: number },
  client: RawClient = 'raw-kafkajs',
): Promise<Measurement> {
  return withTopic(ctx.brokers, ctx.unique(id), async (topic) => {
    const config: RawProducerConfig = {
      kind: 'producer',
      brokers: ctx.brokers,
      topic,
      partitions: PARTITIONS,
      batchMessages: ourBatchMessages(valueBytes),
      valueBytes,
      chunk: 100,
      warmupMessages: counts.warmup,
      messages: counts.messages,
    };
    const result = await runWorker<RawResult>(`${id}-${ctx.round}`, client, config);
    return {
      figures: {
        msgsPerSec: result.messagesPerSec,
        mbPerSec: (result.messagesPerSec * valueBytes) / 1e6,
        sendP50Ms: result.sendMs?.p50,
        sendP99Ms: result.sendMs?.p99,
        cpuUsPerMsg: (result.cpuSec * 1e6) / result.messages,
        batchMean: config.batchMessages,
      },
    };
  });
}

function rawConsumerScenario(parseJson: boolean): Scenario {
  const id = parseJson ? 'raw-consumer-json' : 'raw-consumer';
  const what = parseJson ? 'eachBatch that JSON.parses each value' : 'eachBatch no-op';
  return {
    id,
    ref: parseJson ? '2c' : '2b',
    title: `raw kafkajs ${what} consumer (${ourConsumerConcurrency()} partitions at once)`,
    group: 'raw',
    primary: 'msgsPerSec',
    better: 'higher',
    ratios: [{ label: "raw kafkajs ÷ Kafka's tool", over: 'kafka-consumer-perf' }],
    run: (ctx) => runRawConsumer(ctx, id, parseJson, ourConsumerConcurrency()),
  };
}

/** A raw client reading the prefilled topic (kafkajs: `concurrently` partitions at once). */
export async function runRawConsumer(
  ctx: Context,
  id: string,
  parseJson: boolean,
  concurrently: number,
  client: RawClient = 'raw-kafkajs',
): Promise<Measurement> {
  const config: RawConsumerConfig = {
    kind: 'consumer',
    brokers: ctx.brokers,
    topic: ctx.prefilledTopic,
    groupId: ctx.unique(id),
    partitionsConsumedConcurrently: concurrently,
    parseJson,
    warmupMessages: ctx.profile.consume.warmup,
    messages: ctx.profile.consume.messages,
    timeoutMs: 240_000,
  };
  const result = await runWorker<RawResult>(`${id}-${ctx.round}`, client, config);
  return {
    figures: {
      msgsPerSec: result.messagesPerSec,
      cpuUsPerMsg: (result.cpuSec * 1e6) / result.messages,
    },
  };
}

/**
 * 2d–2f. The same work on @platformatic/kafka: what another pure-JavaScript client costs,
 * beside kafkajs (which the services use).
 */
export const platformaticProducer: Scenario = {
  id: 'platformatic-producer',
  ref: '2d',
  title: `raw @platformatic/kafka producer (idempotent, acks=all, batches of ${ourBatchMessages()})`,
  group: 'raw',
  primary: 'msgsPerSec',
  better: 'higher',
  ratios: [
    { label: '÷ raw kafkajs', over: 'raw-producer' },
    { label: 'CPU per message ÷ raw kafkajs', over: 'raw-producer', field: 'cpuUsPerMsg' },
  ],
  run: (ctx) =>
    runRawProducer(
      ctx,
      'platformatic-producer',
      VALUE_BYTES,
      { warmup: ctx.profile.rawProducer.warmup, messages: ctx.profile.rawProducer.messages },
      'raw-platformatic',
    ),
};

function platformaticConsumerScenario(parseJson: boolean): Scenario {
  const id = parseJson ? 'platformatic-consumer-json' : 'platformatic-consumer';
  const over = parseJson ? 'raw-consumer-json' : 'raw-consumer';
  return {
    id,
    ref: parseJson ? '2f' : '2e',
    title: `raw @platformatic/kafka consumer, ${parseJson ? 'JSON.parse of each value' : 'no-op'} (a message stream)`,
    group: 'raw',
    primary: 'msgsPerSec',
    better: 'higher',
    ratios: [
      { label: `÷ ${over}`, over },
      { label: `CPU per message ÷ ${over}`, over, field: 'cpuUsPerMsg' },
    ],
    run: (ctx) => runRawConsumer(ctx, id, parseJson, 1, 'raw-platformatic'),
  };
}

export const platformaticConsumer = platformaticConsumerScenario(false);
export const platformaticConsumerJson = platformaticConsumerScenario(true);

export const rawConsumer = rawConsumerScenario(false);

/** The default handler's own work (JSON.parse) on raw kafkajs: what is left is ours. */
export const rawConsumerJson = rawConsumerScenario(true);
