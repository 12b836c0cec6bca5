/** The consumer's Prometheus metrics; names and labels are fixed by DESIGN.md. */
import { Counter, Gauge, type Registry } from 'prom-client';
import { HotPathHistogram } from '../common/hot-path-histogram';

export type ConsumeResult = 'processed' | 'retried' | 'dead_lettered';

export interface ConsumerMetrics {
  consumed: Counter<'topic' | 'result'>;
  /** Observed once per message, hence the cheaper histogram (same exposition). */
  processingDuration: HotPathHistogram<'topic'>;
  endToEndLatency: HotPathHistogram<'topic'>;
  lagMessages: Gauge<'topic' | 'partition'>;
  lagSeconds: Gauge<'topic' | 'partition'>;
  /**
   * The `processed` count of a topic, kept as a plain number and added to `consumed` when it
   * is scraped: one prom-client inc per scrape instead of one per message.
   */
  processedCounter(topic: string): { inc(): void };
  rebalances: Counter;
  assignedPartitions: Gauge;
  /** Registers what brings lag seconds up to date at each scrape (it grows between refreshes). */
  beforeLagSecondsScrape(update: () => void): void;
}

export function createConsumerMetrics(
  registry: Registry,
  topics: readonly string[],
): ConsumerMetrics {
  const registers = [registry];
  let updateLagSeconds: (() => void) | undefined;
  const unscraped = new Map<string, { count: number; inc(): void }>();
  const metrics: ConsumerMetrics = {
    consumed: new Counter({
      name: 'event_pipeline_consumed_messages_total',
      help: 'Messages by outcome: processed by the handler, retried after a handler error, or written to the dead-letter topic',
      labelNames: ['topic', 'result'],
      registers,
      collect() {
        for (const [topic, processed] of unscraped) {
          if (processed.count === 0) continue;
          this.inc({ topic, result: 'processed' }, processed.count);
          processed.count = 0;
        }
      },
    }),
    processingDuration: new HotPathHistogram({
      name: 'event_pipeline_processing_duration_seconds',
      help: 'Duration of one handler call (each attempt counts)',
      labelNames: ['topic'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    endToEndLatency: new HotPathHistogram({
      name: 'event_pipeline_end_to_end_latency_seconds',
      help: 'Time from the message timestamp to the end of its processing',
      labelNames: ['topic'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
      registers,
    }),
    lagMessages: new Gauge({
      name: 'event_pipeline_consumer_lag_messages',
      help: "Messages behind: log-end offset minus the group's committed offset (group-wide view; every instance reports every partition)",
      labelNames: ['topic', 'partition'],
      registers,
    }),
    lagSeconds: new Gauge({
      name: 'event_pipeline_consumer_lag_seconds',
      help: 'Age of the oldest unconsumed message (the one at the committed offset) at scrape time; 0 when caught up',
      labelNames: ['topic', 'partition'],
      registers,
      collect: () => updateLagSeconds?.(),
    }),
    rebalances: new Counter({
      name: 'event_pipeline_consumer_rebalances_total',
      help: 'Group joins completed by this instance (the first join included)',
      registers,
    }),
    assignedPartitions: new Gauge({
      name: 'event_pipeline_consumer_assigned_partitions',
      help: 'Partitions currently assigned to this instance',
      registers,
    }),
    processedCounter: (topic) => {
      let processed = unscraped.get(topic);
      if (!processed) {
        const counter = {
          count: 0,
          inc() {
            counter.count += 1;
          },
        };
        processed = counter;
        unscraped.set(topic, counter);
      }
      return processed;
    },
    beforeLagSecondsScrape: (update) => {
      updateLagSeconds = update;
    },
  };
  // Series exist at 0 from the start, so rate() and alerts see the first increment.
  for (const topic of topics) {
    for (const result of ['processed', 'retried', 'dead_lettered'] satisfies ConsumeResult[]) {
      metrics.consumed.inc({ topic, result }, 0);
    }
  }
  return metrics;
}
