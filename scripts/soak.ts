/**
 * `npm run soak`: load for a set time against a Kafka of its own (the harness, one node on
 * free ports) and both services as real processes; reports throughput over time, the ledger
 * (scripts/lib/ledger.ts: nothing acknowledged lost, everything processed, duplicates,
 * client-visible errors) and each service's memory (RSS and V8 heap from its /metrics) at
 * the start and the end, and flags memory that keeps growing. Exits 1 when the ledger has a
 * problem or memory grew; everything it started is stopped on the way out (Ctrl-C too).
 *
 *   npm run soak                        10 minutes
 *   npm run soak -- --duration 2m       also 90s, 600 (seconds)
 *   options: --clients 6 --messages 10 --pause-ms 20 --sample 10s
 *
 * Traffic goes only to 127.0.0.1. The figures depend on the machine and on what else runs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startKafka, type KafkaCluster } from './kafka/harness';
import {
  computeLedger,
  formatLedger,
  ledgerProblems,
  LoadGenerator,
  newProcessedFile,
  readLedgerTopic,
  waitForProcessed,
  writeLedgerHandler,
} from './lib/ledger';
import { freePorts } from './lib/ports';
import {
  startService,
  waitUntilReady,
  type RunningService,
  type ServiceName,
} from './lib/services';
import { repoRoot } from './lib/root';

export interface SoakOptions {
  durationS: number;
  clients: number;
  messagesPerRequest: number;
  pauseMs: number;
  sampleS: number;
}

const USAGE =
  'usage: npm run soak -- [--duration 10m|90s|600] [--clients 6] [--messages 10] [--pause-ms 20] [--sample 10s]';

/** "90s", "2m", "1h" or plain seconds. */
export function parseSeconds(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(text.trim());
  if (!match) throw new Error(`not a duration: "${text}" (e.g. 90s, 2m, 600)`);
  const factor = match[2] === 'h' ? 3600 : match[2] === 'm' ? 60 : 1;
  return Number(match[1]) * factor;
}

export function parseArgs(argv: string[]): SoakOptions {
  const options: SoakOptions = {
    durationS: 600,
    clients: 6,
    messagesPerRequest: 10,
    pauseMs: 20,
    sampleS: 10,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag ?? ''} needs a value\n${USAGE}`);
    const int = () => {
      if (!/^\d+$/.test(value) || Number(value) < 1)
        throw new Error(`${flag} must be a positive integer`);
      return Number(value);
    };
    if (flag === '--duration') options.durationS = parseSeconds(value);
    else if (flag === '--sample') options.sampleS = parseSeconds(value);
    else if (flag === '--clients') options.clients = int();
    else if (flag === '--messages') options.messagesPerRequest = int();
    else if (flag === '--pause-ms') options.pauseMs = Number(value);
    else throw new Error(`unknown option "${flag ?? ''}"\n${USAGE}`);
  }
  if (options.durationS < 10) throw new Error('--duration must be at least 10s');
  if (options.sampleS < 1) throw new Error('--sample must be at least 1s');
  return options;
}

export interface MemorySample {
  rssBytes: number;
  heapUsedBytes: number;
}

/** The two memory series of a prom-client /metrics text. */
export function parseMemory(metricsText: string): MemorySample | undefined {
  const value = (name: string) => {
    // With or without labels (the services label every series with their name).
    const line = metricsText
      .split('\n')
      .find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return line === undefined ? undefined : Number(line.split(' ').pop());
  };
  const rssBytes = value('process_resident_memory_bytes');
  const heapUsedBytes = value('nodejs_heap_size_used_bytes');
  if (rssBytes === undefined || heapUsedBytes === undefined) return undefined;
  return { rssBytes, heapUsedBytes };
}

export interface Growth {
  /** The floor (lowest sample) of the first third of the run, after warm-up. */
  startMb: number;
  /** The floor of the last third. */
  endMb: number;
  /** The highest sample of the whole run. */
  peakMb: number;
  growing: boolean;
}

/**
 * Whether a memory series keeps growing. A heap saws up and down with garbage collection,
 * so what counts is its floor: the lowest sample of the last third of the run against the
 * lowest of the first third. Growing means up by more than 25 % and more than 16 MB.
 */
export function memoryGrowth(points: Array<{ atS: number; bytes: number }>): Growth {
  const mb = points.map((p) => p.bytes / 1_048_576);
  const third = Math.max(1, Math.floor(mb.length / 3));
  const floor = (values: number[]) => (values.length === 0 ? 0 : Math.min(...values));
  const startMb = floor(mb.slice(0, third));
  const endMb = floor(mb.slice(-third));
  const peakMb = mb.length === 0 ? 0 : Math.max(...mb);
  const growing = endMb > startMb * 1.25 && endMb - startMb > 16;
  return { startMb, endMb, peakMb, growing };
}

const say = (line: string) => process.stdout.write(`[soak] ${line}\n`);

/** A service of the soak run: info logs, into the run's folder. */
function startSoakService(
  name: ServiceName,
  env: Record<string, string>,
  managementPort: number,
  logDir: string,
): RunningService {
  return startService(name, {
    env: { LOG_LEVEL: 'info', ...env },
    managementPort,
    output: join(logDir, `${name}.log`),
  });
}

async function metrics(service: RunningService): Promise<string> {
  try {
    const response = await fetch(`${service.managementUrl}/metrics`, {
      signal: AbortSignal.timeout(5_000),
    });
    return await response.text();
  } catch {
    return '';
  }
}

function lagOf(text: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith('event_pipeline_consumer_lag_messages{'))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

/** SIGTERM, and SIGKILL after 30 s. */
function stopService(service: RunningService): Promise<number | string> {
  return service.stop('SIGTERM', 30_000);
}

interface Sample {
  atS: number;
  ackedPerS: number;
  errors: number;
  lag: number;
  producer: MemorySample | undefined;
  consumer: MemorySample | undefined;
}

const mb = (bytes: number | undefined) =>
  bytes === undefined ? '   -  ' : (bytes / 1_048_576).toFixed(1).padStart(6);

async function soak(options: SoakOptions): Promise<number> {
  const started = new Date();
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const dir = join(repoRoot(), 'reports', 'soak', stamp);
  mkdirSync(dir, { recursive: true });
  say(
    `${options.durationS} s of load: ${options.clients} clients × ${options.messagesPerRequest} messages per request, ` +
      `${options.pauseMs} ms between requests; logs and report in ${dir}`,
  );
  let cluster: KafkaCluster | undefined;
  const services: RunningService[] = [];
  let load: LoadGenerator | undefined;
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    say('interrupted: stopping the load, then everything');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const topic = 'soak-events';
    cluster = await startKafka({
      nodes: 1,
      topics: [
        { name: topic, partitions: 6 },
        { name: `${topic}-dlq`, partitions: 1 },
      ],
      log: (line) => say(line),
    });
    const [httpPort, producerMgmt, consumerMgmt] = await freePorts(3);
    if (httpPort === undefined || producerMgmt === undefined || consumerMgmt === undefined) {
      throw new Error('no free ports');
    }
    const processedFile = newProcessedFile('soak');
    const producer = startSoakService(
      'producer',
      { KAFKA_BROKERS: cluster.bootstrap, HTTP_PORT: String(httpPort), TOPICS: topic },
      producerMgmt,
      dir,
    );
    services.push(producer);
    const consumer = startSoakService(
      'consumer',
      {
        KAFKA_BROKERS: cluster.bootstrap,
        TOPICS: topic,
        DLQ_TOPIC: `${topic}-dlq`,
        HANDLER_MODULE: writeLedgerHandler({ name: 'soak' }),
        LEDGER_PROCESSED_FILE: processedFile,
        LEDGER_INSTANCE: 'soak-consumer',
      },
      consumerMgmt,
      dir,
    );
    services.push(consumer);
    await Promise.all(services.map((s) => waitUntilReady(s, 60_000)));
    say(`producer API on 127.0.0.1:${httpPort}, Kafka at ${cluster.bootstrap}; load starts`);

    load = new LoadGenerator({
      url: `http://127.0.0.1:${httpPort}`,
      topic,
      clients: options.clients,
      messagesPerRequest: options.messagesPerRequest,
      pauseMs: options.pauseMs,
      requestTimeoutMs: 30_000,
    });
    const loadStarted = Date.now();
    load.start();
    const samples: Sample[] = [];
    say('   t(s)  acked/s  errors    lag  producer rss/heap MB  consumer rss/heap MB');
    let lastAcked = 0;
    let lastErrors = 0;
    let lastAt = loadStarted;
    const endAt = loadStarted + options.durationS * 1000;
    while (!interrupted && Date.now() < endAt) {
      await sleep(Math.min(options.sampleS * 1000, Math.max(0, endAt - Date.now())));
      const now = Date.now();
      const [producerText, consumerText] = await Promise.all([
        metrics(producer),
        metrics(consumer),
      ]);
      const acked = load.acknowledged;
      const errors = load.records.filter((r) => r.outcome.kind !== 'ok').length;
      const sample: Sample = {
        atS: Math.round((now - loadStarted) / 1000),
        ackedPerS: Math.round(((acked - lastAcked) * 1000) / Math.max(1, now - lastAt)),
        errors: errors - lastErrors,
        lag: lagOf(consumerText),
        producer: parseMemory(producerText),
        consumer: parseMemory(consumerText),
      };
      samples.push(sample);
      [lastAcked, lastErrors, lastAt] = [acked, errors, now];
      say(
        `${String(sample.atS).padStart(7)}  ${String(sample.ackedPerS).padStart(7)}  ${String(sample.errors).padStart(6)}  ${String(sample.lag).padStart(5)}` +
          `  ${mb(sample.producer?.rssBytes)} / ${mb(sample.producer?.heapUsedBytes)}        ${mb(sample.consumer?.rssBytes)} / ${mb(sample.consumer?.heapUsedBytes)}`,
      );
    }
    await load.stop();
    const loadSeconds = (Date.now() - loadStarted) / 1000;
    say(
      `load stopped after ${loadSeconds.toFixed(0)} s; ${load.acknowledged} messages acknowledged; reading Kafka back`,
    );

    const kafka = await readLedgerTopic(topic, { brokers: cluster.brokers, timeoutMs: 300_000 });
    const processed = await waitForProcessed(processedFile, topic, kafka.records, 300_000);
    const report = computeLedger({ requests: load.records, kafka, processed });
    const problems = ledgerProblems(report);
    process.stdout.write(`${formatLedger('soak', report)}\n`);

    // Memory after warm-up: the first sample past a tenth of the run (at most 60 s) on.
    const warmS = Math.min(60, options.durationS / 10);
    const steady = samples.filter((s) => s.atS >= warmS);
    const growth = (name: 'producer' | 'consumer', kind: keyof MemorySample) =>
      memoryGrowth(
        steady.flatMap((s) => {
          const value = s[name]?.[kind];
          return value === undefined ? [] : [{ atS: s.atS, bytes: value }];
        }),
      );
    const memory = {
      producer: { rss: growth('producer', 'rssBytes'), heap: growth('producer', 'heapUsedBytes') },
      consumer: { rss: growth('consumer', 'rssBytes'), heap: growth('consumer', 'heapUsedBytes') },
    };
    // No figures is no evidence: the run fails rather than pass on nothing.
    const unmeasured = (['producer', 'consumer'] as const).filter((name) =>
      steady.every((s) => s[name] === undefined),
    );
    for (const name of unmeasured) say(`no memory figures from the ${name}'s /metrics`);
    let grew = unmeasured.length > 0;
    for (const [name, series] of Object.entries(memory)) {
      for (const [kind, g] of Object.entries(series)) {
        grew ||= g.growing;
        say(
          `memory ${name} ${kind}: floor ${g.startMb.toFixed(1)} MB (first third) → ${g.endMb.toFixed(1)} MB (last third), peak ${g.peakMb.toFixed(1)} MB` +
            (g.growing ? '  ← KEEPS GROWING' : ''),
        );
      }
    }
    const rates = samples.map((s) => s.ackedPerS);
    say(
      `throughput: mean ${Math.round(load.acknowledged / loadSeconds)} msg/s, min ${Math.min(...rates)}, max ${Math.max(...rates)} (per ${options.sampleS} s sample)`,
    );
    const codes = await Promise.all(services.map(stopService));
    say(`services stopped with exit codes ${codes.join(', ')}`);
    writeFileSync(
      join(dir, 'soak-report.json'),
      JSON.stringify(
        {
          options,
          started,
          loadSeconds,
          samples,
          memory,
          ledger: report,
          problems,
          exitCodes: codes,
        },
        null,
        2,
      ),
    );
    for (const problem of problems) say(`LEDGER PROBLEM: ${problem}`);
    if (grew) say('MEMORY KEEPS GROWING: see the lines above');
    const ok = problems.length === 0 && !grew && codes.every((c) => c === 0);
    say(ok ? 'soak passed' : 'soak FAILED');
    return ok ? 0 : 1;
  } finally {
    await load?.stop();
    await Promise.all(services.map((s) => stopService(s).catch(() => undefined)));
    await cluster?.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

if (require.main === module) {
  let options: SoakOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
  soak(options).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(
        `[soak] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
