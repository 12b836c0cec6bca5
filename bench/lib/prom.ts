/**
 * Just enough of the Prometheus text format to read our services' /metrics: samples with
 * labels, summed over the series that match, and histograms (mean, quantiles estimated
 * from buckets the way histogram_quantile() does, and the difference of two scrapes).
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g;

export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (!match) continue;
    const [, name = '', rawLabels = '', rawValue = ''] = match;
    const labels: Record<string, string> = {};
    for (const label of rawLabels.matchAll(LABEL)) {
      labels[label[1] ?? ''] = (label[2] ?? '').replace(/\\(.)/g, '$1');
    }
    const value = rawValue === '+Inf' ? Infinity : Number(rawValue);
    if (!Number.isNaN(value)) samples.push({ name, labels, value });
  }
  return samples;
}

function matches(sample: Sample, labels: Record<string, string>): boolean {
  return Object.entries(labels).every(([k, v]) => sample.labels[k] === v);
}

/** Sum of every series of `name` whose labels include `labels`; undefined if there is none. */
export function sumOf(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = samples.filter((s) => s.name === name && matches(s, labels));
  return found.length === 0 ? undefined : found.reduce((sum, s) => sum + s.value, 0);
}

/** A service's own CPU seconds so far (prom-client's default process metrics). */
export function cpuSecondsOf(samples: Sample[]): number | undefined {
  return sumOf(samples, 'process_cpu_seconds_total');
}

export interface Histogram {
  /** Cumulative counts by upper bound, ascending, +Inf last. */
  buckets: Array<{ le: number; count: number }>;
  count: number;
  sum: number;
}

/** The histogram `name`, with the series matching `labels` added together. */
export function histogramOf(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): Histogram | undefined {
  const byLe = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || !matches(s, labels)) continue;
    const le = s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le']);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  if (byLe.size === 0) return undefined;
  return {
    buckets: [...byLe].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count })),
    count: sumOf(samples, `${name}_count`, labels) ?? 0,
    sum: sumOf(samples, `${name}_sum`, labels) ?? 0,
  };
}

/** after − before: the observations made between two scrapes. */
export function histogramDelta(after: Histogram, before: Histogram | undefined): Histogram {
  if (!before) return after;
  return {
    buckets: after.buckets.map((b) => ({
      le: b.le,
      count: b.count - (before.buckets.find((x) => x.le === b.le)?.count ?? 0),
    })),
    count: after.count - before.count,
    sum: after.sum - before.sum,
  };
}

export function histogramMean(h: Histogram): number | undefined {
  return h.count > 0 ? h.sum / h.count : undefined;
}

/**
 * The q-quantile, linearly interpolated inside its bucket (as PromQL's histogram_quantile);
 * in the +Inf bucket, the largest finite bound. Coarse: only as fine as the buckets.
 */
export function histogramQuantile(h: Histogram, q: number): number | undefined {
  if (h.count <= 0) return undefined;
  const rank = q * h.count;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const { le, count } of h.buckets) {
    if (count >= rank) {
      if (le === Infinity) return lowerBound;
      const inBucket = count - lowerCount;
      return inBucket <= 0 ? le : lowerBound + ((le - lowerBound) * (rank - lowerCount)) / inBucket;
    }
    lowerBound = le;
    lowerCount = count;
  }
  return lowerBound;
}

/** Fetches and parses a /metrics page. */
export async function scrape(url: string, timeoutMs = 5_000): Promise<Sample[]> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return parseMetrics(await response.text());
}
