/**
 * Kafka's own performance tools (kafka-tools, in the jars the harness fetched), run as
 * child processes, and parsers of what they print.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnTracked } from '../../scripts/lib/processes';

export function javaBinary(): string {
  const home = process.env.JAVA_HOME;
  return home ? join(home, 'bin', 'java') : 'java';
}

/** Runs a Java main class from `libs`; resolves with its output; rejects on a non-zero exit. */
export async function runJava(
  label: string,
  libs: string,
  mainClass: string,
  args: string[],
  timeoutMs: number,
  heap = '512m',
): Promise<string> {
  const proc = spawnTracked(label, javaBinary(), [
    `-Xmx${heap}`,
    '-XX:+UseG1GC',
    '-Djava.awt.headless=true',
    '-Djava.net.preferIPv4Stack=true',
    // kafka-tools logs through log4j2; without a config it would only warn that it has none.
    '-Dlog4j2.level=WARN',
    '-cp',
    join(libs, '*'),
    mainClass,
    ...args,
  ]);
  const timer = setTimeout(() => {
    if (proc.running()) proc.child.kill('SIGKILL');
  }, timeoutMs);
  try {
    const code = await proc.exited;
    const output = proc.logFile === undefined ? '' : readFileSync(proc.logFile, 'utf8');
    if (code !== 0) {
      throw new Error(`${mainClass} ended with ${code}; log ${proc.logFile}:\n${proc.tail(20)}`);
    }
    return output;
  } finally {
    clearTimeout(timer);
  }
}

export interface ProducerPerfResult {
  records: number;
  recordsPerSec: number;
  mbPerSec: number;
  avgLatencyMs: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
}

/**
 * ProducerPerformance's summary line:
 * "N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency, P50 ms 50th,
 *  P95 ms 95th, P99 ms 99th, P999 ms 99.9th." With --warmup-records it also prints a
 * steady-state line (marked "steady state"): that one is taken when present.
 */
export function parseProducerPerf(output: string): ProducerPerfResult {
  const pattern =
    /(\d+) (?:steady state )?records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th/;
  const lines = output.split('\n').filter((line) => pattern.test(line));
  const line = lines.find((l) => /steady state/i.test(l)) ?? lines.at(-1);
  const match = line === undefined ? null : pattern.exec(line);
  if (!match) throw new Error(`no ProducerPerformance summary in:\n${output.slice(-2000)}`);
  const n = (i: number) => Number(match[i]);
  return {
    records: n(1),
    recordsPerSec: n(2),
    mbPerSec: n(3),
    avgLatencyMs: n(4),
    p50Ms: n(6),
    p99Ms: n(8),
    p999Ms: n(9),
  };
}

export interface ConsumerPerfResult {
  messages: number;
  /** Over the whole run, group join included. */
  messagesPerSec: number;
  /** Over the fetching time only (group join excluded): the figure compared. */
  fetchMessagesPerSec: number;
  rebalanceMs: number;
}

/**
 * ConsumerPerformance's CSV: a header "start.time, end.time, data.consumed.in.MB, MB.sec,
 * data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec,
 * fetch.nMsg.sec" and one line of values.
 */
export function parseConsumerPerf(output: string): ConsumerPerfResult {
  const lines = output.split('\n').map((l) => l.trim());
  const headerAt = lines.findIndex((l) => l.startsWith('start.time'));
  const header = lines[headerAt]?.split(/,\s*/);
  const values = lines
    .slice(headerAt + 1)
    .find((l) => /^\d{4}-/.test(l))
    ?.split(/,\s*/);
  if (headerAt < 0 || !header || !values) {
    throw new Error(`no ConsumerPerformance result in:\n${output.slice(-2000)}`);
  }
  const field = (name: string) => {
    const i = header.indexOf(name);
    const value = i < 0 ? NaN : Number(values[i]);
    if (Number.isNaN(value))
      throw new Error(`ConsumerPerformance printed no ${name}:\n${output.slice(-2000)}`);
    return value;
  };
  return {
    messages: field('data.consumed.in.nMsg'),
    messagesPerSec: field('nMsg.sec'),
    fetchMessagesPerSec: field('fetch.nMsg.sec'),
    rebalanceMs: field('rebalance.time.ms'),
  };
}

export function readOutput(file: string): string {
  return readFileSync(file, 'utf8');
}
