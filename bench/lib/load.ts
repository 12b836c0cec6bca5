/**
 * Runs a load generator in its own process and collects its result: bench/workers/load.ts
 * (autocannon, as fast as the server answers) or bench/workers/paced-load.ts (a fixed rate).
 */
import type { LoadConfig, LoadResult } from '../workers/load';
import type { PacedLoadConfig, PacedLoadResult } from './paced-load';
import type { Tracked } from '../../scripts/lib/processes';
import { startWorker } from './worker';

export type { LoadConfig, LoadResult, PacedLoadConfig, PacedLoadResult };

export interface LoadRun {
  readonly proc: Tracked;
  readonly result: Promise<LoadResult>;
  /** Ends a duration-bound run now; the result still arrives. */
  stop(): void;
}

export function startLoad(label: string, config: LoadConfig): LoadRun {
  const run = startWorker<LoadResult>(`load-${label}`, 'load', config);
  return { proc: run.proc, result: run.result, stop: () => run.control({ type: 'stop' }) };
}

/** A load at `config.rate` requests per second, spread evenly, for `config.durationSec`. */
export function startPacedLoad(label: string, config: PacedLoadConfig): Promise<PacedLoadResult> {
  return startWorker<PacedLoadResult>(`paced-load-${label}`, 'paced-load', config).result;
}

export async function runLoad(label: string, config: LoadConfig): Promise<LoadResult> {
  return startLoad(label, config).result;
}

/** Every request that did not end in 2xx: connection errors, timeouts, other statuses. */
export function failedRequests(result: LoadResult): number {
  return result.errors + result.non2xx;
}
