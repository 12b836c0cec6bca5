/**
 * Every Strimzi object the repo writes against Strimzi's own CRDs, generated in CI by Strimzi's
 * CRD generator from Strimzi's API classes (scripts/tools/install.sh strimzi-crds), with
 * unknown fields rejected: the chart rendered with its defaults, every ci/ values file and
 * the ACL variant of the SCRAM example; k8s/kafka; conduktor/scram's KafkaUser.
 * Not checked here: the CRDs' CEL rules (x-kubernetes-validations), which need an API server.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { render, valueSets, type K8sObject } from './support/render';
import { isStrimzi, strimziCrds, strimziProblems } from './support/strimzi-crds';
import { pinned, ROOT } from './support/tools';

const load = (file: string): K8sObject[] =>
  parseAllDocuments(readFileSync(join(ROOT, file), 'utf8')).map((doc) => doc.toJS() as K8sObject);

test("the CRDs are Strimzi's for the version skaffold installs, serving kafka.strimzi.io/v1", () => {
  const crds = strimziCrds();
  expect(crds.map((crd) => crd.kind).sort()).toEqual([
    'Kafka',
    'KafkaNodePool',
    'KafkaTopic',
    'KafkaUser',
  ]);
  for (const crd of crds) {
    expect(crd.group).toBe('kafka.strimzi.io');
    expect(crd.versions.map(({ name, served, storage }) => ({ name, served, storage }))).toEqual([
      { name: 'v1', served: true, storage: true },
    ]);
  }
  const skaffold = readFileSync(join(ROOT, 'skaffold.yaml'), 'utf8');
  expect(skaffold).toMatch(
    new RegExp(
      `remoteChart: oci://quay.io/strimzi-helm/strimzi-kafka-operator\\s+version: ${pinned('STRIMZI_VERSION').replaceAll('.', '\\.')}\\n`,
    ),
  );
});

describe('the validation rejects what the API server would', () => {
  const [nodePool, kafka] = load('k8s/kafka/kafka.yaml') as [K8sObject, K8sObject];

  test('a misspelled field, at the top of spec and deep inside a listener', () => {
    const misspelled = structuredClone(kafka) as K8sObject & {
      spec: { kafka: { listeners: Array<Record<string, unknown>> } };
    };
    misspelled.spec.kafka.listeners[1]!.authentcation = { type: 'scram-sha-512' };
    expect(strimziProblems(misspelled).join('\n')).toMatch(
      /listeners\/1 must NOT have additional properties \(authentcation\)/,
    );
    const pool = { ...nodePool, spec: { ...nodePool.spec, replica: 3 } };
    expect(strimziProblems(pool).join('\n')).toMatch(/additional properties \(replica\)/);
  });

  test('a wrong enum value and a missing required field', () => {
    const wrong = structuredClone(kafka) as K8sObject & {
      spec: { kafka: { listeners: Array<Record<string, unknown>> } };
    };
    wrong.spec.kafka.listeners[0]!.type = 'internel';
    delete wrong.spec.kafka.listeners[1]!.port;
    const problems = strimziProblems(wrong).join('\n');
    expect(problems).toMatch(/listeners\/0\/type must be equal to one of the allowed values/);
    expect(problems).toMatch(/listeners\/1 must have required property 'port'/);
  });

  test("but not a field Strimzi keeps as it is (Kafka's own config)", () => {
    const configured = structuredClone(kafka) as K8sObject & {
      spec: { kafka: { config: Record<string, unknown> } };
    };
    configured.spec.kafka.config['log.retention.hours'] = 24;
    expect(strimziProblems(configured)).toEqual([]);
  });

  test('an apiVersion Strimzi 1.2 no longer serves', () => {
    expect(strimziProblems({ ...kafka, apiVersion: 'kafka.strimzi.io/v1beta2' })).toEqual([
      'Kafka/event-kafka: Strimzi serves no kafka.strimzi.io/v1beta2 Kafka',
    ]);
  });
});

const sources: Array<{ name: string; objects: () => K8sObject[] }> = [
  ...valueSets().map(({ name, valuesFiles }) => ({
    name: `chart, ${name}`,
    objects: () => render({ valuesFiles }),
  })),
  {
    name: 'chart, ci/scram-values.yaml with ACLs (for a Kafka with an authorizer)',
    objects: () =>
      render({ valuesFiles: ['ci/scram-values.yaml'], set: { 'kafka.user.acls': 'true' } }),
  },
  { name: 'k8s/kafka/kafka.yaml', objects: () => load('k8s/kafka/kafka.yaml') },
  { name: 'k8s/kafka/kafka-light.yaml', objects: () => load('k8s/kafka/kafka-light.yaml') },
  {
    name: 'conduktor/scram/kafka-user.yaml',
    objects: () => load('conduktor/scram/kafka-user.yaml'),
  },
];

test.each(sources)('$name: every Strimzi object is valid for its CRD', ({ objects }) => {
  const strimzi = objects().filter((object) => isStrimzi(object.apiVersion));
  expect(strimzi.length).toBeGreaterThan(0);
  expect(strimzi.flatMap((object) => strimziProblems(object))).toEqual([]);
});
