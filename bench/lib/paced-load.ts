/**
 * A load at a fixed rate (run in its own process by bench/workers/paced-load.ts): requests spread
 * evenly over time (the next one is due every 1/rate s, checked each millisecond), whether or
 * not the earlier ones were answered (open loop), over a pool of keep-alive connections; a due
 * request that finds every connection busy waits for one, and that wait counts in its
 * latency (requests due during the warm-up are answered but not in the figures). Each body
 * carries its messages' sequence numbers and the time it was built.
 *
 * autocannon's rate (`overallRate`) is a quota per connection per second: every connection
 * sends back to back until it has used its share, then waits for the next second, so a
 * "1,000 per second" load arrives as a burst at the top of each second.
 */
import { Agent, request } from 'node:http';
import { timestampedBody, type BodyFormat } from '../lib/payload';
import { paceAt } from '../lib/pace';
import { cpuSeconds, percentile } from '../lib/stats';
import type { LoadResult } from '../workers/load';

export interface PacedLoadConfig {
  url: string;
  headers: Record<string, string>;
  connections: number;
  /** Requests per second, over all connections. */
  rate: number;
  durationSec: number;
  /** Requests due in the first this many seconds are not in the latency figures. */
  warmupSec: number;
  messagesPerRequest: number;
  format: BodyFormat;
  timeoutSec?: number;
}

export interface PacedLoadResult extends LoadResult {
  /** Answered requests sent after the warm-up: those in latencyMs. */
  measuredRequests: number;
  /** The sequence number after the last message sent (messages are numbered from 0). */
  nextSeq: number;
}

export async function runPacedLoad(config: PacedLoadConfig): Promise<PacedLoadResult> {
  const url = new URL(config.url);
  const agent = new Agent({ keepAlive: true, maxSockets: config.connections });
  const total = Math.round(config.rate * config.durationSec);
  const timeoutMs = (config.timeoutSec ?? 30) * 1000;
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  let errors = 0;
  let timeouts = 0;
  let non2xx = 0;
  let seq = 0;
  let settled = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let lastAnsweredAt = started;

  let everySettled: () => void = () => undefined;
  const allSettled = new Promise<void>((resolve) => (everySettled = resolve));
  if (total === 0) everySettled();
  // The warm-up is the requests due in its first seconds, whenever a busy machine sent them.
  const warmupRequests = Math.round(config.rate * config.warmupSec);
  const send = (index: number) => {
    const body = timestampedBody(seq, config.messagesPerRequest, config.format);
    seq += config.messagesPerRequest;
    const sentAt = performance.now();
    const measured = index >= warmupRequests;
    let done = false;
    const settle = (outcome: () => void) => {
      if (done) return;
      done = true;
      outcome();
      settled += 1;
      if (settled === total) everySettled();
    };
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: { ...config.headers, 'content-length': Buffer.byteLength(body) },
        timeout: timeoutMs,
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          settle(() => {
            const status = res.statusCode ?? 0;
            lastAnsweredAt = performance.now();
            if (measured) latencies.push(lastAnsweredAt - sentAt);
            statusCodes[String(status)] = (statusCodes[String(status)] ?? 0) + 1;
            if (status < 200 || status > 299) non2xx += 1;
          }),
        );
      },
    );
    req.on('timeout', () => {
      settle(() => (timeouts += 1));
      req.destroy();
    });
    req.on('error', () => settle(() => (errors += 1)));
    req.end(body);
  };
  await paceAt(config.rate, total, send);
  await allSettled;
  // The whole run's CPU: the warm-up is a small share of it at a fixed rate.
  const cpuSec = cpuSeconds(process.cpuUsage(cpuBefore));
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const answered = Object.values(statusCodes).reduce((sum, count) => sum + count, 0);
  const at = (p: number) => percentile(latencies, p) ?? 0;
  const durationSec = (lastAnsweredAt - started) / 1000;
  return {
    requests: answered,
    durationSec,
    requestsPerSec: durationSec > 0 ? answered / durationSec : 0,
    latencyMs: {
      mean: latencies.reduce((sum, ms) => sum + ms, 0) / Math.max(1, latencies.length),
      p50: at(50),
      p90: at(90),
      p99: at(99),
      p99_9: at(99.9),
      max: latencies.at(-1) ?? 0,
    },
    errors,
    timeouts,
    non2xx,
    statusCodes,
    cpuSec,
    measuredRequests: latencies.length,
    nextSeq: seq,
  };
}
