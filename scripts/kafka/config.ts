/**
 * Pure parts of the Kafka harness (no processes, no network), unit-tested in
 * tests/unit/kafka-harness-config.test.ts: broker properties, the log4j2 config, cluster ids,
 * JVM arguments and option checks.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

export const HOST = '127.0.0.1';

export type NodeCount = 1 | 3;

export interface NodeAddress {
  id: number;
  port: number;
  controllerPort: number;
}

/**
 * A client-facing listener. Only PLAINTEXT today; a SASL_PLAINTEXT listener (SCRAM) would be
 * a second entry with its own port and `listener.name.<name>.*` settings in `extra`.
 */
export interface ListenerSpec {
  name: string;
  protocol: 'PLAINTEXT' | 'SASL_PLAINTEXT';
  port: number;
  extra?: Record<string, string>;
}

export const CONTROLLER_LISTENER = 'CONTROLLER';

/** Cluster-wide settings that depend on the node count: replication fits the cluster. */
export function clusterDefaults(nodeCount: number): Record<string, string> {
  const replicationFactor = String(Math.min(3, nodeCount));
  const minInsync = nodeCount >= 3 ? '2' : '1';
  return {
    'num.partitions': '1',
    'default.replication.factor': replicationFactor,
    'min.insync.replicas': minInsync,
    'offsets.topic.replication.factor': replicationFactor,
    // 50 partitions (the default) make the first consumer group slow to start on 2 cores.
    'offsets.topic.num.partitions': '10',
    'transaction.state.log.replication.factor': replicationFactor,
    'transaction.state.log.min.isr': minInsync,
    'transaction.state.log.num.partitions': '10',
    'share.coordinator.state.topic.replication.factor': replicationFactor,
    'share.coordinator.state.topic.min.isr': minInsync,
    'group.initial.rebalance.delay.ms': '0',
    // The default (128 MiB) is allocated on the heap at start; Kafka wants > 1 MiB per cleaner thread.
    'log.cleaner.dedupe.buffer.size': String(4 * 1024 * 1024),
  };
}

export interface BrokerPropertiesInput {
  node: NodeAddress;
  all: NodeAddress[];
  dataDir: string;
  listeners?: ListenerSpec[];
  extra?: Record<string, string>;
}

/** server.properties of one dual-role (broker + controller) KRaft node on 127.0.0.1. */
export function brokerProperties(input: BrokerPropertiesInput): Record<string, string> {
  const { node, all } = input;
  const listeners = input.listeners ?? [
    { name: 'PLAINTEXT', protocol: 'PLAINTEXT', port: node.port },
  ];
  const first = listeners[0];
  if (first === undefined) throw new Error('a broker needs at least one client listener');
  const listenerExtras = Object.assign({}, ...listeners.map((l) => l.extra ?? {})) as Record<
    string,
    string
  >;
  return {
    'process.roles': 'broker,controller',
    'node.id': String(node.id),
    'controller.quorum.voters': all.map((n) => `${n.id}@${HOST}:${n.controllerPort}`).join(','),
    'controller.listener.names': CONTROLLER_LISTENER,
    listeners: [
      ...listeners.map((l) => `${l.name}://${HOST}:${l.port}`),
      `${CONTROLLER_LISTENER}://${HOST}:${node.controllerPort}`,
    ].join(','),
    'advertised.listeners': listeners.map((l) => `${l.name}://${HOST}:${l.port}`).join(','),
    'inter.broker.listener.name': first.name,
    'listener.security.protocol.map': [
      ...listeners.map((l) => `${l.name}:${l.protocol}`),
      `${CONTROLLER_LISTENER}:PLAINTEXT`,
    ].join(','),
    'log.dirs': nodeDataDir(input.dataDir, node.id),
    ...clusterDefaults(all.length),
    ...listenerExtras,
    ...input.extra,
  };
}

export function nodeDataDir(dataDir: string, id: number): string {
  return join(dataDir, `node-${id}`);
}

/** Java .properties text; escapes what the format gives a meaning to. */
export function renderProperties(props: Record<string, string>): string {
  const escape = (text: string, isKey: boolean) =>
    text
      .replace(/\\/g, '\\\\')
      .replace(/\n/g, '\\n')
      .replace(/\r/g, '\\r')
      .replace(/\t/g, '\\t')
      .replace(isKey ? /([=: #!])/g : /^([ #!])/, '\\$1')
      // Properties.load reads ISO-8859-1: anything else (say, in a temp path) goes as \uXXXX.
      .replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return Object.entries(props)
    .map(([key, value]) => `${escape(key, true)}=${escape(value, false)}`)
    .join('\n')
    .concat('\n');
}

/** Enough of the .properties format to read what Kafka writes (meta.properties). */
export function parseProperties(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const at = line.search(/[=:]/);
    if (at < 0) result[line] = '';
    else result[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return result;
}

/**
 * A Kafka cluster id as `StorageTool random-uuid` makes it (saves starting a JVM): 16 random
 * bytes, base64url without padding; never starting with '-' (it would read as a CLI flag),
 * never the reserved all-zero or "one" ids.
 */
export function newClusterId(random: (size: number) => Buffer = randomBytes): string {
  for (;;) {
    const bytes = random(16);
    const id = bytes.toString('base64url');
    const reserved = bytes.every((b, i) => b === 0 || (i === 15 && b === 1));
    if (!id.startsWith('-') && !reserved) return id;
  }
}

/** Log4j2 config for brokers and the storage tool: to stdout (which the harness sends to the log file). */
export function log4j2Config(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <Console name="STDOUT" target="SYSTEM_OUT">
      <PatternLayout pattern="[%d{yyyy-MM-dd HH:mm:ss,SSS}] [node \${sys:harness.node:-?}] %-5p %m (%c)%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Root level="INFO"><AppenderRef ref="STDOUT"/></Root>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="kafka.authorizer.logger" level="WARN"/>
  </Loggers>
</Configuration>
`;
}

export interface JvmArgsInput {
  libsDir: string;
  log4jConfigFile: string;
  nodeLabel: string;
  heap?: string;
  extra?: string[];
}

export function jvmArgs(input: JvmArgsInput): string[] {
  return [
    `-Xmx${input.heap ?? '512m'}`,
    '-Xms64m',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:InitiatingHeapOccupancyPercent=35',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    '-Djava.net.preferIPv4Stack=true',
    `-Dlog4j2.configurationFile=${input.log4jConfigFile}`,
    `-Dharness.node=${input.nodeLabel}`,
    ...(input.extra ?? []),
    '-cp',
    join(input.libsDir, '*'),
  ];
}

/** Checks the node count and fixed ports; returns them with node ids 1..n. */
export function planNodes(
  nodes: number,
  clientPorts: readonly number[],
  controllerPorts: readonly number[],
): NodeAddress[] {
  if (nodes !== 1 && nodes !== 3) throw new Error(`nodes must be 1 or 3, not ${nodes}`);
  if (clientPorts.length !== nodes || controllerPorts.length !== nodes) {
    throw new Error(`${nodes} node(s) need ${nodes} client port(s), got ${clientPorts.length}`);
  }
  const all = [...clientPorts, ...controllerPorts];
  for (const port of all) {
    if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`bad port ${port}`);
  }
  if (new Set(all).size !== all.length) throw new Error(`ports must differ: ${all.join(', ')}`);
  return clientPorts.map((port, i) => ({
    id: i + 1,
    port,
    controllerPort: controllerPorts[i] ?? 0,
  }));
}

export function bootstrapOf(nodes: readonly NodeAddress[]): string {
  return nodes.map((n) => `${HOST}:${n.port}`).join(',');
}

export function lastLines(text: string, count: number): string {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.slice(-count).join('\n');
}

/** What a start-up failure shows: the first errors (they name the cause), then the log's end. */
export function summarizeLog(text: string, tailCount = 30): string {
  const errors = text
    .split('\n')
    .filter((line) => / (ERROR|FATAL) |^Exception in thread|^Caused by: |^Error: /.test(line))
    .slice(0, 5);
  const tail = `last lines of the log:\n${lastLines(text, tailCount)}`;
  return errors.length > 0 ? `first errors:\n${errors.join('\n')}\n${tail}` : tail;
}
