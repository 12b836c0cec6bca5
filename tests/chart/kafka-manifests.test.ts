/**
 * k8s/: the kind cluster config, the Strimzi objects and the monitoring setup. The Kafka and
 * KafkaNodePool objects are checked against Strimzi's own CRDs (support/strimzi-crds.ts) and
 * against each other, the chart's defaults and versions.env.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { byKind, type K8sObject } from './support/render';
import type { Listener } from './support/shapes';
import { CHART, pinned, ROOT } from './support/tools';
import { validateObjects } from './support/validate';

interface KafkaSpec {
  kafka: {
    version: string;
    listeners: Listener[];
    config: Record<string, number | string | boolean>;
    metricsConfig: { type: string; valueFrom: { configMapKeyRef: { name: string; key: string } } };
  };
  kafkaExporter?: Record<string, unknown>;
  entityOperator?: { topicOperator?: unknown; userOperator?: unknown };
}

const load = (file: string): K8sObject[] =>
  parseAllDocuments(readFileSync(join(ROOT, file), 'utf8')).map((doc) => doc.toJS() as K8sObject);

const variants = [
  { file: 'k8s/kafka/kafka.yaml', nodes: 3 },
  { file: 'k8s/kafka/kafka-light.yaml', nodes: 1 },
];
const metricsConfig = load('k8s/kafka/metrics-config.yaml');

describe.each(variants)('$file', ({ file, nodes }) => {
  const objects = load(file);
  const [kafka] = byKind(objects, 'Kafka');
  const pools = byKind(objects, 'KafkaNodePool');
  const spec = kafka!.spec as unknown as KafkaSpec;

  test('fits the kafka.strimzi.io/v1 shapes (with the metrics ConfigMap valid for Kubernetes)', () => {
    expect(objects.map((object) => object.kind).sort()).toEqual(['Kafka', 'KafkaNodePool']);
    expect(validateObjects([...objects, ...metricsConfig])).toEqual([]);
  });

  test('KRaft with dual-role node pools, persistent storage, the pinned Kafka version', () => {
    expect(spec.kafka.version).toBe('4.3.1');
    const replicas = pools.reduce(
      (sum, pool) => sum + Number((pool.spec as { replicas: number }).replicas),
      0,
    );
    expect(replicas).toBe(nodes);
    for (const pool of pools) {
      expect(pool.metadata.labels?.['strimzi.io/cluster']).toBe(kafka!.metadata.name);
      expect((pool.spec as { roles: string[] }).roles.sort()).toEqual(['broker', 'controller']);
      expect(JSON.stringify(pool.spec)).toMatch(/"persistent-claim"/);
    }
    expect(JSON.stringify(kafka)).not.toMatch(
      /zookeeper|strimzi\.io\/kraft|strimzi\.io\/node-pools/i,
    );
  });

  test('replication settings fit the number of brokers', () => {
    const config = spec.kafka.config;
    for (const key of [
      'default.replication.factor',
      'offsets.topic.replication.factor',
      'transaction.state.log.replication.factor',
    ]) {
      expect(Number(config[key])).toBe(Math.min(3, nodes));
    }
    expect(Number(config['min.insync.replicas'])).toBeLessThan(
      Math.max(2, Number(config['default.replication.factor'])),
    );
    expect(Number(config['min.insync.replicas'])).toBeGreaterThanOrEqual(1);
  });

  test('listeners: plain and SCRAM inside, and per-broker advertised addresses for port-forwards', () => {
    const byName = new Map(spec.kafka.listeners.map((listener) => [listener.name, listener]));
    expect(byName.get('plain')).toMatchObject({ port: 9092, type: 'internal', tls: false });
    expect(byName.get('plain')?.authentication).toBeUndefined();
    expect(byName.get('scram')).toMatchObject({
      type: 'internal',
      authentication: { type: 'scram-sha-512' },
    });
    const ports = spec.kafka.listeners.map((listener) => listener.port);
    expect(new Set(ports).size).toBe(ports.length);
    for (const [name, host, base] of [
      ['host', '127.0.0.1', 19092],
      ['docker', 'host.docker.internal', 19192],
      ['dockerscram', 'host.docker.internal', 19292],
    ] as const) {
      const brokers = byName.get(name)?.configuration?.brokers ?? [];
      expect(brokers.map((broker) => broker.broker)).toEqual(
        Array.from({ length: nodes }, (_, id) => id),
      );
      for (const broker of brokers) {
        expect(broker).toEqual({
          broker: broker.broker,
          advertisedHost: host,
          advertisedPort: base + broker.broker,
        });
      }
    }
  });

  test('the SCRAM listener for Conduktor is declared here, so `make up` keeps it', () => {
    // skaffold's client-side apply replaces the whole listener list of the live Kafka with
    // this file's: a listener patched in by hand (as conduktor/scram/enable.sh once did) goes.
    const scram = spec.kafka.listeners.find((listener) => listener.name === 'dockerscram');
    expect(scram).toMatchObject({
      port: 9097,
      type: 'internal',
      tls: false,
      authentication: { type: 'scram-sha-512' },
    });
  });

  test('metrics: JMX exporter rules from the ConfigMap, Kafka Exporter and entity operator on', () => {
    const ref = spec.kafka.metricsConfig;
    expect(ref.type).toBe('jmxPrometheusExporter');
    const [map] = byKind(metricsConfig, 'ConfigMap');
    expect(map!.metadata.name).toBe(ref.valueFrom.configMapKeyRef.name);
    const rules = parse(map!.data![ref.valueFrom.configMapKeyRef.key]!) as {
      rules: Array<{ pattern: string; name: string; type: string }>;
    };
    expect(rules.rules.length).toBeGreaterThan(5);
    for (const rule of rules.rules) {
      expect(() => new RegExp(rule.pattern)).not.toThrow();
      expect(rule.name).toMatch(/^kafka_[a-z0-9_$]+$/);
      expect(['GAUGE', 'COUNTER']).toContain(rule.type);
    }
    expect(spec.kafkaExporter).toBeDefined();
    expect(spec.entityOperator?.topicOperator).toBeDefined();
    expect(spec.entityOperator?.userOperator).toBeDefined();
  });

  test("the chart's defaults reach this cluster: name, plain and SCRAM bootstrap addresses", () => {
    const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as {
      kafka: { clusterName: string; bootstrapServers: string; user: { bootstrapServers: string } };
    };
    const name = kafka!.metadata.name;
    expect(values.kafka.clusterName).toBe(name);
    const port = (listener: string) =>
      spec.kafka.listeners.find((item) => item.name === listener)!.port;
    expect(values.kafka.bootstrapServers).toBe(`${name}-kafka-bootstrap:${port('plain')}`);
    expect(values.kafka.user.bootstrapServers).toBe(`${name}-kafka-bootstrap:${port('scram')}`);
  });
});

test('the two variants differ only in size', () => {
  const strip = (file: string) =>
    JSON.stringify(load(file), (key, value: unknown) =>
      [
        'replicas',
        'brokers',
        'size',
        'default.replication.factor',
        'offsets.topic.replication.factor',
        'transaction.state.log.replication.factor',
        'transaction.state.log.min.isr',
        'min.insync.replicas',
      ].includes(key)
        ? undefined
        : value,
    );
  expect(strip('k8s/kafka/kafka-light.yaml')).toBe(strip('k8s/kafka/kafka.yaml'));
});

test('the kind cluster runs the pinned Kubernetes version from an image pinned by digest', () => {
  const cluster = parse(readFileSync(join(ROOT, 'k8s', 'kind', 'cluster.yaml'), 'utf8')) as {
    kind: string;
    apiVersion: string;
    nodes: Array<{ role: string; image: string }>;
  };
  expect(cluster.apiVersion).toBe('kind.x-k8s.io/v1alpha4');
  for (const node of cluster.nodes) {
    expect(node.image).toMatch(
      new RegExp(
        `^kindest/node:v${pinned('KUBERNETES_VERSION').replaceAll('.', '\\.')}@sha256:[a-f0-9]{64}$`,
      ),
    );
  }
});

interface PodMonitorSpec {
  selector: {
    matchLabels?: Record<string, string>;
    matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
  };
  namespaceSelector: { matchNames: string[] };
  podMetricsEndpoints: Array<{ port: string; path?: string }>;
}

function selects(selector: PodMonitorSpec['selector'], labels: Record<string, string>): boolean {
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every((e) =>
    e.operator === 'In' ? (e.values ?? []).includes(labels[e.key] ?? '\0') : false,
  );
  return byLabels && byExpressions;
}

/** The ports of a pod that some PodMonitor scrapes. */
function scrapedPorts(monitors: K8sObject[], namespace: string, labels: Record<string, string>) {
  return monitors
    .map((monitor) => monitor.spec as unknown as PodMonitorSpec)
    .filter(
      (m) => m.namespaceSelector.matchNames.includes(namespace) && selects(m.selector, labels),
    )
    .flatMap((m) => m.podMetricsEndpoints.map((endpoint) => endpoint.port))
    .sort();
}

test("the node image and its digest are kind's own default for that release", () => {
  // kind's source (from the Go module proxy, which `go` caches) names the image it was
  // released with; a digest copied wrong, or a kind bump without a new image, fails here.
  const cluster = parse(readFileSync(join(ROOT, 'k8s', 'kind', 'cluster.yaml'), 'utf8')) as {
    nodes: Array<{ image: string }>;
  };
  const work = mkdtempSync(join(tmpdir(), 'kind-module-'));
  try {
    const download = spawnSync(
      'go',
      ['mod', 'download', '-json', `sigs.k8s.io/kind@${pinned('KIND_VERSION')}`],
      { cwd: work, encoding: 'utf8', timeout: 120_000, env: { ...process.env, GOFLAGS: '' } },
    );
    if (download.error) throw new Error(`go is needed for this check: ${download.error.message}`);
    const dir = (JSON.parse(download.stdout) as { Dir?: string; Error?: string }).Dir;
    expect({ error: download.stderr.trim(), dir: typeof dir }).toEqual({
      error: expect.any(String),
      dir: 'string',
    });
    const source = readFileSync(
      join(dir!, 'pkg', 'apis', 'config', 'defaults', 'image.go'),
      'utf8',
    );
    const image = /const Image = "([^"]+)"/.exec(source)?.[1];
    for (const node of cluster.nodes) expect(node.image).toBe(image);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('the Strimzi PodMonitors fit their shape and scrape each operand on its metrics ports', () => {
  const monitors = load('k8s/monitoring/strimzi-podmonitors.yaml');
  expect(validateObjects(monitors)).toEqual([]);
  const strimzi = { 'strimzi.io/cluster': 'event-kafka', 'strimzi.io/kind': 'Kafka' };
  // The labels Strimzi 1.2 gives its pods, and their metrics ports (the Entity Operator's
  // Topic and User Operators serve /metrics on their health ports since Strimzi 1.1).
  expect(
    scrapedPorts(monitors, 'event-pipeline', {
      ...strimzi,
      'strimzi.io/name': 'event-kafka-kafka',
      'app.kubernetes.io/name': 'kafka',
    }),
  ).toContain('tcp-prometheus');
  expect(
    scrapedPorts(monitors, 'event-pipeline', {
      ...strimzi,
      'strimzi.io/name': 'event-kafka-kafka-exporter',
      'app.kubernetes.io/name': 'kafka-exporter',
    }),
  ).toContain('tcp-prometheus');
  expect(
    scrapedPorts(monitors, 'event-pipeline', {
      ...strimzi,
      'strimzi.io/name': 'event-kafka-entity-operator',
      'app.kubernetes.io/name': 'entity-operator',
    }),
  ).toEqual(expect.arrayContaining(['healthcheck-to', 'healthcheck-uo']));
  expect(scrapedPorts(monitors, 'strimzi', { 'strimzi.io/kind': 'cluster-operator' })).toEqual([
    'http',
  ]);
});

test("skaffold's run-id label is kept out of the operands' pods (no restart on every make up)", () => {
  const values = parse(readFileSync(join(ROOT, 'k8s', 'strimzi', 'values.yaml'), 'utf8')) as {
    labelsExclusionPattern?: string;
  };
  expect(values.labelsExclusionPattern).toBeDefined();
  // Strimzi matches the whole label name (Java's Matcher.matches()).
  const excluded = new RegExp(`^(?:${values.labelsExclusionPattern})$`);
  for (const label of [
    'skaffold.dev/run-id',
    'app.kubernetes.io/managed-by',
    'app.kubernetes.io/name',
    'kustomize.toolkit.fluxcd.io/name',
  ])
    expect({ label, excluded: excluded.test(label) }).toEqual({ label, excluded: true });
  for (const label of ['app.kubernetes.io/part-of', 'strimzi.io/cluster', 'team'])
    expect({ label, excluded: excluded.test(label) }).toEqual({ label, excluded: false });
});

test('a comment that says where a version is pinned names files that pin it', () => {
  for (const file of ['k8s/strimzi/values.yaml', 'k8s/monitoring/values.yaml']) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const chart = /oci:\/\/[^\s,)]+/.exec(text)?.[0];
    expect({ file, chart }).toEqual({ file, chart: expect.any(String) });
    const named = /pinned in ([^)]+)\)/.exec(text.replace(/\n#\s*/g, ' '))?.[1] ?? '';
    const pinners = [...named.matchAll(/[A-Za-z0-9_./-]+\.(?:yaml|mk)|Makefile/g)].map((m) => m[0]);
    expect({ file, pinners: pinners.length > 0 }).toEqual({ file, pinners: true });
    for (const pinner of pinners) {
      const pinned = readFileSync(join(ROOT, pinner), 'utf8');
      expect({ file, pinner, names: pinned.includes(chart!) }).toEqual({
        file,
        pinner,
        names: true,
      });
    }
  }
});

test('the operator and monitoring values files parse as YAML maps', () => {
  for (const file of ['k8s/strimzi/values.yaml', 'k8s/monitoring/values.yaml']) {
    expect(typeof parse(readFileSync(join(ROOT, file), 'utf8'))).toBe('object');
  }
});
