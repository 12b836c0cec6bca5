/**
 * The service images run as containers against a harness Kafka, for the container tests.
 *
 *   const kafka = await startContainerKafka();          a Kafka both the host and containers reach
 *   const producer = await runService('producer', { kafka, name: 'api' });
 *   producer.url, producer.managementUrl                published on 127.0.0.1
 *   await producer.stop()                               docker stop (SIGTERM, then the grace period)
 *   removeAll()                                         every container this module started
 *   const kafka = useContainerKafka()                   the same, as beforeAll/afterAll of a test file
 *
 * Kafka runs on the host (the harness, from the Maven jars) with an extra listener bound to
 * the host's address on Docker's default bridge and advertised as host.docker.internal, which each
 * container maps to that gateway (`--add-host host.docker.internal:host-gateway`), as users
 * do on Linux. Host-side clients (the ledger's reader) use the PLAINTEXT listener.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { docker, dockerAsync, dockerOk, serviceImages } from '../../../scripts/docker/images';
import { startKafka, type KafkaCluster } from '../../../scripts/kafka/harness';
import { writeLedgerHandler } from '../../../scripts/lib/ledger';
import { dockerRunArgs, renderedPods, type PodRun } from './pod';
import { freePort, freePorts } from '../../../scripts/lib/ports';
import { repoRoot } from '../../../scripts/lib/root';

export const DOCKER_HOST_NAME = 'host.docker.internal';
const IN_CONTAINER_LEDGER_DIR = '/ledger';

export interface ContainerKafka {
  cluster: KafkaCluster;
  /** What containers connect to. */
  containerBootstrap: string;
  /** What host processes connect to. */
  hostBrokers: string[];
}

/**
 * The host's address as containers see it: what `host-gateway` resolves to (the default
 * bridge's gateway; Engine 20.10 does not report it in `network inspect`).
 */
export function hostGateway(): string {
  const line = dockerOk([
    'run',
    '--rm',
    '--add-host',
    `${DOCKER_HOST_NAME}:host-gateway`,
    '--entrypoint',
    'getent',
    serviceImages().producer,
    'hosts',
    DOCKER_HOST_NAME,
  ]).trim();
  const address = line.split(/\s+/)[0] ?? '';
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(address)) throw new Error(`host-gateway is '${line}'`);
  return address;
}

export async function startContainerKafka(nodes: 1 | 3 = 1): Promise<ContainerKafka> {
  const ports = await freePorts(nodes);
  const cluster = await startKafka({
    nodes,
    extraListeners: [
      { name: 'DOCKER', bindHost: hostGateway(), ports, advertisedHost: DOCKER_HOST_NAME },
    ],
  });
  const containerBootstrap = cluster.extraBootstrap['DOCKER'];
  if (containerBootstrap === undefined) throw new Error('the DOCKER listener has no bootstrap');
  return { cluster, containerBootstrap, hostBrokers: cluster.bootstrap.split(',') };
}

/**
 * One Kafka for a test file: started before its tests, stopped (with every container this
 * module started) after them. Call at the top level; the getter works inside tests.
 */
export function useContainerKafka(nodes: 1 | 3 = 1): () => ContainerKafka {
  let kafka: ContainerKafka | undefined;
  beforeAll(async () => {
    kafka = await startContainerKafka(nodes);
  });
  afterAll(async () => {
    removeAll();
    await kafka?.cluster.stop();
  });
  return () => {
    if (kafka === undefined) throw new Error('the container Kafka has not started');
    return kafka;
  };
}

/** Where a ledger run's handler module and processed file live, shared with the containers. */
export interface LedgerMount {
  hostDir: string;
  /** The processed file as the host reads it. */
  processedFile: string;
  mount: string;
  env: Record<string, string>;
}

/**
 * A folder with the ledger handler (calling the image's own built-in handler) and an empty
 * processed file that the service's user may append to, bind-mounted at /ledger.
 */
export function ledgerMount(label: string): LedgerMount {
  const hostDir = join(
    repoRoot(),
    'reports',
    'container-ledgers',
    `${label}-${Date.now().toString(36)}`,
  );
  mkdirSync(hostDir, { recursive: true });
  chmodSync(hostDir, 0o777);
  writeLedgerHandler({
    dir: hostDir,
    name: 'handler',
    fileName: 'handler.js',
    defaultHandler: '/app/dist/services/consumer/handler.js',
  });
  const processedFile = join(hostDir, 'processed.tsv');
  writeFileSync(processedFile, '');
  chmodSync(processedFile, 0o666);
  return {
    hostDir,
    processedFile,
    mount: `type=bind,source=${hostDir},target=${IN_CONTAINER_LEDGER_DIR}`,
    env: {
      HANDLER_MODULE: `${IN_CONTAINER_LEDGER_DIR}/handler.js`,
      LEDGER_PROCESSED_FILE: `${IN_CONTAINER_LEDGER_DIR}/processed.tsv`,
    },
  };
}

export interface ServiceContainer {
  name: string;
  pod: PodRun;
  /** Base URL of the API (producer only). */
  url: string;
  managementUrl: string;
  /** docker stop with the time the pod has after its preStop sleep; resolves with the exit code. */
  stop(): Promise<number>;
  /** docker kill (SIGKILL). */
  kill(): Promise<void>;
  logs(): string;
  inspect(): ContainerState;
}

export interface ContainerState {
  Status: string;
  ExitCode: number;
  OOMKilled: boolean;
  StartedAt: string;
  FinishedAt: string;
}

const started = new Set<string>();
let counter = 0;

export interface RunServiceOptions {
  kafka: ContainerKafka;
  label: string;
  env?: Record<string, string>;
  mounts?: string[];
}

/** Starts the service's image as its Deployment runs it, with the given variables on top. */
export async function runService(
  component: PodRun['component'],
  options: RunServiceOptions,
): Promise<ServiceContainer> {
  const pod = renderedPods()[component];
  counter += 1;
  const name = `ep-test-${options.label}-${process.pid}-${counter}`;
  const publish: Record<number, number> = {};
  for (const port of pod.ports) publish[port.containerPort] = await freePort();
  const args = dockerRunArgs(pod, {
    name,
    env: { KAFKA_BROKERS: options.kafka.containerBootstrap, ...options.env },
    publish,
    mounts: options.mounts,
    addHosts: [`${DOCKER_HOST_NAME}:host-gateway`],
  });
  started.add(name);
  dockerOk(['run', '--detach', ...args, pod.image]);
  const portOf = (portName: string) => {
    const port = pod.ports.find((p) => p.name === portName);
    const host = port && publish[port.containerPort];
    return host === undefined ? '' : `http://127.0.0.1:${host}`;
  };
  const inspect = (): ContainerState =>
    JSON.parse(dockerOk(['inspect', '--format', '{{json .State}}', name])) as ContainerState;
  return {
    name,
    pod,
    url: portOf('http'),
    managementUrl: portOf('management'),
    async stop() {
      const seconds = pod.graceSeconds - pod.preStopSleepSeconds;
      const result = await dockerAsync(['stop', '--time', String(seconds), name]);
      if (result.status !== 0) throw new Error(`docker stop ${name}: ${result.stderr}`);
      return inspect().ExitCode;
    },
    async kill() {
      dockerOk(['kill', '--signal', 'KILL', name]);
      while (inspect().Status === 'running') await sleep(50);
    },
    logs() {
      const result = docker(['logs', name]);
      return result.stdout + result.stderr;
    },
    inspect,
  };
}

/** Status of a management path, or 'down' when nothing answers. */
export async function probe(baseUrl: string, path: string): Promise<number | 'down'> {
  try {
    const response = await fetch(`${baseUrl}${path}`, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 'down';
  }
}

/** Waits until the container's readiness path answers 200; its logs are in the error otherwise. */
export async function waitReady(container: ServiceContainer, timeoutMs = 60_000): Promise<number> {
  const from = Date.now();
  while (Date.now() - from < timeoutMs) {
    if ((await probe(container.managementUrl, container.pod.readinessPath)) === 200) {
      return Date.now() - from;
    }
    const state = container.inspect();
    if (state.Status !== 'running') {
      throw new Error(
        `${container.name} is ${state.Status} (exit ${state.ExitCode}):\n${container.logs()}`,
      );
    }
    await sleep(100);
  }
  throw new Error(`${container.name} not ready after ${timeoutMs} ms:\n${container.logs()}`);
}

/** The service's JSON log lines (from docker logs), parsed. */
export function jsonLogs(container: ServiceContainer): Array<Record<string, unknown>> {
  return container
    .logs()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Removes every container this module started (for afterAll); never throws. */
export function removeAll(): void {
  for (const name of started) docker(['rm', '--force', '--volumes', name]);
  started.clear();
}
