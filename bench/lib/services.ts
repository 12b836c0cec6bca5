/**
 * Our services as the benchmark runs them: the built dist/services/<name>/main.js as child
 * processes, with their default settings except ports, brokers, topics and the group, and
 * (with --profile) node's --cpu-prof writing a profile when they exit.
 */
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { newLogFile, type Tracked } from '../../scripts/lib/processes';
import { scrape, type Sample } from './prom';
import { repoRoot } from '../../scripts/lib/root';
import {
  serviceMain,
  startOnFreePorts,
  type RunningService as LibService,
  type ServiceName,
} from '../../scripts/lib/services';

export const ROOT = repoRoot(__dirname);
/**
 * BENCH_DIST_DIR: run the services from another build (say, a copy with a candidate fix) to
 * compare it with the tree's; BENCH_SERVICE_NODE_OPTIONS: NODE_OPTIONS for our services only
 * (e.g. --max-semi-space-size=32). Both are for experiments; the published table uses neither.
 */
let DIST = process.env.BENCH_DIST_DIR ?? join(ROOT, 'dist');

/**
 * Copies the built services (and the bench's e2e handler, which imports them) to `dir` and runs
 * them from there: dist/ is shared with everyone building in this tree, and a rebuild in the
 * middle of a run must not change what is measured. Returns the folder used.
 */
export function snapshotServices(dir: string): string {
  if (process.env.BENCH_DIST_DIR) return DIST;
  rmSync(dir, { recursive: true, force: true });
  for (const part of ['services', 'bench']) {
    const from = join(ROOT, 'dist', part);
    if (!existsSync(from)) throw new Error(`${from} is missing: run npm run build first`);
    cpSync(from, join(dir, part), { recursive: true });
  }
  DIST = dir;
  return dir;
}

/** The e2e scenario's HANDLER_MODULE, from the same build as the services. */
export function latencyHandlerPath(): string {
  return join(DIST, 'bench', 'e2e', 'latency-handler.js');
}

export interface ServiceOptions {
  brokers: string[];
  /** Extra environment (wins over the defaults set here). */
  env?: Record<string, string>;
  /** Write a CPU profile into this folder when the process exits. */
  profileDir?: string;
  label: string;
}

export interface RunningService {
  readonly proc: Tracked;
  readonly managementUrl: string;
  metrics(): Promise<Sample[]>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

export interface RunningProducer extends RunningService {
  readonly apiUrl: string;
  readonly httpPort: number;
}

async function start(
  name: ServiceName,
  options: ServiceOptions,
  settings: {
    env: Record<string, string>;
    portSettings?: string[];
    until: '/readyz' | '/livez';
    timeoutMs: number;
  },
): Promise<{ service: LibService; ports: Record<string, number> }> {
  const main = serviceMain(name, DIST);
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build first`);
  const nodeArgs: string[] = [];
  if (options.profileDir) {
    mkdirSync(options.profileDir, { recursive: true });
    nodeArgs.push(
      '--cpu-prof',
      `--cpu-prof-dir=${options.profileDir}`,
      `--cpu-prof-name=${options.label}.cpuprofile`,
    );
  }
  return startOnFreePorts(name, {
    env: {
      ...(process.env.BENCH_SERVICE_NODE_OPTIONS
        ? { NODE_OPTIONS: process.env.BENCH_SERVICE_NODE_OPTIONS }
        : {}),
      KAFKA_BROKERS: options.brokers.join(','),
      ...settings.env,
      ...options.env,
    },
    portSettings: settings.portSettings,
    until: settings.until,
    timeoutMs: settings.timeoutMs,
    output: newLogFile(options.label),
    label: options.label,
    distDir: DIST,
    nodeArgs,
  });
}

function service(running: LibService): RunningService {
  return {
    proc: running.proc,
    managementUrl: running.managementUrl,
    metrics: () => scrape(`${running.managementUrl}/metrics`),
    stop: (signal: NodeJS.Signals = 'SIGTERM') => running.stop(signal, 30_000),
  };
}

export async function startProducer(
  topics: string[],
  options: ServiceOptions,
): Promise<RunningProducer> {
  const { service: producer, ports } = await start('producer', options, {
    env: { TOPICS: topics.join(',') },
    portSettings: ['HTTP_PORT'],
    until: '/readyz',
    timeoutMs: 60_000,
  });
  const httpPort = ports.HTTP_PORT ?? 0;
  return { ...service(producer), apiUrl: `http://127.0.0.1:${httpPort}`, httpPort };
}

/**
 * Starts a consumer; `waitJoined` (default true) waits until it has joined its group
 * (readiness), which can take a while when another member must rebalance first; without it,
 * only until its management server answers.
 */
export async function startConsumer(
  topics: string[],
  groupId: string,
  deadLetterTopic: string,
  options: ServiceOptions & { waitJoined?: boolean },
): Promise<RunningService> {
  const joined = options.waitJoined !== false;
  const { service: consumer } = await start('consumer', options, {
    env: {
      TOPICS: topics.join(','),
      CONSUMER_GROUP_ID: groupId,
      DLQ_TOPIC: deadLetterTopic,
    },
    until: joined ? '/readyz' : '/livez',
    timeoutMs: joined ? 90_000 : 60_000,
  });
  return service(consumer);
}
