/**
 * The load generator, in its own process (forked by bench/lib/load.ts) so that it does not
 * share an event loop with the bench or the service under test: autocannon with keep-alive
 * connections, each sending its next request when the last one is answered (closed loop, as
 * fast as the server goes), a warm-up run, then the measured run. Receives its LoadConfig
 * over IPC, answers with a LoadResult; a 'stop' control ends a duration-bound run early.
 * A load at a fixed rate is bench/workers/paced-load.ts.
 */
import autocannon from 'autocannon';
import { serveWorker } from '../lib/serve-worker';
import { cpuSeconds } from '../lib/stats';

export interface LoadConfig {
  url: string;
  headers: Record<string, string>;
  /** The body of every request. */
  body: string;
  connections: number;
  warmupRequests: number;
  /** Measured requests; or run for durationSec. */
  amount?: number;
  durationSec?: number;
  timeoutSec?: number;
}

export interface LoadResult {
  requests: number;
  durationSec: number;
  requestsPerSec: number;
  latencyMs: { mean: number; p50: number; p90: number; p99: number; p99_9: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  /** CPU time (user + system) this load generator spent in the measured run. */
  cpuSec: number;
}

let current: autocannon.Instance | undefined;

interface Timed {
  result: autocannon.Result;
  /** Responses counted here, and the time from the start to the last one (ms). */
  responses: number;
  elapsedMs: number;
}

/**
 * autocannon reports its duration only at its next sampling tick after the last response
 * (once a second by default), which would quantize a short run's rate; so the time from
 * its start to the last response is taken here.
 */
function runOnce(config: LoadConfig, amount: number | undefined): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const options: autocannon.Options = {
      url: config.url,
      method: 'POST',
      headers: config.headers,
      connections: config.connections,
      pipelining: 1,
      timeout: config.timeoutSec ?? 30,
      ...(amount !== undefined ? { amount } : { duration: config.durationSec ?? 10 }),
      body: config.body,
    };
    let startAt = performance.now();
    let lastAt = startAt;
    let responses = 0;
    current = autocannon(options, (error, result) => {
      current = undefined;
      if (error) reject(error instanceof Error ? error : new Error(String(error)));
      else resolve({ result, responses, elapsedMs: lastAt - startAt });
    });
    current.on('start', () => {
      startAt = performance.now();
      lastAt = startAt;
    });
    current.on('response', () => {
      responses += 1;
      lastAt = performance.now();
    });
  });
}

function summarize({ result, responses, elapsedMs }: Timed, cpuSec: number): LoadResult {
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) {
    statusCodes[code] = stat.count ?? 0;
  }
  return {
    requests: responses,
    durationSec: elapsedMs / 1000,
    requestsPerSec: elapsedMs > 0 ? (responses * 1000) / elapsedMs : 0,
    latencyMs: {
      mean: result.latency.mean,
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      p99_9: result.latency.p99_9,
      max: result.latency.max,
    },
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    statusCodes,
    cpuSec,
  };
}

async function run(config: LoadConfig): Promise<LoadResult> {
  if (config.warmupRequests > 0) await runOnce(config, config.warmupRequests);
  const cpuBefore = process.cpuUsage();
  const result = await runOnce(config, config.amount);
  return summarize(result, cpuSeconds(process.cpuUsage(cpuBefore)));
}

serveWorker(run, {
  onControl: (message) => {
    if ((message as { type?: unknown }).type === 'stop') current?.stop();
  },
  onDisconnect: () => current?.stop(),
});
