/**
 * The chart's NetworkPolicy, when on, admits only what the services need, checked on the
 * rendered manifests: each workload is selected by exactly one policy that restricts both
 * directions; ingress reaches only the ports the container serves (the API on the producer,
 * the management port on both, the consumer has no API); egress goes only to the Kafka broker
 * pods on the port the service is configured to use (SCRAM listener included) and to DNS.
 * Nothing is open to "everyone" except where the values ask for it.
 */
import { byKind, render, type K8sObject } from './support/render';

interface Port {
  port?: number | string;
  protocol?: string;
}
interface Peer {
  podSelector?: { matchLabels?: Record<string, string> };
  namespaceSelector?: { matchLabels?: Record<string, string> };
  ipBlock?: { cidr: string };
}
interface Rule {
  ports?: Port[];
  from?: Peer[];
  to?: Peer[];
}
interface PolicySpec {
  podSelector: { matchLabels: Record<string, string> };
  policyTypes: string[];
  ingress?: Rule[];
  egress?: Rule[];
}
interface Container {
  ports?: Array<{ name: string; containerPort: number }>;
  envFrom?: Array<{ configMapRef?: { name: string } }>;
}
interface Workload extends K8sObject {
  spec: {
    template: { metadata: { labels: Record<string, string> }; spec: { containers: Container[] } };
  };
}

const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

function policyFor(objects: K8sObject[], workload: Workload): PolicySpec {
  const labels = workload.spec.template.metadata.labels;
  const matching = byKind(objects, 'NetworkPolicy')
    .map((p) => p.spec as unknown as PolicySpec)
    .filter((spec) => selects(spec.podSelector.matchLabels, labels));
  expect(matching).toHaveLength(1);
  return matching[0] as PolicySpec;
}

function kafkaPort(objects: K8sObject[], workload: Workload): number {
  const [container] = workload.spec.template.spec.containers;
  const names = (container?.envFrom ?? []).map((e) => e.configMapRef?.name);
  const brokers = byKind(objects, 'ConfigMap')
    .filter((c) => names.includes(c.metadata.name))
    .map((c) => c.data?.['KAFKA_BROKERS'])
    .find((value) => value !== undefined);
  if (brokers === undefined) throw new Error(`${workload.metadata.name} has no KAFKA_BROKERS`);
  const ports = new Set(brokers.split(',').map((b) => Number(b.trim().split(':').pop())));
  expect(ports.size).toBe(1);
  return [...ports][0] as number;
}

function workloads(objects: K8sObject[]): Record<'producer' | 'consumer', Workload> {
  const deployments = byKind<Workload>(objects, 'Deployment');
  const find = (component: string) => {
    const found = deployments.find(
      (d) => d.metadata.labels?.['app.kubernetes.io/component'] === component,
    );
    if (!found) throw new Error(`no ${component} Deployment`);
    return found;
  };
  return { producer: find('producer'), consumer: find('consumer') };
}

function checkPolicies(objects: K8sObject[], expectations: { apiFromAnyone: boolean }) {
  const all = workloads(objects);
  for (const [component, workload] of Object.entries(all)) {
    const policy = policyFor(objects, workload);
    expect(policy.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
    const served = new Map(
      (workload.spec.template.spec.containers[0]?.ports ?? []).map((p) => [
        p.name,
        p.containerPort,
      ]),
    );

    // Ingress: every rule names ports, each a port the container serves.
    const ingressPorts = (policy.ingress ?? []).flatMap((rule) => {
      expect(rule.ports?.length ?? 0).toBeGreaterThan(0);
      return (rule.ports ?? []).map((p) => p.port);
    });
    for (const port of ingressPorts) {
      expect({
        component,
        port,
        served:
          typeof port === 'string' ? served.has(port) : [...served.values()].includes(Number(port)),
      }).toEqual({ component, port, served: true });
    }
    expect([...new Set(ingressPorts)].sort()).toEqual(
      component === 'producer' ? ['http', 'management'] : ['management'],
    );
    const apiRule = (policy.ingress ?? []).find((rule) =>
      rule.ports?.some((p) => p.port === 'http'),
    );
    if (component === 'producer')
      expect(apiRule?.from === undefined).toBe(expectations.apiFromAnyone);

    // Egress: only the Kafka broker pods on the configured port, and DNS.
    const kafka = kafkaPort(objects, workload);
    const egress = policy.egress ?? [];
    expect(egress).toHaveLength(2);
    for (const rule of egress) {
      expect(rule.to?.length ?? 0).toBeGreaterThan(0); // never "to anywhere"
      for (const peer of rule.to ?? []) expect(peer.ipBlock).toBeUndefined();
    }
    const [toKafka, toDns] = egress;
    expect(toKafka?.to).toEqual([
      {
        podSelector: {
          matchLabels: { 'strimzi.io/cluster': 'event-kafka', 'strimzi.io/kind': 'Kafka' },
        },
      },
    ]);
    expect(toKafka?.ports).toEqual([{ port: kafka, protocol: 'TCP' }]);
    expect(toDns?.ports).toEqual([
      { port: 53, protocol: 'UDP' },
      { port: 53, protocol: 'TCP' },
    ]);
    expect(toDns?.to?.[0]?.namespaceSelector?.matchLabels).toEqual({
      'kubernetes.io/metadata.name': 'kube-system',
    });
    expect(toDns?.to?.[0]?.podSelector?.matchLabels).toEqual({ 'k8s-app': 'kube-dns' });
  }
}

describe('NetworkPolicy', () => {
  test('off by default: no policy is rendered', () => {
    expect(byKind(render(), 'NetworkPolicy')).toEqual([]);
  });

  test('on: only the API and management ports in, only Kafka and DNS out', () => {
    const objects = render({ set: { 'networkPolicy.enabled': 'true' } });
    expect(byKind(objects, 'NetworkPolicy')).toHaveLength(2);
    checkPolicies(objects, { apiFromAnyone: true });
    expect(kafkaPort(objects, workloads(objects).producer)).toBe(9092);
  });

  test('with SCRAM (ci/scram-values.yaml): egress follows the SCRAM listener, scrapes only from monitoring', () => {
    const objects = render({ valuesFiles: ['ci/scram-values.yaml'] });
    checkPolicies(objects, { apiFromAnyone: true });
    const { producer, consumer } = workloads(objects);
    expect(kafkaPort(objects, producer)).toBe(9096);
    for (const workload of [producer, consumer]) {
      const management = (policyFor(objects, workload).ingress ?? []).find((rule) =>
        rule.ports?.some((p) => p.port === 'management'),
      );
      expect(management?.from).toEqual([
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
      ]);
    }
  });

  test('apiFrom narrows who may call the API', () => {
    const objects = render({
      set: {
        'networkPolicy.enabled': 'true',
        'networkPolicy.apiFrom[0].podSelector.matchLabels.role': 'frontend',
      },
    });
    checkPolicies(objects, { apiFromAnyone: false });
    const api = (policyFor(objects, workloads(objects).producer).ingress ?? []).find((rule) =>
      rule.ports?.some((p) => p.port === 'http'),
    );
    expect(api?.from).toEqual([{ podSelector: { matchLabels: { role: 'frontend' } } }]);
  });
});
