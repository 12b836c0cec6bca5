/**
 * A real Apache Kafka (KRaft, the version pinned in version.ts) on 127.0.0.1, without Docker:
 * for integration tests, `npm run local` and the benchmarks.
 *
 *   const cluster = await startKafka({ nodes: 3, topics: [{ name: 'events', partitions: 6 }] });
 *   cluster.bootstrap                  '127.0.0.1:41234,127.0.0.1:40111,127.0.0.1:38455'
 *   cluster.logFile                    every broker's output, lines tagged [node N]; point failures here
 *   await cluster.createTopics([...])  waits until every partition has a leader and a full ISR
 *   await cluster.stopNode(2, 'SIGKILL'); await cluster.startNode(2)   same ports, same data
 *   await cluster.waitInSync(['events'])   until the restarted node is back in every ISR
 *   await cluster.stop()               SIGTERM, SIGKILL after stopTimeoutMs; idempotent
 *
 * Options (all optional): nodes 1 | 3 (default 1); ports: fixed client ports, one per node
 * (default: free ports; controller ports are always free ones); dataDir: keep storage there and
 * reuse it next time (default: a temp folder removed by stop()); logFile (default:
 * reports/kafka-logs/kafka-<time>-<pid>.log; older ones beyond the newest 20 are pruned); topics; extraBrokerConfig
 * (overrides any broker property); heap (default 512m per node); startTimeoutMs (default
 * 120 s); stopTimeoutMs (default 20 s); log: progress lines (default: none); sasl: `{ users }`
 * adds a SASL_PLAINTEXT listener (SCRAM-SHA-512, on free ports) whose users are created with
 * Kafka's own StorageTool at format time; its address is `cluster.saslBootstrap`. The
 * PLAINTEXT listener stays (brokers and the harness use it). extraListeners: listeners that
 * advertise another address than they bind (behind forwarders, or host.docker.internal for
 * Docker containers); their bootstraps are `cluster.extraBootstrap[name]`.
 *
 * Every node is broker and controller. One node: replication factor 1. Three nodes: default
 * replication factor 3, min.insync.replicas 2 (also for the internal topics).
 *
 * Nothing is left behind: stop() verifies the processes are gone and their ports refuse
 * connections. Brokers run in their own process group (Ctrl-C in a terminal reaches only the
 * owner, which stops them in its own order); if the owner exits without stop(), a process
 * 'exit' hook SIGKILLs them, and if it dies from a signal, a tiny watchdog process that
 * notices its stdin closing stops them and removes the temp data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin } from 'kafkajs';
import {
  bootstrapOf,
  brokerProperties,
  saslBootstrapOf,
  scramFormatArgs,
  HOST,
  jvmArgs,
  log4j2Config,
  newClusterId,
  nodeDataDir,
  parseProperties,
  planNodes,
  renderProperties,
  summarizeLog,
  planExtraListeners,
  withExtraListeners,
  type ExtraListener,
  type NodeAddress,
  type ScramUser,
} from './config';
import { ensureKafkaJars } from './fetch';
import { freePorts, isPortOpen } from '../lib/ports';
import { waitUntil } from '../lib/poll';
import { repoRoot } from '../lib/root';
import { withAdmin } from './admin';
import { KAFKA_VERSION } from './version';
import { Watchdog } from '../watchdog';

export { KAFKA_VERSION };
export type { ExtraListener };
export type { ScramUser };

export interface TopicSpec {
  name: string;
  /** Default: the broker's num.partitions (1). */
  partitions?: number;
  /** Default: the broker's default.replication.factor (1, or 3 on three nodes). */
  replicationFactor?: number;
  config?: Record<string, string>;
}

export interface StartKafkaOptions {
  nodes?: 1 | 3;
  ports?: number[];
  dataDir?: string;
  logFile?: string;
  topics?: TopicSpec[];
  extraBrokerConfig?: Record<string, string>;
  /**
   * Client listeners advertised under another address than they bind (config.ts's
   * ExtraListener), e.g. host.docker.internal for a client in a container, or the ports of
   * forwarders in front of the brokers. Their bootstraps: `cluster.extraBootstrap[name]`.
   */
  extraListeners?: ExtraListener[];
  /**
   * Ports the caller will bind after Kafka is up (e.g. the services of `npm run local`): the
   * ports the harness picks for itself never take one of them.
   */
  avoidPorts?: readonly number[];
  heap?: string;
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
  log?: (line: string) => void;
  /** A SASL_PLAINTEXT listener with SCRAM-SHA-512 and these users (created at format time). */
  sasl?: { users: ScramUser[] };
}

export interface KafkaNodeInfo {
  id: number;
  port: number;
  controllerPort: number;
  /** Port of the SASL_PLAINTEXT listener, with the `sasl` option. */
  saslPort?: number;
  /** The JVM's pid while it runs. */
  pid: number | undefined;
  running: boolean;
}

export interface KafkaCluster {
  readonly version: string;
  readonly bootstrap: string;
  readonly brokers: string[];
  /** Bootstrap servers of the SCRAM-SHA-512 listener (with the `sasl` option). */
  readonly saslBootstrap: string | undefined;
  /** Advertised bootstrap of each extra listener, by name (empty without extraListeners). */
  readonly extraBootstrap: Readonly<Record<string, string>>;
  readonly logFile: string;
  readonly dataDir: string;
  readonly nodeIds: number[];
  nodes(): KafkaNodeInfo[];
  createTopics(specs: TopicSpec[]): Promise<void>;
  stopNode(id: number, signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Returns when the node serves, which can be before it is back in the topics' ISRs. */
  startNode(id: number): Promise<void>;
  /** Waits until every partition of the topics has a leader and all its replicas in sync. */
  waitInSync(topics: readonly string[], timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export class KafkaHarnessError extends Error {
  override readonly name = 'KafkaHarnessError';
}

const LOG_DIR_NAME = join('reports', 'kafka-logs');
const LOGS_KEPT = 20;

export async function startKafka(options: StartKafkaOptions = {}): Promise<KafkaCluster> {
  const nodeCount = options.nodes ?? 1;
  const say = options.log ?? (() => undefined);
  const started = performance.now();
  // Fetching prints its one line to stderr when no log function was given.
  const libsDir = await ensureKafkaJars(KAFKA_VERSION, options.log);
  const logFile = options.logFile ?? newLogFile();
  const fixedPorts = options.ports !== undefined;
  if (fixedPorts) await assertPortsFree(options.ports ?? []);
  await assertPortsFree((options.extraListeners ?? []).flatMap((l) => l.ports));

  for (let attempt = 1; ; attempt += 1) {
    // The extra listeners' ports are free but not bound yet: the nodes' own must not take them.
    const avoid = [
      ...(options.avoidPorts ?? []),
      ...(options.extraListeners ?? []).flatMap((l) => l.ports),
    ];
    const clientPorts = options.ports ?? (await freePorts(nodeCount, avoid));
    const controllerPorts = await freePorts(nodeCount, [...avoid, ...clientPorts]);
    const saslPorts = options.sasl
      ? await freePorts(nodeCount, [...avoid, ...clientPorts, ...controllerPorts])
      : undefined;
    const addresses = planNodes(nodeCount, clientPorts, controllerPorts, saslPorts);
    const cluster = new Cluster(addresses, libsDir, logFile, options, say);
    try {
      await cluster.start();
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      say(
        `Kafka ${KAFKA_VERSION}: ${nodeCount} node(s) serving at ${cluster.bootstrap} in ${seconds} s`,
      );
      return cluster;
    } catch (error) {
      await cluster.stop().catch(() => undefined);
      // Free ports can be taken by someone else between our probe and the broker's bind.
      if (error instanceof PortTakenError && !fixedPorts && attempt < 3) {
        say(`a port was taken meanwhile (${error.message}); retrying on other ports`);
        continue;
      }
      throw error;
    }
  }
}

class PortTakenError extends KafkaHarnessError {}

interface NodeState {
  address: NodeAddress;
  propsFile: string;
  child: ChildProcess | undefined;
  exit: Promise<void> | undefined;
  exitedWith: string | undefined;
  /** Has served clients: its ports were ours, so stopping it must free them. */
  served: boolean;
  /** The harness signalled it; any other exit is worth a line in the log. */
  halting: boolean;
}

class Cluster implements KafkaCluster {
  readonly version = KAFKA_VERSION;
  readonly bootstrap: string;
  readonly brokers: string[];
  readonly saslBootstrap: string | undefined;
  readonly extraBootstrap: Readonly<Record<string, string>>;
  readonly dataDir: string;
  readonly nodeIds: number[];
  private readonly ownsDataDir: boolean;
  private readonly state: Map<number, NodeState>;
  private readonly stopTimeoutMs: number;
  private readonly startTimeoutMs: number;
  private logFd: number | undefined;
  private watchdog: Watchdog | undefined;
  private stopping: Promise<void> | undefined;
  private readonly onProcessExit = () => {
    for (const node of this.state.values()) {
      if (isRunning(node) && node.child?.pid !== undefined) {
        try {
          process.kill(node.child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  };

  constructor(
    addresses: NodeAddress[],
    private readonly libsDir: string,
    readonly logFile: string,
    private readonly options: StartKafkaOptions,
    private readonly say: (line: string) => void,
  ) {
    this.bootstrap = bootstrapOf(addresses);
    this.brokers = this.bootstrap.split(',');
    this.saslBootstrap = saslBootstrapOf(addresses);
    this.extraBootstrap = Object.fromEntries(
      (options.extraListeners ?? []).map((l) => [
        l.name,
        (l.advertisedPorts ?? l.ports).map((port) => `${l.advertisedHost}:${port}`).join(','),
      ]),
    );
    this.nodeIds = addresses.map((a) => a.id);
    this.ownsDataDir = options.dataDir === undefined;
    this.dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'event-pipeline-kafka-'));
    this.stopTimeoutMs = options.stopTimeoutMs ?? 20_000;
    this.startTimeoutMs = options.startTimeoutMs ?? 120_000;
    this.state = new Map(
      addresses.map((address) => [
        address.id,
        {
          address,
          propsFile: join(this.dataDir, `node-${address.id}.properties`),
          child: undefined,
          exit: undefined,
          exitedWith: undefined,
          served: false,
          halting: false,
        },
      ]),
    );
  }

  nodes(): KafkaNodeInfo[] {
    return [...this.state.values()].map((n) => ({
      id: n.address.id,
      port: n.address.port,
      controllerPort: n.address.controllerPort,
      ...(n.address.saslPort === undefined ? {} : { saslPort: n.address.saslPort }),
      pid: isRunning(n) ? n.child?.pid : undefined,
      running: isRunning(n),
    }));
  }

  async start(): Promise<void> {
    mkdirSync(this.dataDir, { recursive: true });
    this.logFd = openSync(this.logFile, 'a');
    this.note(
      `starting Kafka ${KAFKA_VERSION}, ${this.state.size} node(s), data in ${this.dataDir}`,
    );
    this.watchdog = new Watchdog(this.ownsDataDir ? this.dataDir : undefined);
    process.on('exit', this.onProcessExit);
    const log4jFile = join(this.dataDir, 'log4j2.xml');
    writeFileSync(log4jFile, log4j2Config());

    const clusterId = existingClusterId(this.dataDir, this.nodeIds) ?? newClusterId();
    const all = [...this.state.values()].map((n) => n.address);
    const extraListeners = this.planExtraListeners(all);
    const logMark = fileSize(this.logFile);
    await Promise.all(
      [...this.state.values()].map(async (node, index) => {
        const props = withExtraListeners(
          brokerProperties({
            node: node.address,
            all,
            dataDir: this.dataDir,
            extra: this.options.extraBrokerConfig,
          }),
          extraListeners[index] ?? [],
        );
        writeFileSync(node.propsFile, renderProperties(props));
        if (!existsSync(join(nodeDataDir(this.dataDir, node.address.id), 'meta.properties'))) {
          await this.format(node, clusterId, log4jFile, logMark);
        }
      }),
    );
    for (const node of this.state.values()) this.spawnNode(node);
    await this.waitForBrokers(this.nodeIds, logMark);
    if (this.options.topics && this.options.topics.length > 0) {
      await this.createTopics(this.options.topics);
    }
  }

  /** The extra listeners per node (in node order), checked against the ports in use. */
  private planExtraListeners(all: readonly NodeAddress[]) {
    const specs = this.options.extraListeners ?? [];
    if (specs.some((l) => l.protocol === 'SASL_PLAINTEXT') && this.options.sasl === undefined) {
      throw new KafkaHarnessError(
        'a SASL_PLAINTEXT extra listener needs the `sasl` option (its users)',
      );
    }
    const taken = all.flatMap((a) => [
      a.port,
      a.controllerPort,
      ...(a.saslPort ? [a.saslPort] : []),
    ]);
    return planExtraListeners(specs, all.length, taken);
  }

  async createTopics(specs: TopicSpec[]): Promise<void> {
    await this.withAdmin(async (admin) => {
      const existing = new Set(await admin.listTopics());
      const missing = specs.filter((s) => !existing.has(s.name));
      if (missing.length > 0) {
        await admin.createTopics({
          waitForLeaders: false, // kafkajs gives up on some transient errors; the poll below waits
          timeout: 30_000,
          topics: missing.map((s) => ({
            topic: s.name,
            numPartitions: s.partitions ?? -1,
            replicationFactor: s.replicationFactor ?? -1,
            configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
          })),
        });
      }
      await poll(
        `the leaders and replicas of ${specs.map((s) => s.name).join(', ')}`,
        30_000,
        () =>
          allInSync(
            admin,
            specs.map((s) => s.name),
          ),
        () => this.logTail(),
      );
    });
    this.note(`topics ready: ${specs.map((s) => s.name).join(', ')}`);
  }

  async waitInSync(topics: readonly string[], timeoutMs = 90_000): Promise<void> {
    await this.withAdmin((admin) =>
      poll(
        `every replica of ${topics.join(', ')} in sync`,
        timeoutMs,
        () => allInSync(admin, topics),
        () => this.logTail(),
      ),
    );
  }

  async stopNode(id: number, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const node = this.node(id);
    await this.halt(node, signal);
    if (node.served) await waitPortsClosed(portsOf(node));
  }

  async startNode(id: number): Promise<void> {
    const node = this.node(id);
    if (isRunning(node)) throw new KafkaHarnessError(`node ${id} is already running`);
    if (this.stopping) throw new KafkaHarnessError('the cluster is stopped');
    const logMark = fileSize(this.logFile);
    this.spawnNode(node);
    await this.waitForBrokers([id], logMark);
  }

  stop(): Promise<void> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  private async stopAll(): Promise<void> {
    const nodes = [...this.state.values()];
    try {
      await Promise.all(nodes.map((node) => this.halt(node, 'SIGTERM')));
      await waitPortsClosed(nodes.filter((n) => n.served).flatMap(portsOf));
    } finally {
      process.removeListener('exit', this.onProcessExit);
      this.watchdog?.release();
      this.note('stopped');
      if (this.logFd !== undefined) closeSync(this.logFd);
      this.logFd = undefined;
      if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
    }
  }

  /** Signals the node and waits for its exit; SIGTERM turns into SIGKILL after the deadline. */
  private async halt(node: NodeState, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const { child, exit } = node;
    if (!isRunning(node) || child === undefined || exit === undefined) return;
    const started = performance.now();
    this.note(`node ${node.address.id}: ${signal}`);
    node.halting = true;
    child.kill(signal);
    if (signal === 'SIGTERM') {
      const timer = setTimeout(() => {
        this.note(`node ${node.address.id}: still running after ${this.stopTimeoutMs} ms, SIGKILL`);
        child.kill('SIGKILL');
      }, this.stopTimeoutMs);
      await exit;
      clearTimeout(timer);
    } else {
      await exit;
    }
    this.note(
      `node ${node.address.id}: exited (${node.exitedWith}) after ${Math.round(performance.now() - started)} ms`,
    );
  }

  private spawnNode(node: NodeState): void {
    const args = [
      ...jvmArgs({
        libsDir: this.libsDir,
        log4jConfigFile: join(this.dataDir, 'log4j2.xml'),
        nodeLabel: String(node.address.id),
        heap: this.options.heap,
      }),
      'kafka.Kafka',
      node.propsFile,
    ];
    // detached: its own process group, so a terminal's Ctrl-C goes to the owner only.
    const child = spawn(javaBinary(), args, {
      detached: true,
      stdio: ['ignore', this.logFd ?? 'ignore', this.logFd ?? 'ignore'],
    });
    node.child = child;
    node.exitedWith = undefined;
    node.halting = false;
    node.exit = new Promise<void>((resolve) => {
      child.once('error', (error) => {
        node.exitedWith = `could not start ${javaBinary()}: ${error.message} (Java 17+ is needed; set JAVA_HOME or PATH)`;
        resolve();
      });
      child.once('exit', (code, signal) => {
        node.exitedWith = signal ?? `exit code ${code}`;
        if (child.pid !== undefined) this.watchdog?.untrack(child.pid);
        if (!node.halting) {
          this.note(`node ${node.address.id}: ended unexpectedly (${node.exitedWith})`);
        }
        resolve();
      });
    });
    if (child.pid !== undefined) this.watchdog?.track(child.pid);
    this.note(
      `node ${node.address.id}: pid ${child.pid}, client port ${node.address.port}, controller port ${node.address.controllerPort}`,
    );
  }

  private async format(
    node: NodeState,
    clusterId: string,
    log4jFile: string,
    logMark: number,
  ): Promise<void> {
    const args = [
      ...jvmArgs({
        libsDir: this.libsDir,
        log4jConfigFile: log4jFile,
        nodeLabel: `${node.address.id} format`,
        heap: '128m',
        extra: ['-XX:TieredStopAtLevel=1'],
      }),
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId,
      '-c',
      node.propsFile,
      ...scramFormatArgs(this.options.sasl?.users ?? []),
    ];
    const code = await new Promise<number | string>((resolve) => {
      const child = spawn(javaBinary(), args, {
        stdio: ['ignore', this.logFd ?? 'ignore', this.logFd ?? 'ignore'],
      });
      child.once('error', (error) => resolve(`${error.message} (is Java 17+ installed?)`));
      child.once('exit', (exitCode, signal) => resolve(exitCode ?? signal ?? -1));
    });
    if (code !== 0) {
      throw new KafkaHarnessError(
        `formatting the storage of node ${node.address.id} failed (${code}); log: ${this.logFile}\n${this.logTail(logMark)}`,
      );
    }
  }

  /** Waits until a client sees every node in `ids` as a live broker; fails early if one dies. */
  private async waitForBrokers(ids: number[], logMark: number): Promise<void> {
    const deadline = Date.now() + this.startTimeoutMs;
    for (;;) {
      for (const id of ids) {
        const node = this.node(id);
        if (!isRunning(node)) {
          const output = readFrom(this.logFile, logMark);
          const message = `Kafka node ${id} ended while starting (${node.exitedWith}); log: ${this.logFile}\n${this.logTail(logMark)}`;
          if (/BindException|Address already in use/.test(output))
            throw new PortTakenError(message);
          throw new KafkaHarnessError(message);
        }
      }
      const live = await this.withAdmin(
        async (admin) => (await admin.describeCluster()).brokers.map((b) => b.nodeId),
        1,
      ).catch(() => [] as number[]);
      if (ids.every((id) => live.includes(id))) {
        for (const id of ids) this.node(id).served = true;
        return;
      }
      if (Date.now() > deadline) {
        throw new KafkaHarnessError(
          `Kafka did not serve within ${this.startTimeoutMs} ms (live brokers: [${live.join(', ')}], ` +
            `waiting for [${ids.join(', ')}]); log: ${this.logFile}\n${this.logTail(logMark)}`,
        );
      }
      await sleep(250);
    }
  }

  private async withAdmin<T>(use: (admin: Admin) => Promise<T>, retries = 5): Promise<T> {
    const running = [...this.state.values()].filter(isRunning).map((n) => n.address);
    const brokers = bootstrapOf(
      running.length > 0 ? running : [...this.state.values()].map((n) => n.address),
    ).split(',');
    return withAdmin(brokers, use, {
      clientId: 'kafka-harness',
      retry: { retries, initialRetryTime: 200, maxRetryTime: 2_000 },
      connectionTimeoutMs: 2_000,
      requestTimeoutMs: 10_000,
    });
  }

  private node(id: number): NodeState {
    const node = this.state.get(id);
    if (node === undefined)
      throw new KafkaHarnessError(`no node ${id} (nodes: ${this.nodeIds.join(', ')})`);
    return node;
  }

  private note(line: string): void {
    this.say(line);
    if (this.logFd !== undefined)
      writeFileSync(this.logFd, `[${new Date().toISOString()}] [harness] ${line}\n`);
  }

  /** The log since `from` (a byte offset), summarized for an error message. */
  private logTail(from = fileSize(this.logFile) - 256 * 1024): string {
    return summarizeLog(readFrom(this.logFile, Math.max(0, from)));
  }
}

function portsOf(node: NodeState): number[] {
  const { port, controllerPort, saslPort } = node.address;
  return saslPort === undefined ? [port, controllerPort] : [port, controllerPort, saslPort];
}

function isRunning(node: NodeState): boolean {
  return (
    node.child !== undefined &&
    node.exitedWith === undefined &&
    node.child.exitCode === null &&
    node.child.signalCode === null
  );
}

function javaBinary(): string {
  const home = process.env.JAVA_HOME;
  return home ? join(home, 'bin', 'java') : 'java';
}

function existingClusterId(dataDir: string, ids: number[]): string | undefined {
  for (const id of ids) {
    const meta = join(nodeDataDir(dataDir, id), 'meta.properties');
    if (existsSync(meta)) return parseProperties(readFileSync(meta, 'utf8'))['cluster.id'];
  }
  return undefined;
}

function newLogFile(): string {
  const dir = join(repoRoot(), LOG_DIR_NAME);
  mkdirSync(dir, { recursive: true });
  // Names start with the time, so they sort by age. An hour's grace spares the logs of
  // clusters that other processes still run.
  const old = readdirSync(dir)
    .filter((name) => /^kafka-.*\.log$/.test(name))
    .sort()
    .reverse()
    .slice(LOGS_KEPT - 1)
    .map((name) => join(dir, name))
    .filter((file) => {
      const modified = statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? Date.now();
      return Date.now() - modified > 3_600_000;
    });
  for (const file of old) rmSync(file, { force: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return join(dir, `kafka-${stamp}-${process.pid}.log`);
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function readFrom(file: string, offset: number): string {
  try {
    return readFileSync(file).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}

/** Every partition of the topics has a leader and all its replicas in its ISR. */
async function allInSync(admin: Admin, topics: readonly string[]): Promise<boolean> {
  const metadata = await admin.fetchTopicMetadata({ topics: [...topics] });
  return metadata.topics.every(
    (t) =>
      t.partitions.length > 0 &&
      t.partitions.every((p) => p.leader >= 0 && p.isr.length === p.replicas.length),
  );
}

/** Waits until `check` is true (a throw is "not yet"); the timeout error ends with the log's tail. */
async function poll(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
  tail: () => string,
): Promise<void> {
  await waitUntil(what, check, { timeoutMs, retryErrors: true }).catch((error: unknown) => {
    throw new KafkaHarnessError(
      `${error instanceof Error ? error.message : String(error)}\n${tail()}`,
    );
  });
}

async function assertPortsFree(ports: readonly number[]): Promise<void> {
  for (const port of ports) {
    if (await isPortOpen(port)) {
      throw new KafkaHarnessError(`port ${port} on ${HOST} is in use (is another Kafka running?)`);
    }
  }
}

async function waitPortsClosed(ports: readonly number[], timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open: number[] = [];
    for (const port of ports) if (await isPortOpen(port)) open.push(port);
    if (open.length === 0) return;
    if (Date.now() > deadline)
      throw new KafkaHarnessError(`ports still open after the brokers exited: ${open.join(', ')}`);
    await sleep(100);
  }
}
