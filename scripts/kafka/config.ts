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
  /** Port of the SASL_PLAINTEXT (SCRAM-SHA-512) listener, when the cluster has one. */
  saslPort?: number;
}

/**
 * A client-facing listener. PLAINTEXT always (brokers talk to each other over it); with the
 * harness's `sasl` option a SASL_PLAINTEXT listener (SCRAM-SHA-512) is a second entry with its
 * own port and `listener.name.<name>.*` settings in `extra` (see saslListener).
 */
export interface ListenerSpec {
  name: string;
  protocol: 'PLAINTEXT' | 'SASL_PLAINTEXT';
  port: number;
  extra?: Record<string, string>;
}

export const CONTROLLER_LISTENER = 'CONTROLLER';

export const SASL_LISTENER = 'SASL_PLAINTEXT';
export const SCRAM_MECHANISM = 'SCRAM-SHA-512';

/** A SCRAM-SHA-512 user, created in the cluster's metadata when its storage is formatted. */
export interface ScramUser {
  name: string;
  password: string;
}

// The StorageTool parses `name=…,password=…` itself: keep to characters it never treats
// as syntax, so what a test sets is what Kafka stores.
const SCRAM_TEXT = /^[A-Za-z0-9._~@+-]{1,128}$/;

/** The SASL_PLAINTEXT listener: SCRAM-SHA-512 only, credentials checked against the metadata log. */
export function saslListener(port: number): ListenerSpec {
  const prefix = `listener.name.${SASL_LISTENER.toLowerCase()}`;
  return {
    name: SASL_LISTENER,
    protocol: 'SASL_PLAINTEXT',
    port,
    extra: {
      [`${prefix}.sasl.enabled.mechanisms`]: SCRAM_MECHANISM,
      [`${prefix}.${SCRAM_MECHANISM.toLowerCase()}.sasl.jaas.config`]:
        'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    },
  };
}

/** The client listeners of a node: PLAINTEXT first (inter-broker), then SASL if it has a port. */
export function clientListeners(node: NodeAddress): ListenerSpec[] {
  const plain: ListenerSpec = { name: 'PLAINTEXT', protocol: 'PLAINTEXT', port: node.port };
  return node.saslPort === undefined ? [plain] : [plain, saslListener(node.saslPort)];
}

/** `kafka-storage format` arguments that create the users (KIP-900: SCRAM users at format time). */
export function scramFormatArgs(users: readonly ScramUser[]): string[] {
  const names = new Set<string>();
  return users.flatMap((user) => {
    if (!SCRAM_TEXT.test(user.name) || !SCRAM_TEXT.test(user.password)) {
      throw new Error(
        `SCRAM user names and passwords must match ${SCRAM_TEXT} (user ${JSON.stringify(user.name)})`,
      );
    }
    if (names.has(user.name)) throw new Error(`SCRAM user ${user.name} is given twice`);
    names.add(user.name);
    return ['--add-scram', `${SCRAM_MECHANISM}=[name=${user.name},password=${user.password}]`];
  });
}

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
  const listeners = input.listeners ?? clientListeners(node);
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
  saslPorts?: readonly number[],
): NodeAddress[] {
  if (nodes !== 1 && nodes !== 3) throw new Error(`nodes must be 1 or 3, not ${nodes}`);
  if (clientPorts.length !== nodes || controllerPorts.length !== nodes) {
    throw new Error(`${nodes} node(s) need ${nodes} client port(s), got ${clientPorts.length}`);
  }
  if (saslPorts !== undefined && saslPorts.length !== nodes) {
    throw new Error(`${nodes} node(s) need ${nodes} SASL port(s), got ${saslPorts.length}`);
  }
  const all = [...clientPorts, ...controllerPorts, ...(saslPorts ?? [])];
  for (const port of all) {
    if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`bad port ${port}`);
  }
  if (new Set(all).size !== all.length) throw new Error(`ports must differ: ${all.join(', ')}`);
  return clientPorts.map((port, i) => ({
    id: i + 1,
    port,
    controllerPort: controllerPorts[i] ?? 0,
    ...(saslPorts === undefined ? {} : { saslPort: saslPorts[i] ?? 0 }),
  }));
}

export function bootstrapOf(nodes: readonly NodeAddress[]): string {
  return nodes.map((n) => `${HOST}:${n.port}`).join(',');
}

/** Bootstrap servers of the SASL listener; undefined when the nodes have none. */
export function saslBootstrapOf(nodes: readonly NodeAddress[]): string | undefined {
  if (nodes.some((n) => n.saslPort === undefined)) return undefined;
  return nodes.map((n) => `${HOST}:${n.saslPort}`).join(',');
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

/**
 * An extra client listener whose advertised address is not where it binds: what clients see
 * of a Kafka behind port-forwards or Docker. Broker i binds `bindHost:ports[i]` and tells
 * clients to connect to `advertisedHost:advertisedPorts[i]`, so whatever sits in between
 * (a forwarder, Docker's host gateway) must carry those addresses to the bound ones.
 * `npm run local -- --docker-listener` and tests/chart/conduktor.test.ts use it.
 */
export interface ExtraListener {
  /** Listener name: upper-case letters, digits and `_`, e.g. DOCKER. */
  name: string;
  /** Default PLAINTEXT. SASL_PLAINTEXT takes SCRAM-SHA-512 (the harness's `sasl` users). */
  protocol?: 'PLAINTEXT' | 'SASL_PLAINTEXT';
  /** Where every broker binds it; default 127.0.0.1 ('0.0.0.0' for Docker Engine on Linux). */
  bindHost?: string;
  /** One port per node, in node order. */
  ports: readonly number[];
  /** The host name clients are told, e.g. host.docker.internal. */
  advertisedHost: string;
  /** One port per node, in node order; default `ports`. */
  advertisedPorts?: readonly number[];
}

/** One extra listener of one node, resolved. */
export interface ExtraListenerAddress {
  name: string;
  protocol: 'PLAINTEXT' | 'SASL_PLAINTEXT';
  bindHost: string;
  port: number;
  advertisedHost: string;
  advertisedPort: number;
}

const RESERVED_LISTENERS = new Set(['PLAINTEXT', 'SASL_PLAINTEXT', CONTROLLER_LISTENER]);

/** Checks the extra listeners against the node count and the ports in use; returns them per node. */
export function planExtraListeners(
  specs: readonly ExtraListener[],
  nodeCount: number,
  takenPorts: readonly number[] = [],
): ExtraListenerAddress[][] {
  const seen = new Set<string>();
  const ports = new Set(takenPorts);
  const perNode: ExtraListenerAddress[][] = Array.from({ length: nodeCount }, () => []);
  for (const spec of specs) {
    if (!/^[A-Z][A-Z0-9_]{0,31}$/.test(spec.name) || RESERVED_LISTENERS.has(spec.name)) {
      throw new Error(
        `extra listener name ${JSON.stringify(spec.name)} is reserved or not A-Z0-9_`,
      );
    }
    if (seen.has(spec.name)) throw new Error(`extra listener ${spec.name} is given twice`);
    seen.add(spec.name);
    const advertisedPorts = spec.advertisedPorts ?? spec.ports;
    if (spec.ports.length !== nodeCount || advertisedPorts.length !== nodeCount) {
      throw new Error(
        `extra listener ${spec.name} needs ${nodeCount} port(s) and advertised port(s)`,
      );
    }
    if (!/^[A-Za-z0-9.-]+$/.test(spec.advertisedHost)) {
      throw new Error(`extra listener ${spec.name}: bad advertised host ${spec.advertisedHost}`);
    }
    for (const port of [...spec.ports, ...advertisedPorts]) {
      if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`bad port ${port}`);
    }
    spec.ports.forEach((port, i) => {
      if (ports.has(port)) throw new Error(`extra listener ${spec.name}: port ${port} is taken`);
      ports.add(port);
      perNode[i]?.push({
        name: spec.name,
        protocol: spec.protocol ?? 'PLAINTEXT',
        bindHost: spec.bindHost ?? HOST,
        port,
        advertisedHost: spec.advertisedHost,
        advertisedPort: advertisedPorts[i] ?? port,
      });
    });
  }
  return perNode;
}

/** Broker properties with the extra listeners of one node added (bound, advertised, protocol). */
export function withExtraListeners(
  props: Record<string, string>,
  extras: readonly ExtraListenerAddress[],
): Record<string, string> {
  if (extras.length === 0) return props;
  const join = (current: string | undefined, added: string[]) =>
    [...(current ? [current] : []), ...added].join(',');
  const result: Record<string, string> = {
    ...props,
    listeners: join(
      props.listeners,
      extras.map((l) => `${l.name}://${l.bindHost}:${l.port}`),
    ),
    'advertised.listeners': join(
      props['advertised.listeners'],
      extras.map((l) => `${l.name}://${l.advertisedHost}:${l.advertisedPort}`),
    ),
    'listener.security.protocol.map': join(
      props['listener.security.protocol.map'],
      extras.map((l) => `${l.name}:${l.protocol}`),
    ),
  };
  for (const l of extras.filter((e) => e.protocol === 'SASL_PLAINTEXT')) {
    const prefix = `listener.name.${l.name.toLowerCase()}`;
    result[`${prefix}.sasl.enabled.mechanisms`] = 'SCRAM-SHA-512';
    result[`${prefix}.scram-sha-512.sasl.jaas.config`] =
      'org.apache.kafka.common.security.scram.ScramLoginModule required;';
  }
  return result;
}
