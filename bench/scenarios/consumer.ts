/**
 * 5. Our consumer service, default handler (JSON parse) and every metric on, draining the
 * pre-filled topic with a fresh group. Throughput from its own metrics: the processed
 * counter, scraped every 100 ms, between the warm-up count and warm-up + measured count.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuSecondsOf, scrape, sumOf } from '../lib/prom';
import type { Context, Measurement, Scenario } from '../lib/scenario';
import { startConsumer } from '../lib/services';
import { rateBetween } from '../lib/stats';

const CONSUMED = 'event_pipeline_consumed_messages_total';
export const DLQ_TOPIC = 'bench-dlq';

export const ourConsumer: Scenario = {
  id: 'consumer',
  ref: '5',
  title: 'our consumer service (default handler, metrics on)',
  group: 'consumer',
  primary: 'msgsPerSec',
  better: 'higher',
  ratios: [
    { label: 'ours ÷ raw kafkajs', over: 'raw-consumer' },
    { label: 'ours ÷ raw kafkajs + JSON.parse', over: 'raw-consumer-json' },
    {
      label: 'CPU per message, ours ÷ raw kafkajs + JSON.parse',
      over: 'raw-consumer-json',
      field: 'cpuUsPerMsg',
    },
  ],
  run: (ctx) => runOurConsumer(ctx, 'consumer'),
};

/**
 * Our consumer reading the prefilled topic to its end; `concurrently` partitions at once,
 * the service's default when not given.
 */
export async function runOurConsumer(
  ctx: Context,
  id: string,
  concurrently?: number,
): Promise<Measurement> {
  const { warmup, messages } = ctx.profile.consume;
  const target = warmup + messages;
  const label = `${id}-${ctx.round}`;
  const consumer = await startConsumer([ctx.prefilledTopic], ctx.unique(id), DLQ_TOPIC, {
    brokers: ctx.brokers,
    label,
    profileDir: ctx.cpuProfileDir,
    ...(concurrently !== undefined
      ? { env: { PARTITIONS_CONSUMED_CONCURRENTLY: String(concurrently) } }
      : {}),
  });
  try {
    const samples: Array<{ t: number; value: number }> = [];
    // The service's CPU seconds at the first scrape past the warm-up, and at the last.
    let cpuFrom: { processed: number; cpu: number } | undefined;
    let cpuTo: { processed: number; cpu: number } | undefined;
    const deadline = Date.now() + 300_000;
    let last = { processed: 0, retried: 0, deadLettered: 0 };
    for (;;) {
      const t = performance.now();
      const metrics = await scrape(`${consumer.managementUrl}/metrics`);
      const topic = ctx.prefilledTopic;
      last = {
        processed: sumOf(metrics, CONSUMED, { topic, result: 'processed' }) ?? 0,
        retried: sumOf(metrics, CONSUMED, { topic, result: 'retried' }) ?? 0,
        deadLettered: sumOf(metrics, CONSUMED, { topic, result: 'dead_lettered' }) ?? 0,
      };
      samples.push({ t, value: last.processed });
      const cpu = cpuSecondsOf(metrics);
      if (cpu !== undefined && last.processed >= warmup) {
        cpuFrom ??= { processed: last.processed, cpu };
        cpuTo = { processed: last.processed, cpu };
      }
      if (last.processed >= target) break;
      if (Date.now() > deadline)
        throw new Error(`${last.processed} of ${target} messages processed in time`);
      await sleep(100);
    }
    const rate = rateBetween(samples, warmup, target);
    if (!rate) throw new Error('too few samples to measure the rate: raise the message count');
    return {
      figures: {
        msgsPerSec: rate.rate,
        cpuUsPerMsg:
          cpuFrom && cpuTo && cpuTo.processed > cpuFrom.processed
            ? ((cpuTo.cpu - cpuFrom.cpu) * 1e6) / (cpuTo.processed - cpuFrom.processed)
            : undefined,
        errors: last.retried + last.deadLettered,
      },
    };
  } finally {
    const code = await consumer.stop('SIGTERM');
    if (code !== 0) ctx.log(`${label} exited with ${code}; log ${consumer.proc.logFile}`);
  }
}
