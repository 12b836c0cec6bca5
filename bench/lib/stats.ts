/** Small statistics helpers: summaries of repeated runs and percentiles of samples. */

export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function spread(values: readonly number[]): Spread | undefined {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return undefined;
  const sorted = [...finite].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1
      ? (sorted[mid] ?? 0)
      : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  return { median, min: sorted[0] ?? 0, max: sorted.at(-1) ?? 0, n: sorted.length };
}

/** The p-th percentile (0..100) by nearest rank of an ascending-sorted array. */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

/**
 * Rate of a growing counter between the moments it crossed `from` and `to`, linearly
 * interpolated between samples (time in ms): units per second.
 */
export function rateBetween(
  samples: ReadonlyArray<{ t: number; value: number }>,
  from: number,
  to: number,
): { rate: number; startMs: number; endMs: number } | undefined {
  const crossing = (target: number): number | undefined => {
    for (let i = 0; i < samples.length; i += 1) {
      const cur = samples[i];
      if (!cur || cur.value < target) continue;
      const prev = samples[i - 1];
      if (!prev || cur.value === prev.value) return cur.t;
      return prev.t + ((cur.t - prev.t) * (target - prev.value)) / (cur.value - prev.value);
    }
    return undefined;
  };
  const startMs = crossing(from);
  const endMs = crossing(to);
  if (startMs === undefined || endMs === undefined || endMs <= startMs) return undefined;
  return { rate: ((to - from) * 1000) / (endMs - startMs), startMs, endMs };
}

export function round(value: number | undefined, digits = 0): number | undefined {
  if (value === undefined || !Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** CPU seconds (user + system) of a process.cpuUsage() reading or difference. */
export function cpuSeconds(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1e6;
}
