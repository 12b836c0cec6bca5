/**
 * The chart, rendered with its default values and with every file in its ci/ folder:
 * helm lint --strict, schema validation of every object, and our own rules.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import {
  consumerSpec,
  loadConsumerConfig,
  loadProducerConfig,
  producerSpec,
} from '../../services/common/config';
import {
  byKind,
  ciValuesFiles,
  type K8sObject,
  render,
  renderText,
  valueSets,
} from './support/render';
import { CHART, ROOT, run, runOk } from './support/tools';
import { validateObjects } from './support/validate';

interface Probe {
  httpGet?: { path: string; port: string | number };
  periodSeconds?: number;
  failureThreshold?: number;
}
interface Container {
  name: string;
  image: string;
  ports?: Array<{ name?: string; containerPort: number }>;
  envFrom?: Array<{ configMapRef?: { name: string } }>;
  env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { sleep?: { seconds: number }; exec?: unknown } };
  securityContext?: Record<string, unknown>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}
interface PodSpec {
  containers: Container[];
  terminationGracePeriodSeconds?: number;
  securityContext?: Record<string, unknown>;
}
interface Deployment extends K8sObject {
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
      spec: PodSpec;
    };
  };
}
interface Service extends K8sObject {
  spec: {
    selector: Record<string, string>;
    ports: Array<{ name: string; port: number; targetPort: string | number }>;
  };
}

const deployments = (objects: K8sObject[]) => byKind<Deployment>(objects, 'Deployment');

function configOf(objects: K8sObject[], container: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const name = source.configMapRef?.name;
    const map = byKind(objects, 'ConfigMap').find((object) => object.metadata.name === name);
    if (!map)
      throw new Error(`${container.name}: envFrom names ConfigMap ${name}, which is not rendered`);
    Object.assign(env, map.data);
  }
  for (const item of container.env ?? []) env[item.name] = item.value ?? '<from a Secret>';
  return env;
}

function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

describe.each(valueSets())('chart rendered with $name', ({ valuesFiles }) => {
  let objects: K8sObject[];
  beforeAll(() => {
    objects = render({ valuesFiles });
  });

  test('helm lint --strict passes', () => {
    const args = [
      'lint',
      '--strict',
      CHART,
      ...valuesFiles.flatMap((file) => ['--values', join(CHART, file)]),
    ];
    expect(runOk('helm', args)).toContain('0 chart(s) failed');
  });

  test('every object is valid for the Kubernetes API (built-in kinds) or its CRD shape', () => {
    expect(objects.length).toBeGreaterThan(5);
    expect(validateObjects(objects)).toEqual([]);
  });

  test('every container has startup, readiness and liveness probes on its management port, and a preStop sleep', () => {
    const list = deployments(objects);
    expect(list.length).toBeGreaterThan(0);
    for (const deployment of list) {
      for (const container of deployment.spec.template.spec.containers) {
        const env = configOf(objects, container);
        const management = container.ports?.find((port) => port.name === 'management');
        expect(management?.containerPort).toBe(Number(env.MANAGEMENT_PORT));
        for (const [probe, path] of [
          ['startupProbe', '/livez'],
          ['readinessProbe', '/readyz'],
          ['livenessProbe', '/livez'],
        ] as const) {
          expect({ container: container.name, probe, httpGet: container[probe]?.httpGet }).toEqual({
            container: container.name,
            probe,
            httpGet: { path, port: 'management' },
          });
        }
        expect(container.lifecycle?.preStop?.sleep?.seconds).toBeGreaterThanOrEqual(1);
        expect(container.lifecycle?.preStop?.exec).toBeUndefined();
      }
    }
  });

  test('terminationGracePeriodSeconds covers the preStop sleep plus the shutdown deadline, with a margin', () => {
    for (const deployment of deployments(objects)) {
      const pod = deployment.spec.template.spec;
      for (const container of pod.containers) {
        const preStop = container.lifecycle?.preStop?.sleep?.seconds ?? 0;
        const deadline = Number(configOf(objects, container).SHUTDOWN_TIMEOUT_MS) / 1000;
        expect(deadline).toBeGreaterThan(0);
        expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(preStop + deadline + 1);
      }
    }
  });

  test('images name a version, never latest', () => {
    for (const deployment of deployments(objects)) {
      for (const { image } of deployment.spec.template.spec.containers) {
        expect(image).toMatch(/^[^:@]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$/);
        expect(image).not.toMatch(/:latest$/);
      }
    }
  });

  test('Services select the pods and target ports the containers declare; ports agree with the config', () => {
    for (const service of byKind<Service>(objects, 'Service')) {
      const targets = deployments(objects).filter((deployment) =>
        matches(service.spec.selector, deployment.spec.template.metadata.labels),
      );
      expect({ service: service.metadata.name, targets: targets.length }).toEqual({
        service: service.metadata.name,
        targets: 1,
      });
      const container = targets[0]!.spec.template.spec.containers[0]!;
      const env = configOf(objects, container);
      for (const port of service.spec.ports) {
        const target = container.ports?.find((item) => item.name === port.targetPort);
        expect({ service: service.metadata.name, port: port.name, target: target?.name }).toEqual({
          service: service.metadata.name,
          port: port.name,
          target: port.targetPort,
        });
      }
      const http = container.ports?.find((port) => port.name === 'http');
      if (http) expect(http.containerPort).toBe(Number(env.HTTP_PORT));
    }
    for (const monitor of byKind(objects, 'ServiceMonitor')) {
      const spec = monitor.spec as {
        selector: { matchLabels: Record<string, string> };
        endpoints: Array<{ port: string }>;
      };
      const services = byKind<Service>(objects, 'Service').filter((service) =>
        matches(spec.selector.matchLabels, service.metadata.labels ?? {}),
      );
      expect(services).toHaveLength(1);
      for (const endpoint of spec.endpoints) {
        expect(services[0]!.spec.ports.map((port) => port.name)).toContain(endpoint.port);
      }
    }
  });

  test('pods run restricted: non-root, read-only root filesystem, no privilege escalation, no capabilities, RuntimeDefault seccomp', () => {
    for (const deployment of deployments(objects)) {
      const pod = deployment.spec.template.spec;
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
      for (const container of pod.containers) {
        expect(container.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(container.resources?.requests?.memory).toBeDefined();
        expect(container.resources?.limits?.memory).toBe(container.resources?.requests?.memory);
      }
    }
  });

  test("the rendered configuration is accepted by the services' own config loaders", () => {
    for (const deployment of deployments(objects)) {
      const container = deployment.spec.template.spec.containers[0]!;
      const env = configOf(objects, container);
      const load = container.name === 'producer' ? loadProducerConfig : loadConsumerConfig;
      expect(() => load(env)).not.toThrow();
    }
  });

  test("PDBs, HPAs and NetworkPolicies select the chart's own pods", () => {
    const podLabels = deployments(objects).map(
      (deployment) => deployment.spec.template.metadata.labels,
    );
    for (const kind of ['PodDisruptionBudget', 'NetworkPolicy']) {
      for (const object of byKind(objects, kind)) {
        const selector = object.spec as {
          selector?: { matchLabels: Record<string, string> };
          podSelector?: { matchLabels: Record<string, string> };
        };
        const labels = (selector.selector ?? selector.podSelector)!.matchLabels;
        expect(podLabels.filter((pod) => matches(labels, pod))).toHaveLength(1);
      }
    }
    for (const hpa of byKind(objects, 'HorizontalPodAutoscaler')) {
      const target = (hpa.spec as { scaleTargetRef: { kind: string; name: string } })
        .scaleTargetRef;
      const deployment = deployments(objects).find((item) => item.metadata.name === target.name);
      expect(deployment).toBeDefined();
      // The HPA owns the replica count; a fixed one would fight it on every upgrade.
      expect(deployment!.spec.replicas).toBeUndefined();
    }
  });

  test("the topics agree with the services' configuration", () => {
    const topics = byKind(objects, 'KafkaTopic').map(
      (topic) =>
        topic.spec as { topicName: string; replicas: number; config: Record<string, number> },
    );
    expect(topics.map((topic) => topic.topicName).sort()).toEqual(['events', 'events-dlq']);
    for (const topic of topics) {
      expect(topic.config['min.insync.replicas']).toBeLessThanOrEqual(topic.replicas);
    }
    for (const deployment of deployments(objects)) {
      const env = configOf(objects, deployment.spec.template.spec.containers[0]!);
      expect(env.TOPICS).toBe('events');
      if (env.DLQ_TOPIC !== undefined) expect(env.DLQ_TOPIC).toBe('events-dlq');
    }
  });
});

describe('values.schema.json', () => {
  const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as Record<
    string,
    unknown
  >;

  function expectRejected(set: Record<string, string>, message: RegExp) {
    const args = [
      'template',
      'x',
      CHART,
      ...Object.entries(set).flatMap(([key, value]) => ['--set', `${key}=${value}`]),
    ];
    const result = run('helm', args);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(message);
  }

  test('rejects a misspelled key at the top, in a block and deep inside', () => {
    expectRejected({ prodcuer: 'x' }, /additional properties 'prodcuer' not allowed/);
    expectRejected({ 'producer.imge.tag': '1' }, /additional properties 'imge' not allowed/);
    expectRejected(
      { 'kafka.topics.events.partitons': '3' },
      /additional properties 'partitons' not allowed/,
    );
    expectRejected(
      { 'consumer.env.LOG_LEVL': 'debug' },
      /additional properties 'LOG_LEVL' not allowed/,
    );
  });

  test('rejects settings the chart derives itself, and the tag latest', () => {
    expectRejected(
      { 'producer.env.KAFKA_BROKERS': 'x:1' },
      /additional properties 'KAFKA_BROKERS' not allowed/,
    );
    expectRejected(
      { 'consumer.env.SHUTDOWN_TIMEOUT_MS': '1000' },
      /additional properties 'SHUTDOWN_TIMEOUT_MS' not allowed/,
    );
    expectRejected({ 'producer.image.tag': 'latest' }, /producer\/image\/tag/);
  });

  test('every object in it rejects unknown keys, or is a typed map, or is a named Kubernetes passthrough', () => {
    const loose: string[] = [];
    const walk = (node: unknown, path: string) => {
      if (typeof node !== 'object' || node === null) return;
      const record = node as Record<string, unknown>;
      const types = ([] as unknown[]).concat(record.type ?? []);
      if (types.includes('object')) {
        const additional = record.additionalProperties;
        const passthrough =
          typeof record.$comment === 'string' &&
          record.$comment.startsWith('kubernetes passthrough:');
        if (additional !== false && typeof additional !== 'object' && !passthrough)
          loose.push(path);
      }
      for (const [key, value] of Object.entries(record)) walk(value, `${path}/${key}`);
    };
    walk(schema, '#');
    expect(loose).toEqual([]);
  });

  test('the chart README lists every value', () => {
    const definitions = schema.definitions as Record<string, Record<string, unknown>>;
    const leaves: string[] = [];
    const walk = (node: Record<string, unknown>, path: string) => {
      const ref = node.$ref;
      const resolved = typeof ref === 'string' ? definitions[ref.split('/').pop()!]! : node;
      const properties = resolved.properties as Record<string, Record<string, unknown>> | undefined;
      if (properties && resolved.additionalProperties === false && !path.endsWith('.env')) {
        for (const [key, child] of Object.entries(properties))
          walk(child, path === '' ? key : `${path}.${key}`);
      } else {
        leaves.push(path);
      }
    };
    walk(schema, '');
    const readme = readFileSync(join(CHART, 'README.md'), 'utf8');
    expect(leaves.length).toBeGreaterThan(50);
    expect(leaves.filter((leaf) => !readme.includes(`| \`${leaf}\` |`))).toEqual([]);
  });

  test("the env blocks allow exactly the services' settings the chart does not set itself", () => {
    const derived = new Set([
      'KAFKA_BROKERS',
      'KAFKA_SASL_MECHANISM',
      'KAFKA_SASL_USERNAME',
      'KAFKA_SASL_PASSWORD',
      'MANAGEMENT_PORT',
      'SHUTDOWN_TIMEOUT_MS',
      'HTTP_PORT',
      'TOPICS',
      'API_KEYS',
      'API_KEYS_FILE',
      'CONSUMER_GROUP_ID',
      'DLQ_TOPIC',
    ]);
    const envKeys = (component: string) => {
      const props = (
        schema.properties as Record<string, { properties: Record<string, { properties: object }> }>
      )[component]!;
      return Object.keys(props.properties.env!.properties).sort();
    };
    expect(envKeys('producer')).toEqual(
      Object.keys(producerSpec)
        .filter((name) => !derived.has(name))
        .sort(),
    );
    expect(envKeys('consumer')).toEqual(
      Object.keys(consumerSpec)
        .filter((name) => !derived.has(name))
        .sort(),
    );
  });
});

describe('chart behaviour', () => {
  test('there is an example values file for one-node Kafka, SCRAM, monitoring and HPA', () => {
    expect(ciValuesFiles()).toEqual(
      expect.arrayContaining([
        'ci/hpa-values.yaml',
        'ci/monitoring-values.yaml',
        'ci/one-node-kafka-values.yaml',
        'ci/scram-values.yaml',
      ]),
    );
  });

  test("monitoring objects follow the cluster's API versions unless forced", () => {
    const kinds = (objects: K8sObject[]) =>
      objects
        .map((object) => object.kind)
        .filter((kind) => ['ServiceMonitor', 'PrometheusRule'].includes(kind))
        .sort();
    const api = [
      'monitoring.coreos.com/v1/ServiceMonitor',
      'monitoring.coreos.com/v1/PrometheusRule',
    ];
    expect(kinds(render())).toEqual([]);
    expect(kinds(render({ apiVersions: api }))).toEqual([
      'PrometheusRule',
      'ServiceMonitor',
      'ServiceMonitor',
    ]);
    expect(kinds(render({ apiVersions: api, set: { 'monitoring.create': 'never' } }))).toEqual([]);
    expect(kinds(render({ set: { 'monitoring.create': 'always' } }))).toEqual([
      'PrometheusRule',
      'ServiceMonitor',
      'ServiceMonitor',
    ]);
  });

  test("a configuration change changes the pods' checksum annotation (and so rolls them)", () => {
    const checksums = (set: Record<string, string>) =>
      deployments(render({ set })).map(
        (deployment) => deployment.spec.template.metadata.annotations?.['checksum/config'],
      );
    const before = checksums({});
    expect(before.every((value) => /^[a-f0-9]{64}$/.test(value ?? ''))).toBe(true);
    expect(checksums({})).toEqual(before);
    const after = checksums({
      'producer.env.LOG_LEVEL': 'debug',
      'consumer.env.LOG_LEVEL': 'debug',
    });
    expect(after[0]).not.toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
  });

  test('the grace period follows the shutdown values', () => {
    const [consumer] = deployments(
      render({
        set: {
          'consumer.shutdown.timeoutSeconds': '45',
          'consumer.shutdown.preStopSleepSeconds': '10',
          'consumer.shutdown.marginSeconds': '3',
        },
      }),
    ).filter((deployment) => deployment.metadata.name.endsWith('-consumer'));
    expect(consumer!.spec.template.spec.terminationGracePeriodSeconds).toBe(58);
  });

  test("SCRAM on: the services use the SCRAM listener and read the password from the KafkaUser's Secret", () => {
    const objects = render({ set: { 'kafka.user.enabled': 'true' } });
    const [user] = byKind(objects, 'KafkaUser');
    expect(user?.spec).toMatchObject({ authentication: { type: 'scram-sha-512' } });
    for (const deployment of deployments(objects)) {
      const container = deployment.spec.template.spec.containers[0]!;
      expect(configOf(objects, container)).toMatchObject({
        KAFKA_BROKERS: 'event-kafka-kafka-bootstrap:9096',
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: user!.metadata.name,
      });
      expect(container.env).toContainEqual({
        name: 'KAFKA_SASL_PASSWORD',
        valueFrom: { secretKeyRef: { name: user!.metadata.name, key: 'password' } },
      });
    }
  });

  test("a topic's own config wins over the typed retentionMs and minInsyncReplicas", () => {
    const objects = render({
      set: {
        'kafka.topics.events.config.retention\\.ms': '1000',
        'kafka.topics.events.config.min\\.insync\\.replicas': '1',
        'kafka.topics.events.config.cleanup\\.policy': 'compact',
      },
    });
    const configs = Object.fromEntries(
      byKind(objects, 'KafkaTopic').map((topic) => {
        const spec = topic.spec as { topicName: string; config: Record<string, unknown> };
        return [spec.topicName, spec.config];
      }),
    );
    expect(configs.events).toEqual({
      'retention.ms': 1000,
      'min.insync.replicas': 1,
      'cleanup.policy': 'compact',
    });
    // The other topic keeps its typed values: nothing leaked from one topic's config.
    expect(configs['events-dlq']).toEqual({
      'retention.ms': 1209600000,
      'min.insync.replicas': 2,
    });
  });

  test("helm accepts a producer shutdown deadline exactly when the producer's own config does", () => {
    const disagreements: string[] = [];
    for (const produce of [undefined, '4000', '10000', '30000']) {
      for (const seconds of [1, 4, 5, 9, 10, 11, 20, 30, 31]) {
        const set: Record<string, string> = { 'producer.shutdown.timeoutSeconds': String(seconds) };
        if (produce !== undefined) set['producer.env.PRODUCE_TIMEOUT_MS'] = produce;
        const args = ['template', 'x', CHART];
        for (const [key, value] of Object.entries(set)) args.push('--set', `${key}=${value}`);
        const helm = run('helm', args);
        let started = true;
        try {
          loadProducerConfig({
            SHUTDOWN_TIMEOUT_MS: String(seconds * 1000),
            ...(produce === undefined ? {} : { PRODUCE_TIMEOUT_MS: produce }),
          });
        } catch {
          started = false;
        }
        if ((helm.status === 0) !== started)
          disagreements.push(
            `timeoutSeconds=${seconds} PRODUCE_TIMEOUT_MS=${produce ?? '(default)'}: helm ${
              helm.status === 0 ? 'accepts' : 'refuses'
            }, the producer ${started ? 'starts' : 'refuses to start'}`,
          );
        if (helm.status !== 0) expect(helm.stderr).toMatch(/timeoutSeconds|PRODUCE_TIMEOUT_MS/);
      }
    }
    expect(disagreements).toEqual([]);
  });

  test('an example values file with ACLs is only one whose Kafka cluster (k8s/kafka) has an authorizer', () => {
    const kafka = parseAllDocuments(readFileSync(join(ROOT, 'k8s', 'kafka', 'kafka.yaml'), 'utf8'))
      .map((doc) => doc.toJS() as K8sObject)
      .find((object) => object.kind === 'Kafka')!;
    const authorization = (kafka.spec as { kafka: { authorization?: unknown } }).kafka
      .authorization;
    for (const { name, valuesFiles } of valueSets()) {
      for (const user of byKind(render({ valuesFiles }), 'KafkaUser')) {
        const acls = (user.spec as { authorization?: unknown }).authorization !== undefined;
        expect({ name, acls, authorizer: acls && authorization !== undefined }).toEqual({
          name,
          acls,
          authorizer: acls,
        });
      }
    }
  });

  test('the chart README says how to create every Secret an example values file needs', () => {
    const readme = readFileSync(join(CHART, 'README.md'), 'utf8');
    for (const file of ciValuesFiles()) {
      const values = parse(readFileSync(join(CHART, file), 'utf8')) as {
        producer?: { apiKeys?: { existingSecret?: string; key?: string } };
      };
      const secret = values.producer?.apiKeys;
      if (!secret?.existingSecret) continue;
      expect({
        file,
        documented: readme.includes(
          `kubectl -n event-pipeline create secret generic ${secret.existingSecret}`,
        ),
      }).toEqual({ file, documented: true });
      expect(readme).toContain(`--from-literal=${secret.key ?? 'api-keys'}=`);
    }
  });

  test('NOTES.txt names the port-forward to the API', () => {
    const text = renderText({ set: {} });
    expect(text).not.toContain('NOTES.txt');
    const notes = readFileSync(join(CHART, 'templates', 'NOTES.txt'), 'utf8');
    expect(notes).toMatch(/port-forward service\/\{\{ include "ep.fullname" \. \}\}-producer/);
  });
});
