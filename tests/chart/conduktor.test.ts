/**
 * conduktor/ and `make forward`, checked without Docker and without a cluster:
 *
 * - the compose files validate against the Compose Specification schema, with compose-go's own
 *   command (the reference loader Docker Compose is built on; scripts/tools/install.sh builds
 *   it), before and after interpolation with the values of .env.example;
 * - the cluster registered in Console is the one of k8s/kafka and the chart: the bootstrap
 *   servers are the advertised addresses of the `docker` listener (and of its SCRAM
 *   listener `dockerscram`), which scripts/kind/forward.sh forwards; the SCRAM properties match
 *   the listener and the KafkaUser;
 * - the advertised-listener arrangement itself, on a real three-node Kafka of the harness: the
 *   brokers advertise host.docker.internal at ports where nothing but forwarders listens (as
 *   kubectl port-forward does for the cluster), the client resolves host.docker.internal to
 *   a second loopback address (as a container's host-gateway does); kafkajs produces and
 *   consumes through them, plain and with SCRAM-SHA-512, and fails without them;
 * - forward.sh's supervision, against a fake kubectl: one forward per broker pod with the
 *   ports of the Kafka resource's listeners, restarted when a pod restarts or is replaced,
 *   when its kubectl exits, or when the listeners change; all stopped on SIGTERM.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';
import { parse, parseAllDocuments } from 'yaml';
import { planExtraListeners, withExtraListeners } from '../../scripts/kafka/config';
import { startKafka, type KafkaCluster } from '../../scripts/kafka/harness';
import { byKind, render, type K8sObject } from './support/render';
import type { Listener } from './support/shapes';
import { strimziProblems } from './support/strimzi-crds';
import { CHART, ROOT, TOOLS_BIN } from './support/tools';
import { Forwarder } from '../support/forwarder';
import { freePorts } from '../../scripts/lib/ports';
import { waitUntil } from '../../scripts/lib/poll';

const CONDUKTOR = join(ROOT, 'conduktor');
const COMPOSE = join(CONDUKTOR, 'compose.yaml');
const COMPOSE_SCRAM = join(CONDUKTOR, 'compose.scram.yaml');
const DOCKER_HOST = 'host.docker.internal';

// ---------------------------------------------------------------------------------------------
// Compose interpolation (the Compose Specification's rules) and .env files

/** `${VAR}`, `$VAR`, `${VAR:-d}`, `${VAR-d}`, `${VAR:?e}`, `${VAR?e}`, `${VAR:+a}`, `${VAR+a}`, `$$`. */
function interpolate(text: string, env: Readonly<Record<string, string>>): string {
  let out = '';
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c !== '$') {
      out += c;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 1;
    } else if (next === '{') {
      let depth = 1;
      let j = i + 2;
      for (; j < text.length && depth > 0; j += 1) {
        if (text[j] === '{') depth += 1;
        else if (text[j] === '}') depth -= 1;
      }
      if (depth !== 0) throw new Error(`unclosed \${ at ${i}`);
      out += substitute(text.slice(i + 2, j - 1), env);
      i = j - 1;
    } else {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1))?.[0];
      if (name === undefined) throw new Error(`a lone $ at ${i}: write $$`);
      out += env[name] ?? '';
      i += name.length;
    }
  }
  return out;
}

function substitute(expression: string, env: Readonly<Record<string, string>>): string {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([\s\S]*))?$/.exec(expression);
  if (match === null) throw new Error(`bad substitution \${${expression}}`);
  const [, name = '', operator, argument = ''] = match;
  const value = env[name];
  const set = value !== undefined;
  const nonEmpty = set && value !== '';
  switch (operator) {
    case undefined:
      return value ?? '';
    case ':-':
      return nonEmpty ? value : interpolate(argument, env);
    case '-':
      return set ? value : interpolate(argument, env);
    case ':?':
    case '?':
      if (operator === ':?' ? nonEmpty : set) return value ?? '';
      throw new Error(`required variable ${name}: ${interpolate(argument, env)}`);
    case ':+':
      return nonEmpty ? interpolate(argument, env) : '';
    case '+':
      return set ? interpolate(argument, env) : '';
    default:
      throw new Error(`bad operator ${operator}`);
  }
}

/** KEY=VALUE lines; comments and blank lines skipped; one level of quotes removed. */
function parseDotEnv(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const at = line.indexOf('=');
    if (at <= 0) throw new Error(`not KEY=VALUE: ${line}`);
    const value = line.slice(at + 1).trim();
    result[line.slice(0, at).trim()] = /^(["']).*\1$/.test(value) ? value.slice(1, -1) : value;
  }
  return result;
}

/** The commented-out settings of .env.example (`#NAME=value`): the documented alternatives. */
function commentedSettings(text: string): Record<string, string> {
  return Object.fromEntries(
    [...text.matchAll(/^#([A-Z_][A-Z0-9_]*)=(.*)$/gm)].map((m) => [m[1] ?? '', m[2] ?? '']),
  );
}

// ---------------------------------------------------------------------------------------------
// compose-spec (compose-go) and the merged model

interface ComposeService {
  image: string;
  environment?: Record<string, string | null> | string[];
  ports?: Array<string | { host_ip?: string; published?: string; target: number }>;
  extra_hosts?: string[] | Record<string, string>;
  volumes?: Array<{ type: string; source?: string; target: string }>;
  depends_on?: Record<string, { condition: string }>;
}
interface ComposeModel {
  name: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const COMPOSE_SPEC = join(TOOLS_BIN, 'compose-spec');

/** compose-go's loader: schema validation and merge; returns the model as JSON. */
function composeSpec(files: readonly string[], interpolation: boolean): ComposeModel {
  if (!existsSync(COMPOSE_SPEC)) {
    throw new Error(
      `compose-spec is not installed in ${TOOLS_BIN}: run \`bash scripts/tools/install.sh\``,
    );
  }
  // compose-go's command reads .env from the working directory: an empty one, so that a
  // developer's conduktor/.env cannot change what is checked.
  const cwd = mkdtempSync(join(tmpdir(), 'compose-spec-'));
  try {
    const args = ['--format', 'json', ...(interpolation ? [] : ['--no-interpolation']), ...files];
    const result = spawnSync(COMPOSE_SPEC, args, {
      cwd,
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });
    if (result.status !== 0) {
      throw new Error(`compose-spec ${files.join(' ')}: ${result.stderr.trim()}${result.stdout}`);
    }
    return JSON.parse(result.stdout) as ComposeModel;
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

/** Interpolates the files with `env` (as Compose would), then validates and merges them. */
function loadCompose(files: readonly string[], env: Record<string, string>): ComposeModel {
  const dir = mkdtempSync(join(tmpdir(), 'compose-interpolated-'));
  try {
    const written = files.map((file, i) => {
      const target = join(dir, `${i}-${file.split('/').pop() ?? 'compose.yaml'}`);
      writeFileSync(target, interpolate(readFileSync(file, 'utf8'), env));
      return target;
    });
    return composeSpec(written, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const envExampleText = readFileSync(join(CONDUKTOR, '.env.example'), 'utf8');
const envExample = parseDotEnv(envExampleText);
const alternatives = commentedSettings(envExampleText);
const SCRAM_ENV = { ...envExample, KAFKA_SASL_PASSWORD: 'from-the-secret' };

/** The Console's environment as a map (a merge of several files gives compose-go's list form). */
function consoleEnv(model: ComposeModel): Record<string, string> {
  return environmentOf(model.services.console);
}

function environmentOf(service: ComposeService | undefined): Record<string, string> {
  const env = service?.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v ?? '']));
}

// ---------------------------------------------------------------------------------------------
// k8s/kafka, conduktor/scram and the chart

function loadYamlObjects(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(join(ROOT, file), 'utf8')).map(
    (doc) => doc.toJS() as K8sObject,
  );
}

const kafkaVariants = [
  { file: 'k8s/kafka/kafka.yaml', brokers: [0, 1, 2] },
  { file: 'k8s/kafka/kafka-light.yaml', brokers: [0] },
].map((variant) => {
  const objects = loadYamlObjects(variant.file);
  const kafka = byKind(objects, 'Kafka')[0];
  if (kafka === undefined) throw new Error(`${variant.file} has no Kafka`);
  const spec = kafka.spec as { kafka: { listeners: Listener[] } };
  return { ...variant, kafka, listeners: spec.kafka.listeners };
});

const kafkaUser = loadYamlObjects('conduktor/scram/kafka-user.yaml')[0] as K8sObject & {
  spec: { authentication: { type: string } };
};

/** `host:port` that broker `id` advertises on a listener. */
function advertised(listener: Listener, id: number): string {
  const broker = listener.configuration?.brokers?.find((b) => b.broker === id);
  if (broker === undefined)
    throw new Error(`listener ${listener.name} does not advertise broker ${id}`);
  return `${broker.advertisedHost}:${broker.advertisedPort}`;
}

function listenerNamed(listeners: readonly Listener[], name: string): Listener {
  const listener = listeners.find((l) => l.name === name);
  if (listener === undefined) throw new Error(`no listener ${name}`);
  return listener;
}

/** `key=value` lines of a Kafka client properties text. */
function parseClientProperties(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

/** kafkajs' SASL options from Kafka's Java client properties (SCRAM only). */
function saslFromProperties(props: Record<string, string>): SASLOptions {
  const jaas = props['sasl.jaas.config'] ?? '';
  const field = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(jaas)?.[1];
  const username = field('username');
  const password = field('password');
  if (username === undefined || password === undefined)
    throw new Error(`no credentials in ${jaas}`);
  if (!jaas.startsWith('org.apache.kafka.common.security.scram.ScramLoginModule required')) {
    throw new Error(`not a SCRAM login module: ${jaas}`);
  }
  if (props['sasl.mechanism'] === 'SCRAM-SHA-512')
    return { mechanism: 'scram-sha-512', username, password };
  if (props['sasl.mechanism'] === 'SCRAM-SHA-256')
    return { mechanism: 'scram-sha-256', username, password };
  throw new Error(`unsupported sasl.mechanism ${props['sasl.mechanism']}`);
}

// ---------------------------------------------------------------------------------------------

describe('conduktor/compose.yaml', () => {
  test('validates against the Compose Specification schema, as written and merged with the SCRAM file', () => {
    const raw = composeSpec([COMPOSE], false);
    expect(Object.keys(raw.services).sort()).toEqual(['console', 'postgresql']);
    const merged = composeSpec([COMPOSE, COMPOSE_SCRAM], false);
    expect(environmentOf(merged.services.console).CDK_CLUSTERS_0_PROPERTIES).toContain(
      'SASL_PLAINTEXT',
    );
  });

  test('the validator rejects what the schema forbids (a misspelled key, a bad condition)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'compose-bad-'));
    try {
      const text = readFileSync(COMPOSE, 'utf8');
      const misspelled = join(dir, 'misspelled.yaml');
      writeFileSync(misspelled, text.replace('    extra_hosts:', '    extra_host:'));
      expect(() => composeSpec([misspelled], false)).toThrow(/extra_host/);
      const condition = join(dir, 'condition.yaml');
      writeFileSync(condition, text.replace('condition: service_healthy', 'condition: healthy'));
      expect(() => composeSpec([condition], false)).toThrow(/condition/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.each([
    ['the values of .env.example', envExample, [COMPOSE]],
    [
      'a one-node cluster',
      { ...envExample, ...pick(alternatives, 'KAFKA_BOOTSTRAP_SERVERS', 'KAFKA_CLUSTER_NAME') },
      [COMPOSE],
    ],
    ['SCRAM', SCRAM_ENV, [COMPOSE, COMPOSE_SCRAM]],
  ])('interpolated with %s, it still validates', (_name, env, files) => {
    const model = loadCompose(files, env);
    expect(consoleEnv(model).CDK_ADMIN_PASSWORD).toBe(envExample.CONDUKTOR_ADMIN_PASSWORD);
  });

  test('without a .env it refuses to start and says how to make one', () => {
    expect(() => interpolate(readFileSync(COMPOSE, 'utf8'), {})).toThrow(/cp \.env\.example \.env/);
    expect(() => interpolate(readFileSync(COMPOSE_SCRAM, 'utf8'), envExample)).toThrow(
      /KAFKA_SASL_PASSWORD.*scram\/enable\.sh/,
    );
  });

  test(".env.example documents every variable, its admin password passes Console's rules, .env is ignored", () => {
    const used = new Set(
      [COMPOSE, COMPOSE_SCRAM].flatMap((file) =>
        [...readFileSync(file, 'utf8').matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]),
      ),
    );
    const documented = new Set([...Object.keys(envExample), ...Object.keys(alternatives)]);
    expect([...used].filter((name) => name !== undefined && !documented.has(name))).toEqual([]);
    // Console: 8 characters or more, an upper- and a lower-case letter, a digit, a symbol.
    const password = envExample.CONDUKTOR_ADMIN_PASSWORD ?? '';
    expect(password.length).toBeGreaterThanOrEqual(8);
    for (const rule of [/[A-Z]/, /[a-z]/, /[0-9]/, /[^A-Za-z0-9]/]) expect(password).toMatch(rule);
    expect(envExample.CONDUKTOR_ADMIN_EMAIL).toMatch(/^[^@\s]+@[^@\s]+\.[^@\s]+$/);
    const ignored = spawnSync('git', ['check-ignore', '-q', 'conduktor/.env'], { cwd: ROOT });
    expect(ignored.status).toBe(0);
  });

  test('pinned images, named volumes, loopback-only ports that collide with nothing of make forward', () => {
    const model = loadCompose([COMPOSE], envExample);
    for (const service of Object.values(model.services)) {
      expect(service.image).toMatch(/^[a-z0-9./-]+:\d+\.\d+(\.\d+)?$/);
    }
    const declared = Object.keys(model.volumes ?? {});
    const used = Object.values(model.services).flatMap((s) =>
      (s.volumes ?? []).filter((v) => v.type === 'volume').map((v) => v.source),
    );
    expect(used.sort()).toEqual(declared.sort());
    expect(model.services.console?.depends_on?.postgresql?.condition).toBe('service_healthy');
    const ports = model.services.console?.ports ?? [];
    expect(ports).toHaveLength(1);
    const port = ports[0] as { host_ip?: string; published?: string; target: number };
    expect(port).toMatchObject({ host_ip: '127.0.0.1', target: 8080 });
    const forwarded = [8080, 8081, 8082, 3000, 9090, 19092, 19093, 19094, 19192, 19193, 19194];
    expect(forwarded).not.toContain(Number(port.published));
    expect(model.services.postgresql?.ports ?? []).toEqual([]);
    const extraHosts = model.services.console?.extra_hosts;
    const hosts = Array.isArray(extraHosts)
      ? extraHosts
      : Object.entries(extraHosts ?? {}).map(([host, ip]) => `${host}:${ip}`);
    expect(hosts.map((entry) => entry.replace('=', ':'))).toContain(`${DOCKER_HOST}:host-gateway`);
  });
});

function pick(source: Record<string, string>, ...names: string[]): Record<string, string> {
  return Object.fromEntries(names.map((name) => [name, source[name] ?? '']));
}

describe('the cluster Console opens onto is the one of k8s/kafka and the chart', () => {
  const [full, light] = kafkaVariants;

  test('by default: every broker of kafka.yaml, at the address its `docker` listener advertises', () => {
    const env = consoleEnv(loadCompose([COMPOSE], envExample));
    const docker = listenerNamed(full!.listeners, 'docker');
    expect(env.CDK_CLUSTERS_0_BOOTSTRAPSERVERS).toBe(
      full!.brokers.map((id) => advertised(docker, id)).join(','),
    );
    expect(env.CDK_CLUSTERS_0_ID).toBe('event-pipeline');
    expect(env.CDK_CLUSTERS_0_PROPERTIES).toBeUndefined();
    // The listener is for clients outside the cluster and without TLS or authentication.
    expect(docker).toMatchObject({ type: 'internal', tls: false });
    expect(docker.authentication).toBeUndefined();
  });

  test("the one-node alternative of .env.example is kafka-light.yaml's broker", () => {
    const docker = listenerNamed(light!.listeners, 'docker');
    expect(alternatives.KAFKA_BOOTSTRAP_SERVERS).toBe(advertised(docker, 0));
  });

  test('the Kafka cluster, the chart and the KafkaUser name the same cluster', () => {
    const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as {
      kafka: { clusterName: string };
    };
    for (const variant of kafkaVariants)
      expect(variant.kafka.metadata.name).toBe(values.kafka.clusterName);
    expect(kafkaUser.metadata.labels?.['strimzi.io/cluster']).toBe(values.kafka.clusterName);
    expect(strimziProblems(kafkaUser)).toEqual([]);
  });

  test('SCRAM: both clusters declare the dockerscram listener, and the bootstrap is what it advertises', () => {
    // Declared in k8s/kafka (enable.sh only checks for it): a listener patched into the live
    // object would be dropped by the next `make up` (skaffold's apply replaces the list).
    expect(readFileSync(join(CONDUKTOR, 'scram', 'enable.sh'), 'utf8')).not.toMatch(
      /kubectl[^\n]*\b(patch|edit|replace)\b|\bkc (patch|edit|replace)\b/,
    );
    for (const variant of kafkaVariants) {
      const scram = listenerNamed(variant.listeners, 'dockerscram');
      for (const id of variant.brokers) expect(advertised(scram, id)).toMatch(`${DOCKER_HOST}:`);
    }
    const listener = listenerNamed(full!.listeners, 'dockerscram');
    const env = consoleEnv(loadCompose([COMPOSE, COMPOSE_SCRAM], SCRAM_ENV));
    expect(env.CDK_CLUSTERS_0_BOOTSTRAPSERVERS).toBe(
      full!.brokers.map((id) => advertised(listener, id)).join(','),
    );
    const props = parseClientProperties(env.CDK_CLUSTERS_0_PROPERTIES ?? '');
    // No TLS on the listener: SASL_PLAINTEXT; the listener's and the user's mechanism.
    expect(listener.tls).toBe(false);
    expect(props['security.protocol']).toBe('SASL_PLAINTEXT');
    expect(listener.authentication?.type).toBe('scram-sha-512');
    expect(kafkaUser.spec.authentication.type).toBe('scram-sha-512');
    expect(props['sasl.mechanism']).toBe('SCRAM-SHA-512');
    expect(saslFromProperties(props)).toEqual({
      mechanism: 'scram-sha-512',
      username: kafkaUser.metadata.name,
      password: 'from-the-secret',
    });
  });

  test("the chart's own SCRAM setting uses the same mechanism as the Console variant", () => {
    const objects = render({ valuesFiles: ['ci/scram-values.yaml'] });
    const users = byKind(objects, 'KafkaUser');
    expect(users).toHaveLength(1);
    expect((users[0]!.spec as { authentication: { type: string } }).authentication.type).toBe(
      kafkaUser.spec.authentication.type,
    );
    const configs = byKind(objects, 'ConfigMap').filter((c) => c.data?.KAFKA_SASL_MECHANISM);
    expect(configs.length).toBeGreaterThan(0);
    for (const config of configs) expect(config.data?.KAFKA_SASL_MECHANISM).toBe('scram-sha-512');
  });

  test('skaffold dev forwards the same `docker` ports as make forward', () => {
    const skaffold = parseAllDocuments(readFileSync(join(ROOT, 'skaffold.yaml'), 'utf8')).map(
      (doc) =>
        doc.toJS() as {
          portForward?: Array<{ resourceName: string; port: number; localPort: number }>;
        },
    );
    const docker = listenerNamed(full!.listeners, 'docker');
    const forwards = skaffold
      .flatMap((config) => config.portForward ?? [])
      .filter((f) => f.port === docker.port);
    expect(forwards.map((f) => `${DOCKER_HOST}:${f.localPort}`).sort()).toEqual(
      full!.brokers.map((id) => advertised(docker, id)).sort(),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The advertised-listener arrangement on a real Kafka

describe('the harness option for listeners advertised elsewhere (extraListeners)', () => {
  test('adds a bound, an advertised and a protocol entry per node; SCRAM settings for SASL ones', () => {
    const [first, second] = planExtraListeners(
      [
        { name: 'DOCKER', ports: [19192, 19193], advertisedHost: DOCKER_HOST, bindHost: '0.0.0.0' },
        {
          name: 'DOCKERSCRAM',
          protocol: 'SASL_PLAINTEXT',
          ports: [29292, 29293],
          advertisedHost: DOCKER_HOST,
          advertisedPorts: [19292, 19293],
        },
      ],
      2,
      [9092, 9093],
    );
    expect(
      second?.map(
        (l) => `${l.name} ${l.bindHost}:${l.port} -> ${l.advertisedHost}:${l.advertisedPort}`,
      ),
    ).toEqual([
      `DOCKER 0.0.0.0:19193 -> ${DOCKER_HOST}:19193`,
      `DOCKERSCRAM 127.0.0.1:29293 -> ${DOCKER_HOST}:19293`,
    ]);
    const props = withExtraListeners(
      {
        listeners: 'PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:40001',
        'advertised.listeners': 'PLAINTEXT://127.0.0.1:9092',
        'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      },
      first ?? [],
    );
    expect(props).toEqual({
      listeners:
        'PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:40001,DOCKER://0.0.0.0:19192,DOCKERSCRAM://127.0.0.1:29292',
      'advertised.listeners': `PLAINTEXT://127.0.0.1:9092,DOCKER://${DOCKER_HOST}:19192,DOCKERSCRAM://${DOCKER_HOST}:19292`,
      'listener.security.protocol.map':
        'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,DOCKER:PLAINTEXT,DOCKERSCRAM:SASL_PLAINTEXT',
      'listener.name.dockerscram.sasl.enabled.mechanisms': 'SCRAM-SHA-512',
      'listener.name.dockerscram.scram-sha-512.sasl.jaas.config':
        'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    });
    expect(withExtraListeners({ a: 'b' }, [])).toEqual({ a: 'b' });
  });

  test('refuses reserved names, wrong port counts and ports already in use', () => {
    const plan = (
      spec: Partial<Parameters<typeof planExtraListeners>[0][number]>,
      taken: number[] = [],
    ) =>
      planExtraListeners([{ name: 'DOCKER', ports: [1], advertisedHost: 'h', ...spec }], 1, taken);
    expect(() => plan({ name: 'PLAINTEXT' })).toThrow(/reserved/);
    expect(() => plan({ name: 'docker' })).toThrow(/reserved or not/);
    expect(() => plan({ ports: [1, 2] })).toThrow(/needs 1 port/);
    expect(() => plan({ ports: [9092] }, [9092])).toThrow(/taken/);
    expect(() => plan({ advertisedHost: 'a b' })).toThrow(/advertised host/);
  });
});

/** For the clients meant to fail: fail soon. */
const FEW_RETRIES: Partial<KafkaConfig> = {
  retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 200 },
};

/** 127.0.0.2 plays the host gateway: the address host.docker.internal has in a container. */
const GATEWAY = '127.0.0.2';

describe('Kafka through per-broker forwarders of listeners advertising host.docker.internal', () => {
  const scramUser = { name: kafkaUser.metadata.name, password: 'conduktor-secret-1' };
  let cluster: KafkaCluster | undefined;
  let plainForwarders: Forwarder[] = [];
  let scramForwarders: Forwarder[] = [];

  /** kafkajs as a container with extra_hosts host.docker.internal:host-gateway resolves names. */
  function client(brokers: string[], config: Partial<KafkaConfig> = {}): Kafka {
    return new Kafka({
      clientId: 'conduktor-test',
      brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 2_000,
      requestTimeout: 10_000,
      retry: { retries: 6, initialRetryTime: 100, maxRetryTime: 1_000 },
      socketFactory: ({ host, port, onConnect }) => {
        const socket = connect({ host: host === DOCKER_HOST ? GATEWAY : host, port }, onConnect);
        socket.setKeepAlive(true, 60_000);
        return socket;
      },
      ...config,
    });
  }

  beforeAll(async () => {
    // Twelve distinct ports from one call: separate calls may hand out the same port twice.
    const ports = await freePorts(12);
    const [plainBound, scramBound, plainAdvertised, scramAdvertised] = [0, 3, 6, 9].map((at) =>
      ports.slice(at, at + 3),
    ) as [number[], number[], number[], number[]];
    cluster = await startKafka({
      nodes: 3,
      sasl: { users: [scramUser] },
      // The forwarders bind these once Kafka is up: its own ports must not take them.
      avoidPorts: [...plainAdvertised, ...scramAdvertised],
      extraListeners: [
        {
          name: 'DOCKER',
          ports: plainBound,
          advertisedHost: DOCKER_HOST,
          advertisedPorts: plainAdvertised,
        },
        {
          name: 'DOCKERSCRAM',
          protocol: 'SASL_PLAINTEXT',
          ports: scramBound,
          advertisedHost: DOCKER_HOST,
          advertisedPorts: scramAdvertised,
        },
      ],
    });
    // The harness waits for leaders and in-sync replicas; on two busy cores a broker can still
    // answer "unknown topic" for a moment while the metadata spreads: try again then.
    for (let attempt = 1; ; attempt += 1) {
      try {
        await cluster.createTopics([{ name: 'events', partitions: 3, replicationFactor: 3 }]);
        break;
      } catch (error) {
        if (attempt >= 5) throw error;
        await sleep(1_000);
      }
    }
    plainForwarders = plainBound.map(
      (port, i) => new Forwarder(GATEWAY, plainAdvertised[i]!, port),
    );
    scramForwarders = scramBound.map(
      (port, i) => new Forwarder(GATEWAY, scramAdvertised[i]!, port),
    );
  }, 180_000);

  afterAll(async () => {
    await Promise.all([...plainForwarders, ...scramForwarders].map((f) => f.stop()));
    await cluster?.stop();
  }, 60_000);

  function started(): KafkaCluster {
    if (cluster === undefined) throw new Error('the harness cluster did not start');
    return cluster;
  }

  async function roundTrip(kafka: Kafka, topic: string, count: number): Promise<string[]> {
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const values = Array.from({ length: count }, (_, i) => `message-${i}-${Date.now()}`);
    try {
      await producer.send({
        topic,
        acks: -1,
        messages: values.map((value, i) => ({ key: `key-${i}`, value, partition: i % 3 })),
      });
    } finally {
      await producer.disconnect();
    }
    const consumer = kafka.consumer({
      groupId: `conduktor-test-${Date.now()}`,
      maxWaitTimeInMs: 200,
    });
    const seen: string[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`consumed ${seen.length} of ${count}`)),
          30_000,
        );
        consumer
          .run({
            eachMessage: async ({ message }) => {
              const value = message.value?.toString() ?? '';
              if (values.includes(value)) seen.push(value);
              if (seen.length >= count) {
                clearTimeout(timer);
                resolve();
              }
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
    return seen;
  }

  test('the brokers advertise host.docker.internal at the forwarded ports, not where they listen', () => {
    const kafka = started();
    expect(kafka.extraBootstrap.DOCKER).toBe(
      plainForwarders.map((f) => `${DOCKER_HOST}:${f.listenPort}`).join(','),
    );
  });

  test("without the forwarders a client fails, even one that reaches a broker's listener directly", async () => {
    // Reaching the bound port works, but the metadata sends the client on to the advertised
    // addresses, where nothing listens: a port-forward of the bootstrap Service alone.
    const direct = client([`127.0.0.1:${plainForwarders[0]!.targetPort}`], FEW_RETRIES);
    const producer = direct.producer({ allowAutoTopicCreation: false });
    await expect(
      (async () => {
        await producer.connect();
        await producer.send({ topic: 'events', acks: -1, messages: [{ value: 'lost' }] });
      })(),
    ).rejects.toThrow();
    await producer.disconnect().catch(() => undefined);
  });

  test('with one forwarder per broker, produce and consume work through them', async () => {
    await Promise.all(plainForwarders.map((f) => f.start()));
    const kafka = client([`${DOCKER_HOST}:${plainForwarders[0]!.listenPort}`]);
    const seen = await roundTrip(kafka, 'events', 30);
    expect(seen).toHaveLength(30);
    // Every broker leads a partition: each forwarder carried traffic.
    for (const forwarder of plainForwarders) expect(forwarder.connections).toBeGreaterThan(0);
  });

  test('with the forwarder of one broker only, partitions led by the others are out of reach', async () => {
    const bootstrap = [`${DOCKER_HOST}:${plainForwarders[0]!.listenPort}`];
    // Read while every forwarder is up: kafkajs' admin may send its metadata request to any
    // broker it has learned of, not only to the bootstrap one.
    const admin = client(bootstrap).admin();
    await admin.connect();
    const [meta] = (await admin.fetchTopicMetadata({ topics: ['events'] })).topics;
    await admin.disconnect();
    await Promise.all(plainForwarders.slice(1).map((f) => f.stop()));
    const elsewhere = meta?.partitions.find((p) => p.leader !== started().nodeIds[0]);
    expect(elsewhere).toBeDefined();
    const producer = client(bootstrap, FEW_RETRIES).producer({ allowAutoTopicCreation: false });
    // The bootstrap forwarder answers the producer's metadata; whether kafkajs gives up on the
    // unreachable leader while connecting (it may reach for every broker then, on a slow
    // machine) or at the send, that partition cannot be written.
    await expect(
      producer.connect().then(() =>
        producer.send({
          topic: 'events',
          acks: -1,
          messages: [{ value: 'unreachable', partition: elsewhere!.partitionId }],
        }),
      ),
    ).rejects.toThrow();
    await producer.disconnect().catch(() => undefined);
  });

  test('SCRAM-SHA-512 with the properties of compose.scram.yaml, through its forwarders', async () => {
    await Promise.all(scramForwarders.map((f) => f.start()));
    const env = consoleEnv(
      loadCompose([COMPOSE, COMPOSE_SCRAM], {
        ...envExample,
        KAFKA_SASL_PASSWORD: scramUser.password,
      }),
    );
    // kafkajs adds its authenticator to the options it is given: a fresh object per client.
    const sasl = () =>
      saslFromProperties(parseClientProperties(env.CDK_CLUSTERS_0_PROPERTIES ?? ''));
    const bootstrap = [`${DOCKER_HOST}:${scramForwarders[0]!.listenPort}`];
    const seen = await roundTrip(client(bootstrap, { sasl: sasl() }), 'events', 9);
    expect(seen).toHaveLength(9);
    for (const forwarder of scramForwarders) expect(forwarder.connections).toBeGreaterThan(0);

    const wrong = client(bootstrap, {
      sasl: { ...sasl(), password: 'not-the-password' } as SASLOptions,
    });
    const admin = wrong.admin();
    // kafkajs authenticates with the first request, not at connect().
    await expect(
      (async () => {
        await admin.connect();
        await admin.listTopics();
      })(),
    ).rejects.toThrow(/SASL|authentication/i);
    await admin.disconnect().catch(() => undefined);
  });
});

// ---------------------------------------------------------------------------------------------
// scripts/kind/forward.sh against a fake kubectl

const FAKE_KUBECTL = `#!/usr/bin/env bash
state="$FAKE_KUBE_STATE"
printf '%s\\n' "$*" >>"$state/calls.log"
[[ "$1" == --context ]] && shift 2
ns=default
[[ "$1" == -n ]] && { ns="$2"; shift 2; }
key() { tr -c 'a-zA-Z0-9\\n' '_' <<<"$1"; }
case "$1" in
  get)
    what="$2"
    case "$what" in
      kafka/*) f="$state/kafka-$ns-\${what#kafka/}"; [[ -f "$f" ]] || exit 1; [[ "$*" == *jsonpath* ]] && cat "$f" ;;
      pod) f="$state/pod-$ns-$3"; [[ -f "$f" ]] || { echo "pod $3 not found" >&2; exit 1; }; cat "$f" ;;
      pods) f="$state/pods-$ns-$(key "$4")"; [[ -f "$f" ]] && cat "$f" ;;
      service) f="$state/service-$ns-$3"; [[ -f "$f" ]] || exit 1; [[ "$*" == *jsonpath* ]] && cat "$f" ;;
      *) exit 1 ;;
    esac
    exit 0 ;;
  port-forward)
    shift
    pod="\${3#pod/}"
    echo "start $ns $*" >>"$state/forwards.log"
    trap 'echo "stop $ns $*" >>"$state/forwards.log"; exit 0' TERM INT
    while [[ ! -f "$state/die-$pod" ]]; do sleep 0.05; done
    rm -f "$state/die-$pod"
    echo "died $ns $*" >>"$state/forwards.log"
    exit 1 ;;
esac
exit 1
`;

describe('make forward (scripts/kind/forward.sh) supervises one forward per pod', () => {
  const NS = 'event-pipeline';
  let state = '';
  let child: ChildProcess | undefined;
  let output = '';
  const key = (text: string) => text.replace(/[^a-zA-Z0-9\n]/g, '_');
  const write = (name: string, text: string) => writeFileSync(join(state, name), text);
  const pod = (name: string, uid: string, restarts: number, ready: boolean, deleting = false) =>
    write(
      `pod-${NS}-${name}`,
      `${uid} ${deleting ? '2026-01-01T00:00:00Z' : ''} Running ${restarts},${ready};`,
    );
  const forwards = () =>
    existsSync(join(state, 'forwards.log'))
      ? readFileSync(join(state, 'forwards.log'), 'utf8').split('\n').filter(Boolean)
      : [];

  /** The jsonpath output forward.sh asks for: "name port broker@host:port ..." per listener. */
  function listenerLines(listeners: readonly Listener[]): string {
    return listeners
      .map((l) =>
        [
          l.name,
          l.port,
          ...(l.configuration?.brokers ?? []).map(
            (b) => `${b.broker}@${b.advertisedHost}:${b.advertisedPort}`,
          ),
        ].join(' '),
      )
      .join('\n');
  }

  /** What forward.sh should forward for broker `id`: every 127.0.0.1/host.docker.internal listener. */
  function expectedPorts(listeners: readonly Listener[], id: number): string {
    return listeners
      .flatMap((l) =>
        (l.configuration?.brokers ?? [])
          .filter(
            (b) =>
              b.broker === id && ['127.0.0.1', 'localhost', DOCKER_HOST].includes(b.advertisedHost),
          )
          .map((b) => `${b.advertisedPort}:${l.port}`),
      )
      .join(' ');
  }

  async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
    await waitUntil(what, check, { timeoutMs, intervalMs: 50 }).catch((error: unknown) => {
      throw new Error(
        `${error instanceof Error ? error.message : String(error)}\nforwards:\n${forwards().join('\n')}\noutput:\n${output}`,
      );
    });
  }

  const kafkaListeners = kafkaVariants[0]!.listeners;
  // The Kafka resource at first, without its SCRAM listener: the test below adds it.
  const firstListeners = kafkaListeners.filter((l) => l.name !== 'dockerscram');
  const brokerPods = [0, 1, 2].map((id) => `event-kafka-dual-role-${id}`);

  beforeAll(() => {
    state = mkdtempSync(join(tmpdir(), 'fake-kube-'));
    const bin = join(state, 'bin');
    spawnSync('mkdir', ['-p', bin]);
    writeFileSync(join(bin, 'kubectl'), FAKE_KUBECTL);
    chmodSync(join(bin, 'kubectl'), 0o755);
    write(`kafka-${NS}-event-kafka`, listenerLines(firstListeners));
    write(
      `pods-${NS}-${key('strimzi.io/cluster=event-kafka,strimzi.io/broker-role=true')}`,
      brokerPods.join('\n'),
    );
    brokerPods.forEach((name, i) => pod(name, `broker-uid-${i}`, 0, true));
    write(`service-${NS}-event-pipeline-producer`, '{"app":"producer"}');
    write(`pods-${NS}-${key('app=producer')}`, 'producer-a\nproducer-b');
    pod('producer-a', 'producer-uid-a', 0, true);
    pod('producer-b', 'producer-uid-b', 0, false);
    write(`service-${NS}-event-pipeline-consumer`, '{"app":"consumer"}');
    write(`pods-${NS}-${key('app=consumer')}`, 'consumer-a');
    pod('consumer-a', 'consumer-uid-a', 0, true);
    child = spawn('bash', [join(ROOT, 'scripts', 'kind', 'forward.sh')], {
      env: {
        ...process.env,
        PATH: `${bin}:${process.env.PATH ?? ''}`,
        FAKE_KUBE_STATE: state,
        KUBE_CONTEXT: 'kind-test',
        FORWARD_POLL_SECONDS: '0.2',
        FORWARD_LOG_DIR: state,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  });

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
    }
    // Fake port-forwards left behind by a failed test: their die files end them.
    for (const name of [...brokerPods, 'producer-a', 'producer-b', 'consumer-a'])
      write(`die-${name}`, '');
    await sleep(300);
    rmSync(state, { recursive: true, force: true });
  });

  const startLine = (podName: string, address: string, ports: string) =>
    `start ${NS} --address ${address} pod/${podName} ${ports}`;

  test('starts one forward per broker pod with the ports its listeners advertise, and the API', async () => {
    const expected = [
      ...brokerPods.map((name, id) =>
        startLine(name, '127.0.0.1', expectedPorts(firstListeners, id)),
      ),
      startLine('producer-a', '127.0.0.1', '8080:http 8081:management'),
      startLine('consumer-a', '127.0.0.1', '8082:management'),
    ];
    await until('the first forwards', () => expected.every((line) => forwards().includes(line)));
    expect(expectedPorts(firstListeners, 1)).toBe('19093:9094 19193:9095');
    expect(
      readFileSync(join(state, 'calls.log'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .every((l) => l.startsWith('--context kind-test ')),
    ).toBe(true);
  });

  test('restarts the forward of a broker whose container restarted', async () => {
    pod(brokerPods[1]!, 'broker-uid-1', 1, true);
    await until(
      'the restart of broker 1',
      () =>
        forwards().filter(
          (l) => l === startLine(brokerPods[1]!, '127.0.0.1', expectedPorts(firstListeners, 1)),
        ).length === 2,
    );
    expect(forwards()).toContain(
      `stop ${NS} --address 127.0.0.1 pod/${brokerPods[1]} ${expectedPorts(firstListeners, 1)}`,
    );
  });

  test('moves the API forward to another ready pod when its pod terminates', async () => {
    pod('producer-b', 'producer-uid-b', 0, true);
    pod('producer-a', 'producer-uid-a', 0, false, true);
    await until('the move to producer-b', () =>
      forwards().includes(startLine('producer-b', '127.0.0.1', '8080:http 8081:management')),
    );
    expect(forwards()).toContain(
      `stop ${NS} --address 127.0.0.1 pod/producer-a 8080:http 8081:management`,
    );
  });

  test('restarts a forward whose kubectl ended', async () => {
    const line = startLine(brokerPods[2]!, '127.0.0.1', expectedPorts(firstListeners, 2));
    write(`die-${brokerPods[2]}`, '');
    await until(
      'the restart after the exit',
      () => forwards().filter((l) => l === line).length === 2,
    );
    expect(
      forwards().some((l) => l.startsWith(`died ${NS} --address 127.0.0.1 pod/${brokerPods[2]}`)),
    ).toBe(true);
  });

  test('adds the ports of a listener the Kafka resource gets', async () => {
    const withScram = kafkaListeners;
    write(`kafka-${NS}-event-kafka`, listenerLines(withScram));
    const ports = expectedPorts(withScram, 0);
    expect(ports).toBe('19092:9094 19192:9095 19292:9097');
    await until('the SCRAM ports', () =>
      brokerPods.every((name, id) =>
        forwards().includes(startLine(name, '127.0.0.1', expectedPorts(withScram, id))),
      ),
    );
  });

  test('SIGTERM stops every forward and exits 0', async () => {
    const exited = new Promise<number | null>((resolve) =>
      child?.once('exit', (code) => resolve(code)),
    );
    child?.kill('SIGTERM');
    expect(await exited).toBe(0);
    const lines = forwards();
    const started = lines.filter((l) => l.startsWith('start ')).length;
    const ended = lines.filter((l) => l.startsWith('stop ') || l.startsWith('died ')).length;
    expect(ended).toBe(started);
  });
});
