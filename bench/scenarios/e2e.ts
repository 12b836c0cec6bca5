/**
 * 6. End to end at a fixed rate: 1,000 messages/s (one per request, spread evenly by
 * bench/workers/paced-load.ts) through our API into a 6-partition topic, read by our
 * consumer. Latency from the moment the load generator built the HTTP request (a timestamp in
 * the value) to the consumer's handler (bench/e2e/latency-handler.ts), over the messages sent
 * after the warm-up; and its Kafka leg, from the record's timestamp (set by the producer's
 * kafkajs when it built the request, to the millisecond). The consumer's own
 * end_to_end_latency histogram (from the same timestamp; its first bucket ends at 5 ms) is
 * shown beside it.
 *
 * 6b. The same rate and topic shape through raw kafkajs alone (bench/workers/raw-e2e.ts): a
 * paced producer that coalesces as our batcher does, and an eachBatch consumer with our
 * consumer's settings. What is left of row 6's latency once HTTP and our services are gone.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PARTITIONS, withAdmin, withTopic } from '../lib/kafka';
import { failedRequests, startPacedLoad } from '../lib/load';
import { getLogDir } from '../../scripts/lib/processes';
import { histogramDelta, histogramOf, histogramQuantile, sumOf, type Sample } from '../lib/prom';
import type { Scenario } from '../lib/scenario';
import { latencyHandlerPath, startConsumer, startProducer } from '../lib/services';
import { percentile } from '../lib/stats';
import { startWorker } from '../lib/worker';
import { consumerSpec } from '../../services/common/config';
import { ourConsumerConcurrency } from './raw';
import type {
  LatencyConsumerConfig,
  LatencyResult,
  PacedProducerConfig,
  PacedProducerResult,
} from '../workers/raw-e2e';
import { DLQ_TOPIC } from './consumer';
import { waitFor } from '../../scripts/lib/poll';

const E2E_METRIC = 'event_pipeline_end_to_end_latency_seconds';
const API_DURATION_METRIC = 'event_pipeline_http_request_duration_seconds';

export const endToEnd: Scenario = {
  id: 'e2e',
  ref: '6',
  title: 'end to end at 1,000 msgs/s: HTTP request → consumer handler',
  group: 'e2e',
  primary: 'p99Ms',
  better: 'lower',
  ratios: [{ label: 'p99, ours ÷ raw kafkajs', over: 'raw-e2e' }],
  async run(ctx) {
    const { rate, warmupSec, durationSec } = ctx.profile.e2e;
    const topic = ctx.unique('e2e');
    const label = `e2e-${ctx.round}`;
    const latencyFile = join(getLogDir(), `${label}-latency.txt`);
    rmSync(latencyFile, { force: true });
    return withTopic(ctx.brokers, topic, async () => {
      const consumer = await startConsumer([topic], ctx.unique('e2e-group'), DLQ_TOPIC, {
        brokers: ctx.brokers,
        label: `consumer-${label}`,
        env: {
          HANDLER_MODULE: latencyHandlerPath(),
          BENCH_LATENCY_FILE: latencyFile,
        },
      });
      const producer = await startProducer([topic], {
        brokers: ctx.brokers,
        label: `producer-${label}`,
      });
      try {
        const load = startPacedLoad(label, {
          url: `${producer.apiUrl}/v1/topics/${topic}/messages`,
          headers: { 'content-type': 'application/json' },
          messagesPerRequest: 1,
          format: 'api',
          // As many connections as the single-message rows; at this rate most stay idle.
          connections: 64,
          durationSec: warmupSec + durationSec,
          warmupSec,
          rate,
        });
        await sleep(warmupSec * 1000);
        const before: Sample[] = await consumer.metrics();
        const apiBefore: Sample[] = await producer.metrics();
        const result = await load;
        const acked = result.statusCodes['200'] ?? 0;
        if (acked === 0) {
          throw new Error(
            `no request was acknowledged (${failedRequests(result)} failed); producer log ${producer.proc.logFile}:\n${producer.proc.tail(5)}`,
          );
        }
        await waitFor(
          'the consumer to handle every acknowledged message',
          async () => {
            const n = sumOf(await consumer.metrics(), 'event_pipeline_consumed_messages_total', {
              topic,
              result: 'processed',
            });
            return n !== undefined && n >= acked ? n : undefined;
          },
          { timeoutMs: 60_000, intervalMs: 200, retryErrors: true },
        );
        const after = await consumer.metrics();
        const apiAfter = await producer.metrics();
        await sleep(400); // the handler's file is appended every 200 ms
        const firstMeasured = rate * warmupSec;
        const seen = new Set<number>();
        let duplicates = 0;
        const latencies: number[] = [];
        const kafkaLegs: number[] = [];
        for (const line of readFileSync(latencyFile, 'utf8').split('\n')) {
          const [seq, ms, kafkaLeg] = line.split(' ').map(Number);
          if (seq === undefined || ms === undefined || Number.isNaN(seq) || Number.isNaN(ms))
            continue;
          if (seen.has(seq)) duplicates += 1;
          seen.add(seq);
          if (seq < firstMeasured) continue;
          latencies.push(ms);
          if (kafkaLeg !== undefined && !Number.isNaN(kafkaLeg)) kafkaLegs.push(kafkaLeg);
        }
        latencies.sort((a, b) => a - b);
        kafkaLegs.sort((a, b) => a - b);
        const histogram = histogramOf(after, E2E_METRIC, { topic });
        const delta = histogram
          ? histogramDelta(histogram, histogramOf(before, E2E_METRIC, { topic }))
          : undefined;
        const seconds = (q: number) => {
          const value = delta ? histogramQuantile(delta, q) : undefined;
          return value === undefined ? undefined : value * 1000;
        };
        const apiDuration = histogramOf(apiAfter, API_DURATION_METRIC);
        const apiDelta = apiDuration
          ? histogramDelta(apiDuration, histogramOf(apiBefore, API_DURATION_METRIC))
          : undefined;
        const apiP99 = apiDelta ? histogramQuantile(apiDelta, 0.99) : undefined;
        return {
          figures: {
            p50Ms: percentile(latencies, 50),
            p99Ms: percentile(latencies, 99),
            maxMs: latencies.at(-1),
            msgsPerSec: result.requestsPerSec,
            httpP50Ms: result.latencyMs.p50,
            httpP99Ms: result.latencyMs.p99,
            apiP99Ms: apiP99 === undefined ? undefined : apiP99 * 1000,
            kafkaLegP50Ms: percentile(kafkaLegs, 50),
            kafkaLegP99Ms: percentile(kafkaLegs, 99),
            consumerP50Ms: seconds(0.5),
            consumerP99Ms: seconds(0.99),
            errors: failedRequests(result),
            measured: latencies.length,
            duplicates,
          },
        };
      } finally {
        await producer.stop('SIGTERM');
        await consumer.stop('SIGTERM');
      }
    });
  },
};

export const rawEndToEnd: Scenario = {
  id: 'raw-e2e',
  ref: '6b',
  title: 'end to end at 1,000 msgs/s, raw kafkajs: paced producer → eachBatch consumer (no HTTP)',
  group: 'e2e',
  primary: 'p99Ms',
  better: 'lower',
  async run(ctx) {
    const { rate, warmupSec, durationSec } = ctx.profile.e2e;
    const topic = ctx.unique('raw-e2e');
    const groupId = ctx.unique('raw-e2e-group');
    const label = `raw-e2e-${ctx.round}`;
    const total = Math.round(rate * (warmupSec + durationSec));
    return withTopic(ctx.brokers, topic, async () => {
      const consumerConfig: LatencyConsumerConfig = {
        kind: 'latency-consumer',
        brokers: ctx.brokers,
        topic,
        groupId,
        partitionsConsumedConcurrently: ourConsumerConcurrency(),
        sessionTimeoutMs: consumerSpec.SESSION_TIMEOUT_MS.defaultValue ?? 30_000,
        heartbeatIntervalMs: consumerSpec.HEARTBEAT_INTERVAL_MS.defaultValue ?? 3_000,
        commitIntervalMs: consumerSpec.COMMIT_INTERVAL_MS.defaultValue ?? 1_000,
        total,
        firstMeasured: rate * warmupSec,
        timeoutMs: (warmupSec + durationSec + 90) * 1000,
      };
      const consumer = startWorker<LatencyResult>(`${label}-consumer`, 'raw-e2e', consumerConfig);
      try {
        // Produced only once the group has settled, as row 6 waits for the consumer's readiness.
        await waitFor(
          'the raw consumer to join its group',
          () => groupSettled(ctx.brokers, groupId),
          {
            timeoutMs: 90_000,
            intervalMs: 200,
            retryErrors: true,
          },
        );
        const producerConfig: PacedProducerConfig = {
          kind: 'paced-producer',
          brokers: ctx.brokers,
          topic,
          partitions: PARTITIONS,
          rate,
          seconds: warmupSec + durationSec,
        };
        const produced = await startWorker<PacedProducerResult>(
          `${label}-producer`,
          'raw-e2e',
          producerConfig,
        ).result;
        const latency = await consumer.result;
        return {
          figures: {
            p50Ms: latency.p50Ms,
            p99Ms: latency.p99Ms,
            maxMs: latency.maxMs,
            kafkaLegP50Ms: latency.kafkaLegP50Ms,
            kafkaLegP99Ms: latency.kafkaLegP99Ms,
            msgsPerSec: rate,
            measured: latency.measured,
            duplicates: latency.duplicates,
            batchMean: produced.sent / produced.sends,
          },
        };
      } finally {
        await consumer.proc.stop('SIGTERM', 5_000);
      }
    });
  },
};

/** True once the group is Stable with a member (the consumer holds its partitions). */
async function groupSettled(brokers: string[], groupId: string): Promise<true | undefined> {
  const { groups } = await withAdmin(brokers, (admin) => admin.describeGroups([groupId]));
  const group = groups[0];
  return group?.state === 'Stable' && group.members.length > 0 ? true : undefined;
}
