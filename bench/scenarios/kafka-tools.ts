/**
 * 1. Kafka's own limit: org.apache.kafka.tools.ProducerPerformance and ConsumerPerformance
 * from the jars the harness runs the broker with (Java client defaults, acks=all).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTopics, withTopic } from '../lib/kafka';
import { parseConsumerPerf, parseProducerPerf, runJava } from '../lib/java';
import { benchValueText, VALUE_BYTES } from '../lib/payload';
import { getLogDir } from '../../scripts/lib/processes';
import type { Context, Scenario } from '../lib/scenario';

const PRODUCER_PERF = 'org.apache.kafka.tools.ProducerPerformance';
const CONSUMER_PERF = 'org.apache.kafka.tools.ConsumerPerformance';

export const kafkaProducerPerf: Scenario = {
  id: 'kafka-producer-perf',
  ref: '1a',
  title: "Kafka's ProducerPerformance (Java client, acks=all)",
  group: 'kafka-tools',
  primary: 'msgsPerSec',
  better: 'higher',
  async run(ctx) {
    const { warmup, messages } = ctx.profile.toolProducer;
    return withTopic(ctx.brokers, ctx.unique('tool-produce'), async (topic) => {
      const output = await runJava(
        `kafka-producer-perf-${ctx.round}`,
        ctx.kafkaLibs,
        PRODUCER_PERF,
        [
          '--bootstrap-server',
          ctx.brokers.join(','),
          '--topic',
          topic,
          '--num-records',
          String(warmup + messages),
          '--warmup-records',
          String(warmup),
          '--record-size',
          String(VALUE_BYTES),
          '--throughput',
          '-1',
          '--command-property',
          'acks=all',
        ],
        300_000,
      );
      const result = parseProducerPerf(output);
      return {
        figures: {
          msgsPerSec: result.recordsPerSec,
          mbPerSec: result.mbPerSec,
          p50Ms: result.p50Ms,
          p99Ms: result.p99Ms,
          p999Ms: result.p999Ms,
        },
      };
    });
  },
};

export const kafkaConsumerPerf: Scenario = {
  id: 'kafka-consumer-perf',
  ref: '1b',
  title: "Kafka's ConsumerPerformance (Java client, fetch time only)",
  group: 'kafka-tools',
  primary: 'msgsPerSec',
  better: 'higher',
  async run(ctx) {
    const { warmup, messages } = ctx.profile.consume;
    const output = await runJava(
      `kafka-consumer-perf-${ctx.round}`,
      ctx.kafkaLibs,
      CONSUMER_PERF,
      [
        '--bootstrap-server',
        ctx.brokers.join(','),
        '--topic',
        ctx.prefilledTopic,
        '--group',
        ctx.unique('tool-consumer'),
        '--num-records',
        String(warmup + messages),
        '--timeout',
        '60000',
      ],
      300_000,
    );
    const result = parseConsumerPerf(output);
    return {
      figures: { msgsPerSec: result.fetchMessagesPerSec, groupJoinMs: result.rebalanceMs },
    };
  },
};

/**
 * Fills the topic the consumer scenarios read: `count` JSON values of 1 KiB (valid for our
 * consumer's default handler), written by ProducerPerformance from a payload file, in
 * batches about as large as our API's per partition (batch.size 128 KiB, linger 10 ms).
 */
export async function prefill(
  ctx: Pick<Context, 'brokers' | 'kafkaLibs'>,
  topic: string,
  count: number,
): Promise<void> {
  const payloads = join(getLogDir(), 'prefill-payloads.jsonl');
  writeFileSync(payloads, Array.from({ length: 1000 }, (_, seq) => benchValueText(seq)).join('\n'));
  await createTopics(ctx.brokers, [topic]);
  await runJava(
    'prefill',
    ctx.kafkaLibs,
    PRODUCER_PERF,
    [
      '--bootstrap-server',
      ctx.brokers.join(','),
      '--topic',
      topic,
      '--num-records',
      String(count),
      '--payload-file',
      payloads,
      '--throughput',
      '-1',
      '--command-property',
      'acks=all',
      'batch.size=131072',
      'linger.ms=10',
    ],
    600_000,
  );
}
