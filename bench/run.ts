/**
 * `npm run bench`: starts the harness's Kafka (or uses --brokers), runs every scenario of
 * issue 7 for a fixed message count after a warm-up, repeats each (3 times; --quick: once,
 * small counts), prints the table and the targets, and writes results.json and results.md
 * (reports/bench, or reports/bench/quick). Every process it starts is stopped before it
 * exits. See bench/README.md and bench/lib/options.ts for the options.
 *
 * Exit code: 0 when every scenario ran (a missed target is a finding, not a failure), 1 when
 * one failed, 2 on a usage error.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureKafkaJars } from '../scripts/kafka/fetch';
import { ensureImageNode, imageNodeVersion } from '../scripts/lib/image-node';
import { KAFKA_VERSION, startKafka, type KafkaCluster } from '../scripts/kafka/harness';
import { resolveBridge, type BridgeAvailability } from './bridge/bridge';
import { javaBinary } from './lib/java';
import { createTopics, deleteTopics } from './lib/kafka';
import { parseArgs, type Options } from './lib/options';
import { liveProcesses, setLogDir, stopAll } from '../scripts/lib/processes';
import {
  addRatios,
  buildRow,
  evaluateTargets,
  FIELDS,
  toMarkdown,
  writeReport,
  type Machine,
  type Report,
  type RunRecord,
} from './lib/report';
import type { Context, Scenario } from './lib/scenario';
import { ROOT, snapshotServices } from './lib/services';
import { ourConsumer, DLQ_TOPIC } from './scenarios/consumer';
import { endToEnd, rawEndToEnd } from './scenarios/e2e';
import { SWEEPS } from './scenarios/sweeps';
import { expressFloor, expressLeanFloor, nodeHttpFloor } from './scenarios/floor';
import { api1, api100, bridge1, bridge100 } from './scenarios/http';
import { kafkaConsumerPerf, kafkaProducerPerf, prefill } from './scenarios/kafka-tools';
import { producerSigterm, rebalanceSigkill, rebalanceSigterm } from './scenarios/lifecycle';
import {
  ourBatchMessages,
  ourConsumerConcurrency,
  platformaticConsumer,
  platformaticConsumerJson,
  platformaticProducer,
  rawConsumer,
  rawConsumerJson,
  rawProducer,
} from './scenarios/raw';

/** In the order they run within a round (and appear in the table). */
export const SCENARIOS: Scenario[] = [
  kafkaProducerPerf,
  rawProducer,
  platformaticProducer,
  api100,
  bridge100,
  api1,
  nodeHttpFloor,
  expressFloor,
  expressLeanFloor,
  bridge1,
  kafkaConsumerPerf,
  rawConsumer,
  rawConsumerJson,
  platformaticConsumer,
  platformaticConsumerJson,
  ourConsumer,
  rawEndToEnd,
  endToEnd,
  producerSigterm,
  rebalanceSigterm,
  rebalanceSigkill,
  ...SWEEPS,
];

const CONSUMER_SCENARIOS = new Set([
  'kafka-consumer-perf',
  'raw-consumer',
  'raw-consumer-json',
  'platformatic-consumer',
  'platformatic-consumer-json',
  'consumer',
]);

function readsPrefilledTopic(scenario: Scenario): boolean {
  return CONSUMER_SCENARIOS.has(scenario.id) || scenario.sweep?.sweep === 'consumer-partitions';
}

const started = Date.now();
/** Set by SIGINT/SIGTERM: no further scenario starts. */
let aborted = false;
function log(line: string): void {
  const s = Math.round((Date.now() - started) / 1000);
  process.stderr.write(
    `[bench ${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}] ${line}\n`,
  );
}

/** The names a scenario answers to in --only: its id, its group, and "sweep" for a sweep's points. */
function namesOf(scenario: Scenario): string[] {
  return [scenario.id, scenario.group, ...(scenario.sweep ? ['sweep', scenario.sweep.sweep] : [])];
}

function select(only: string[] | undefined): Scenario[] {
  if (!only) return SCENARIOS;
  const unknown = only.filter((name) => !SCENARIOS.some((s) => namesOf(s).includes(name)));
  if (unknown.length > 0) {
    throw new Error(`unknown scenario or group: ${unknown.join(', ')} (see --list)`);
  }
  return SCENARIOS.filter((s) => namesOf(s).some((name) => only.includes(name)));
}

function javaVersion(): string {
  const result = spawnSync(javaBinary(), ['-version'], { encoding: 'utf8' });
  const line = `${result.stderr}${result.stdout}`.split('\n').find((l) => /version/.test(l));
  return line?.trim() ?? 'java (version unknown)';
}

/** The commit, and whether the services' sources differ from it (others edit this tree too). */
function buildDescription(): string {
  const git = (...args: string[]) =>
    spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
  const commit = git('rev-parse', '--short', 'HEAD') || 'unknown';
  const dirty = git('status', '--porcelain', '--', 'services') !== '';
  return `${commit}${dirty ? ' + uncommitted changes in services/' : ''}`;
}

function machine(loadAtStart: number[]): Machine {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${type()} ${release()}`,
    node: `${process.version} (${
      process.version === `v${imageNodeVersion()}` ? "the images' Node" : "this machine's Node"
    })`,
    java: javaVersion(),
    kafka: KAFKA_VERSION,
    loadAverageAtStart: loadAtStart,
    loadAverageAtEnd: loadavg(),
  };
}

function headline(scenario: Scenario, record: RunRecord): string {
  if (record.error !== undefined) return `FAILED: ${record.error.split('\n')[0]}`;
  const value = record.figures[scenario.primary];
  const label = FIELDS[scenario.primary]?.label ?? scenario.primary;
  return `${value === undefined ? '–' : Math.round(value * 10) / 10} ${label}`;
}

async function runScenario(scenario: Scenario, ctx: Context): Promise<RunRecord> {
  const t0 = performance.now();
  try {
    const m = await scenario.run(ctx);
    return {
      round: ctx.round,
      seconds: (performance.now() - t0) / 1000,
      figures: m.figures,
      notes: m.notes ?? [],
    };
  } catch (error) {
    return {
      round: ctx.round,
      seconds: (performance.now() - t0) / 1000,
      figures: {},
      notes: [],
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

async function bench(options: Options): Promise<number> {
  const scenarios = select(options.only);
  const { profile } = options;
  const outDir = resolve(
    options.outDir ??
      join(ROOT, 'reports', 'bench', ...(profile.name === 'quick' ? ['quick'] : [])),
  );
  const logDir = join(outDir, 'logs');
  rmSync(logDir, { recursive: true, force: true });
  setLogDir(logDir);
  const cpuProfileDir = options.cpuProfile ? join(outDir, 'profiles') : undefined;
  const loadAtStart = loadavg();
  const startedAt = new Date().toISOString();
  const runId = `bench-${randomBytes(3).toString('hex')}`;
  let seq = 0;
  const unique = (prefix: string) => `${runId}-${prefix}-${(seq += 1)}`;
  log(
    `${profile.name} run of ${scenarios.length} scenario(s) × ${profile.repeats}; logs in ${logDir}`,
  );

  let cluster: KafkaCluster | undefined;
  let buildCopy: string | undefined;
  const ownTopics: string[] = [];
  let brokers: string[] = options.brokers ?? [];
  const records = new Map<string, RunRecord[]>(scenarios.map((s) => [s.id, []]));
  try {
    const kafkaLibs = await ensureKafkaJars(KAFKA_VERSION, log);
    if (brokers.length === 0) {
      cluster = await startKafka({ nodes: 1, heap: '1g', log: (line) => log(`kafka: ${line}`) });
      brokers = cluster.bootstrap.split(',');
    }
    const bridge: BridgeAvailability = !scenarios.some((s) => s.group === 'bridge')
      ? { unavailable: 'not selected' }
      : options.bridge
        ? await resolveBridge(options.bridgeLibs)
        : { unavailable: 'skipped (--no-bridge)' };
    if ('unavailable' in bridge && scenarios.some((s) => s.group === 'bridge')) {
      log(`Kafka Bridge unavailable: ${bridge.unavailable}`);
    }
    // Inside the repository, so that the copy still finds node_modules.
    buildCopy = join(ROOT, '.cache', `bench-build-${process.pid}`);
    log(`services run from a copy of the build: ${snapshotServices(buildCopy)}`);
    await createTopics(brokers, [DLQ_TOPIC], 1).catch(() => undefined);
    const prefilledTopic = `${runId}-prefilled`;
    if (scenarios.some(readsPrefilledTopic)) {
      const count = profile.consume.warmup + profile.consume.messages;
      log(`filling ${prefilledTopic} with ${count} messages for the consumer scenarios`);
      ownTopics.push(prefilledTopic);
      await prefill({ brokers, kafkaLibs }, prefilledTopic, count);
    }

    for (let round = 1; round <= profile.repeats; round += 1) {
      const ctx: Context = {
        brokers,
        profile,
        kafkaLibs,
        bridge,
        prefilledTopic,
        cpuProfileDir,
        round,
        unique,
        log,
      };
      for (const scenario of scenarios) {
        if (aborted) throw new Error('stopped by a signal');
        if (scenario.unavailable?.(ctx) !== undefined) continue;
        const record = await runScenario(scenario, ctx);
        records.get(scenario.id)?.push(record);
        log(
          `${scenario.ref} ${scenario.id} run ${round}/${profile.repeats}: ${headline(scenario, record)} (${record.seconds.toFixed(1)} s)`,
        );
        const left = liveProcesses();
        if (left.length > 0) log(`  still running after ${scenario.id}: ${left.join(', ')}`);
      }
    }

    const ctxForAvailability = { bridge } as Context;
    const rows = scenarios.map((s) =>
      buildRow(s, records.get(s.id) ?? [], s.unavailable?.(ctxForAvailability)),
    );
    addRatios(rows, scenarios);
    const report: Report = {
      mode: profile.name,
      repeats: profile.repeats,
      startedAt,
      finishedAt: new Date().toISOString(),
      durationSec: (Date.now() - started) / 1000,
      machine: machine(loadAtStart),
      settings: {
        valueBytes: 1024,
        partitions: 6,
        acks: 'all',
        rawBatchMessages: ourBatchMessages(),
        consumerPartitionsConcurrently: ourConsumerConcurrency(),
        producerWarmup: profile.toolProducer.warmup,
        producerMessages: profile.toolProducer.messages,
        rawProducerMessages: profile.rawProducer.messages,
        api100Requests: profile.api100.requests,
        api1Requests: profile.api1.requests,
        consumeMessages: profile.consume.messages,
        e2eRate: profile.e2e.rate,
        e2eSeconds: profile.e2e.durationSec,
        kafka: options.brokers ? 'given (--brokers)' : 'harness, 1 node',
        build: buildDescription(),
      },
      rows,
      targets: evaluateTargets(rows),
    };
    const files = writeReport(report, outDir);
    process.stdout.write(`\n${toMarkdown(report)}\n`);
    log(`written: ${files.markdown}, ${files.json}`);
    return rows.some((r) => r.status === 'failed') ? 1 : 0;
  } finally {
    await deleteTopics(brokers, [...ownTopics, ...(options.brokers ? [DLQ_TOPIC] : [])]).catch(
      () => undefined,
    );
    await stopAll();
    await cluster?.stop();
    if (buildCopy) rmSync(buildCopy, { recursive: true, force: true });
  }
}

function main(): void {
  let options: Options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
  if (options.list) {
    for (const s of SCENARIOS)
      process.stdout.write(
        `${s.ref.padEnd(3)} ${s.id.padEnd(20)} ${s.group.padEnd(12)} ${s.title}\n`,
      );
    return;
  }
  if (!options.machineNode && process.env[ON_IMAGE_NODE] !== '1') {
    onImageNode().then(
      (code) => {
        if (code === undefined) run(options);
        else process.exitCode = code;
      },
      (error: unknown) => {
        log(
          `cannot run on the images' Node (${error instanceof Error ? error.message : String(error)}); ` +
            'use --machine-node to run on this one',
        );
        process.exitCode = 1;
      },
    );
    return;
  }
  run(options);
}

/** Set for the bench process that runs on the images' Node, so it does not start another. */
const ON_IMAGE_NODE = 'EVENT_PIPELINE_BENCH_ON_IMAGE_NODE';

/**
 * Runs this same command on the images' Node (every process it starts then inherits it: the
 * services, raw kafkajs, the load generator) and resolves with its exit code; undefined when
 * this process already is that Node.
 */
async function onImageNode(): Promise<number | undefined> {
  const node = await ensureImageNode();
  if (node === process.execPath) return undefined;
  log(
    `running on the images' Node v${imageNodeVersion()} (${node}); --machine-node to use ${process.version}`,
  );
  // As the images run node (Dockerfile ENTRYPOINT): kafkajs schedules negative timeouts,
  // which Node 24 warns about once per process.
  const child = spawn(
    node,
    ['--disable-warning=TimeoutNegativeWarning', __filename, ...process.argv.slice(2)],
    {
      stdio: 'inherit',
      env: { ...process.env, [ON_IMAGE_NODE]: '1' },
    },
  );
  // Ctrl-C reaches the child from the terminal itself (one process group): this one only
  // waits. A SIGTERM sent to this process alone is passed on.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  return new Promise((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 130 : 1))),
  );
}

function run(options: Options): void {
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) process.exit(130);
      stopping = true;
      aborted = true;
      log(`${signal}: stopping every process started (again to exit at once)`);
      // The finally block of bench() stops Kafka; the processes are stopped here in case a
      // scenario is waiting on one of them.
      stopAll(5_000)
        .catch((error: unknown) => {
          log(`stopping them failed: ${error instanceof Error ? error.message : String(error)}`);
        })
        .finally(() => setTimeout(() => process.exit(130), 30_000).unref());
    });
  }
  bench(options)
    .then((code) => {
      process.exitCode = code;
    })
    .catch((error: unknown) => {
      log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exitCode = 1;
    });
}

main();
