/**
 * The Kafka leg of the end-to-end scenario without our services (forked twice by
 * bench/scenarios/e2e.ts): what kafkajs and this machine's broker give at the same rate, so a
 * reader sees which part of row 6's latency is ours.
 *
 * - paced-producer: builds `rate` messages a second, each stamped with the time it was built,
 *   and sends what is waiting as one sendBatch whenever no send is in flight (how our batcher
 *   coalesces, without HTTP); idempotent, acks=all, one request in flight, as our API.
 * - latency-consumer: a fresh group from the earliest offset with our consumer's settings
 *   (partitions at once, heartbeat, fetch wait, commits when the interval has passed); notes for every message how
 *   long ago it was built, after a JSON.parse of its value (the work of our default handler).
 */
import type { Message } from 'kafkajs';
import { IDEMPOTENT_PRODUCER_SETTINGS } from '../../services/common/safe-idempotent-writer';
import { consumerSettings } from '../../services/consumer/kafkajs-runner';
import { rawKafka } from '../lib/kafka';
import { benchValueText, nowMs } from '../lib/payload';
import { paceAt } from '../lib/pace';
import { serveWorker } from '../lib/serve-worker';
import { percentile } from '../lib/stats';

export interface PacedProducerConfig {
  kind: 'paced-producer';
  brokers: string[];
  topic: string;
  partitions: number;
  rate: number;
  seconds: number;
}

export interface LatencyConsumerConfig {
  kind: 'latency-consumer';
  brokers: string[];
  topic: string;
  groupId: string;
  partitionsConsumedConcurrently: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  commitIntervalMs: number;
  /** Messages the producer sends (seq 0 to total - 1). */
  total: number;
  /** The first seq after the warm-up. */
  firstMeasured: number;
  timeoutMs: number;
}

export interface PacedProducerResult {
  sent: number;
  sends: number;
}

export interface LatencyResult {
  measured: number;
  duplicates: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** From the record's timestamp (set by kafkajs when it built the request) to the handler. */
  kafkaLegP50Ms: number;
  kafkaLegP99Ms: number;
}

async function producePaced(config: PacedProducerConfig): Promise<PacedProducerResult> {
  const producer = rawKafka(config.brokers, 'bench-raw-e2e').producer(IDEMPOTENT_PRODUCER_SETTINGS);
  await producer.connect();
  const total = Math.round(config.rate * config.seconds);
  let built = 0;
  let sends = 0;
  let waiting: Message[] = [];
  let inFlight: Promise<void> | undefined;
  let failed: unknown;
  const flush = () => {
    if (inFlight || waiting.length === 0) return;
    const messages = waiting;
    waiting = [];
    sends += 1;
    inFlight = producer
      .sendBatch({ acks: -1, topicMessages: [{ topic: config.topic, messages }] })
      .then(
        () => undefined,
        (error: unknown) => {
          failed ??= error;
        },
      )
      .finally(() => {
        inFlight = undefined;
        flush();
      });
  };
  try {
    built = await paceAt(
      config.rate,
      total,
      (seq) =>
        waiting.push({ value: benchValueText(seq, nowMs()), partition: seq % config.partitions }),
      { afterTick: flush, stopped: () => failed !== undefined },
    );
    while ((inFlight || waiting.length > 0) && failed === undefined) {
      flush();
      await inFlight;
    }
    if (failed !== undefined) throw failed;
    return { sent: built, sends };
  } finally {
    await producer.disconnect();
  }
}

async function consumeLatency(config: LatencyConsumerConfig): Promise<LatencyResult> {
  const consumer = rawKafka(config.brokers, 'bench-raw-e2e').consumer(
    consumerSettings(config.groupId, config.sessionTimeoutMs, config.heartbeatIntervalMs),
  );
  const latencyBySeq = new Float64Array(config.total).fill(Number.NaN);
  const kafkaLegBySeq = new Float64Array(config.total).fill(Number.NaN);
  let seen = 0;
  let duplicates = 0;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [config.topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${seen} of ${config.total} messages after ${config.timeoutMs} ms`)),
        config.timeoutMs,
      );
      consumer
        .run({
          partitionsConsumedConcurrently: config.partitionsConsumedConcurrently,
          // Our consumer's commit policy: when the interval has passed, checked after a batch.
          autoCommit: false,
          autoCommitInterval: config.commitIntervalMs,
          eachBatch: async ({ batch, commitOffsetsIfNecessary }) => {
            for (const message of batch.messages) {
              if (message.value === null) continue;
              const arrived = nowMs();
              const { seq, sentAt } = JSON.parse(message.value.toString('utf8')) as {
                seq: number;
                sentAt: number;
              };
              if (!Number.isNaN(latencyBySeq[seq] ?? 0)) {
                duplicates += 1;
                continue;
              }
              latencyBySeq[seq] = arrived - sentAt;
              kafkaLegBySeq[seq] = arrived - Number(message.timestamp);
              seen += 1;
            }
            await commitOffsetsIfNecessary();
            if (seen === config.total) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  const sorted = (bySeq: Float64Array) =>
    Array.from(bySeq.subarray(config.firstMeasured)).sort((a, b) => a - b);
  const measured = sorted(latencyBySeq);
  const kafkaLegs = sorted(kafkaLegBySeq);
  return {
    measured: measured.length,
    duplicates,
    p50Ms: percentile(measured, 50) ?? Number.NaN,
    p99Ms: percentile(measured, 99) ?? Number.NaN,
    maxMs: measured.at(-1) ?? Number.NaN,
    kafkaLegP50Ms: percentile(kafkaLegs, 50) ?? Number.NaN,
    kafkaLegP99Ms: percentile(kafkaLegs, 99) ?? Number.NaN,
  };
}

serveWorker(
  (
    config: PacedProducerConfig | LatencyConsumerConfig,
  ): Promise<PacedProducerResult | LatencyResult> =>
    config.kind === 'paced-producer' ? producePaced(config) : consumeLatency(config),
);
