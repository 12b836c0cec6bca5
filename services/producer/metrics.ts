/**
 * The producer metrics of DESIGN.md (names and labels are a contract with dashboards). The
 * per-request series are bound to their label values once: prom-client checks and hashes
 * the labels on every inc() and observe() otherwise, twice per request.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { HotPathHistogram, type HistogramSeries } from '../common/hot-path-histogram';

export type ProduceResult = 'acked' | 'failed' | 'rejected';

export interface ProducerMetrics {
  /** route is the route template (or "unmatched"), never the raw path. */
  observeHttp(method: string, route: string, status: number, seconds: number): void;
  /**
   * acked: Kafka acknowledged; failed: buffered, but not acknowledged (timeout, Kafka
   * error, shutdown); rejected: refused before buffering (validation, size, buffer full).
   */
  countProduced(topic: string, result: ProduceResult, messages: number): void;
  observeBatch(topic: string, messages: number): void;
  /** Where the buffered-messages gauge reads its value at scrape time (0 until set). */
  watchBuffer(bufferedMessages: () => number): void;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export function createProducerMetrics(
  registry: Registry,
  options: { topics: string[] },
): ProducerMetrics {
  const requests = new Counter({
    name: 'event_pipeline_http_requests_total',
    help: 'HTTP requests answered by the producer API',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new HotPathHistogram({
    name: 'event_pipeline_http_request_duration_seconds',
    help: 'Time from request to response of the producer API',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const produced = new Counter({
    name: 'event_pipeline_produced_messages_total',
    help: 'Messages by outcome: acked by Kafka, failed after buffering, rejected before',
    labelNames: ['topic', 'result'] as const,
    registers: [registry],
  });
  const batch = new Histogram({
    name: 'event_pipeline_producer_batch_messages',
    help: 'Messages per Kafka produce request',
    labelNames: ['topic'] as const,
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000],
    registers: [registry],
  });
  let bufferedMessages = () => 0;
  new Gauge({
    name: 'event_pipeline_producer_buffered_messages',
    help: 'Messages waiting for a Kafka acknowledgement (queued or in flight)',
    registers: [registry],
    collect() {
      this.set(bufferedMessages());
    },
  });
  // Zero series from the start, so rate() and absent() behave before the first message.
  for (const topic of options.topics) {
    for (const result of ['acked', 'failed', 'rejected'] as const)
      produced.inc({ topic, result }, 0);
  }
  // Keyed by the label values; each map holds a few entries (methods × routes × statuses).
  const requestSeries = new Map<string, { inc(): void }>();
  const durationSeries = new Map<string, HistogramSeries>();
  const producedSeries = new Map<string, { inc(value: number): void }>();
  return {
    observeHttp(method, route, status, seconds) {
      const label = METHODS.has(method) ? method : 'OTHER';
      const series = `${label} ${route}`;
      cached(requestSeries, `${series} ${status}`, () =>
        requests.labels({ method: label, route, status: String(status) }),
      ).inc();
      cached(durationSeries, series, () => duration.labels(label, route)).observe(seconds);
    },
    countProduced(topic, result, messages) {
      cached(producedSeries, `${topic}\u0000${result}`, () =>
        produced.labels({ topic, result }),
      ).inc(messages);
    },
    observeBatch(topic, messages) {
      batch.observe({ topic }, messages);
    },
    watchBuffer(read) {
      bufferedMessages = read;
    },
  };
}

/** The series bound to `key`, bound on first use. */
function cached<S>(cache: Map<string, S>, key: string, bind: () => S): S {
  let series = cache.get(key);
  if (series === undefined) {
    series = bind();
    cache.set(key, series);
  }
  return series;
}
