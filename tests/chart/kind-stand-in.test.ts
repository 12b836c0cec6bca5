/**
 * scripts/kind/stand-in: the Kafka that CI's kind cluster runs in place of Strimzi's must sit
 * where Strimzi would put the cluster of k8s/kafka/kafka.yaml (names, labels, listeners,
 * configuration), and the chart's KafkaTopic objects must become the topics the Topic Operator
 * would create. The broker script's advertised listeners are computed by running it in bash.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { topicCommands, type KafkaTopicObject } from '../../scripts/kind/stand-in/topics';
import { byKind, render, type K8sObject } from './support/render';
import type { Listener } from './support/shapes';
import { ROOT } from './support/tools';

const load = (file: string): K8sObject[] =>
  parseAllDocuments(readFileSync(join(ROOT, file), 'utf8')).map((doc) => doc.toJS() as K8sObject);

interface EnvVar {
  name: string;
  value?: string;
}
interface StandInContainer {
  command: string[];
  env: EnvVar[];
  ports: Array<{ containerPort: number }>;
}
interface StatefulSetSpec {
  replicas: number;
  serviceName: string;
  template: {
    metadata: { labels: Record<string, string> };
    spec: { containers: StandInContainer[] };
  };
}

const strimzi = load('k8s/kafka/kafka.yaml');
const [kafka] = byKind(strimzi, 'Kafka');
const [pool] = byKind(strimzi, 'KafkaNodePool');
const kafkaSpec = kafka!.spec as unknown as {
  kafka: { listeners: Listener[]; config: Record<string, string | number | boolean> };
};
const poolSpec = pool!.spec as unknown as { replicas: number; jvmOptions: Record<string, string> };

const standIn = load('scripts/kind/stand-in/kafka.yaml');
const [statefulSet] = byKind(standIn, 'StatefulSet');
const setSpec = statefulSet!.spec as unknown as StatefulSetSpec;
const container = setSpec.template.spec.containers[0]!;
const env = (name: string) => container.env.find((e) => e.name === name)?.value;

/** The broker script run as pod N would run it, printing the environment it would exec with. */
function brokerEnvironment(ordinal: number): Record<string, string> {
  const script = container.command[2]!.replace('exec /etc/kafka/docker/run', 'env');
  const result = spawnSync('bash', ['-c', script], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      HOSTNAME: `${statefulSet!.metadata.name}-${ordinal}`,
      NAMESPACE: 'event-pipeline',
    },
  });
  expect({ status: result.status, stderr: result.stderr }).toEqual({
    status: 0,
    stderr: expect.any(String),
  });
  return Object.fromEntries(
    result.stdout
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

/** "NAME://host:port,..." as { NAME: "host:port" }. */
function listenerMap(text: string): Record<string, string> {
  return Object.fromEntries(
    text.split(',').map((entry) => {
      const [name, address] = entry.split('://');
      return [name ?? '', address ?? ''];
    }),
  );
}

describe('the Kafka stand-in of CI kind cluster (scripts/kind/stand-in/kafka.yaml)', () => {
  test('its pods are named, labelled and counted as Strimzi names those of k8s/kafka', () => {
    expect(statefulSet!.metadata.name).toBe(`${kafka!.metadata.name}-${pool!.metadata.name}`);
    expect(setSpec.replicas).toBe(poolSpec.replicas);
    expect(setSpec.serviceName).toBe(`${kafka!.metadata.name}-kafka-brokers`);
    expect(setSpec.template.metadata.labels).toMatchObject({
      'strimzi.io/cluster': kafka!.metadata.name,
      'strimzi.io/kind': 'Kafka',
      'strimzi.io/broker-role': 'true',
    });
    expect(env('KAFKA_HEAP_OPTS')).toBe(
      `-Xms${poolSpec.jvmOptions['-Xms']} -Xmx${poolSpec.jvmOptions['-Xmx']}`,
    );
  });

  test("its bootstrap Service is the one the chart's values name", () => {
    const configMaps = byKind(render(), 'ConfigMap') as unknown as Array<{
      data?: Record<string, string>;
    }>;
    const brokers = new Set(configMaps.map((c) => c.data?.['KAFKA_BROKERS']).filter(Boolean));
    expect(brokers.size).toBe(1);
    const [bootstrap = ''] = [...brokers];
    const [host, port] = bootstrap.split(':');
    const service = byKind(standIn, 'Service').find((s) => s.metadata.name === host);
    expect(service).toBeDefined();
    expect(
      (service!.spec as { ports: Array<{ port: number }> }).ports.map((p) => p.port),
    ).toContain(Number(port));
  });

  test('every listener without authentication is there, each broker advertised where k8s/kafka says', () => {
    const listeners = listenerMap(env('KAFKA_LISTENERS') ?? '');
    const plainListeners = kafkaSpec.kafka.listeners.filter((l) => l.authentication === undefined);
    expect(plainListeners.map((l) => l.name)).toEqual(['plain', 'host', 'docker']);
    for (let ordinal = 0; ordinal < poolSpec.replicas; ordinal += 1) {
      const environment = brokerEnvironment(ordinal);
      const advertised = listenerMap(environment['KAFKA_ADVERTISED_LISTENERS'] ?? '');
      expect(environment['KAFKA_NODE_ID']).toBe(String(ordinal));
      for (const listener of plainListeners) {
        const name = listener.name.toUpperCase();
        expect({ name, bound: listeners[name] }).toEqual({ name, bound: `:${listener.port}` });
        const configured = listener.configuration?.brokers?.find((b) => b.broker === ordinal);
        const expected = configured
          ? `${configured.advertisedHost}:${configured.advertisedPort}`
          : `${statefulSet!.metadata.name}-${ordinal}.${setSpec.serviceName}.event-pipeline.svc:${listener.port}`;
        expect({ name, ordinal, advertised: advertised[name] }).toEqual({
          name,
          ordinal,
          advertised: expected,
        });
      }
      expect(environment['KAFKA_CONTROLLER_QUORUM_VOTERS']?.split(',')).toHaveLength(
        poolSpec.replicas,
      );
    }
  });

  test("the Kafka configuration of k8s/kafka's spec.kafka.config", () => {
    for (const [name, value] of Object.entries(kafkaSpec.kafka.config)) {
      const variable = `KAFKA_${name.toUpperCase().replace(/\./g, '_')}`;
      expect({ variable, value: env(variable) }).toEqual({ variable, value: String(value) });
    }
  });

  test("the chart's KafkaTopic objects become kafka-topics.sh --create arguments", () => {
    const topics = byKind(render(), 'KafkaTopic') as unknown as KafkaTopicObject[];
    const commands = topicCommands(topics);
    expect(commands.map((args) => args[args.indexOf('--topic') + 1])).toEqual(
      topics.map((t) => t.spec?.topicName),
    );
    for (const [index, args] of commands.entries()) {
      const spec = topics[index]!.spec!;
      expect(args.slice(0, 2)).toEqual(['--create', '--if-not-exists']);
      expect(args[args.indexOf('--partitions') + 1]).toBe(String(spec.partitions));
      expect(args[args.indexOf('--replication-factor') + 1]).toBe(String(spec.replicas));
      const configs = args.filter((_, i) => args[i - 1] === '--config');
      expect(configs).toEqual(
        Object.entries(spec.config ?? {})
          .map(([k, v]) => `${k}=${String(v)}`)
          .sort(),
      );
    }
  });
});
