/**
 * Structural checks of the custom resources this repo writes (Strimzi kafka.strimzi.io/v1,
 * Prometheus Operator monitoring.coreos.com/v1). No API schema of these is in the repo, so
 * these shapes, written from the CRDs' documentation, cover the fields we use: every level
 * rejects unknown keys (a misspelled field fails), required fields and enums are checked.
 * A field we start using must be added here first, on purpose.
 */
import Ajv, { type ValidateFunction } from 'ajv';

type Schema = Record<string, unknown>;

/** A listener of a Strimzi Kafka resource, as the tests read it (the fields we use). */
export interface Listener {
  name: string;
  port: number;
  type: string;
  tls: boolean;
  authentication?: { type: string };
  configuration?: {
    brokers?: Array<{ broker: number; advertisedHost: string; advertisedPort: number }>;
  };
}

const str = { type: 'string', minLength: 1 };
const int = { type: 'integer' };
const strMap = { type: 'object', additionalProperties: { type: 'string' } };
const scalarMap = {
  type: 'object',
  additionalProperties: { type: ['string', 'number', 'boolean'] },
};
const quantities = {
  type: 'object',
  additionalProperties: false,
  properties: { cpu: { type: ['string', 'number'] }, memory: str },
};
const resources = {
  type: 'object',
  additionalProperties: false,
  properties: { requests: quantities, limits: quantities },
};

function obj(properties: Record<string, Schema>, required: string[] = []): Schema {
  return { type: 'object', additionalProperties: false, properties, required };
}

const metadata = (labels: Schema = strMap): Schema =>
  obj(
    {
      name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$' },
      namespace: str,
      labels,
      annotations: strMap,
    },
    ['name'],
  );

const clusterLabel = {
  type: 'object',
  required: ['strimzi.io/cluster'],
  properties: { 'strimzi.io/cluster': str },
  additionalProperties: { type: 'string' },
};

const listener = obj(
  {
    name: { type: 'string', pattern: '^[a-z0-9]{1,11}$' },
    port: { type: 'integer', minimum: 9092, not: { enum: [9404, 9999] } },
    type: {
      enum: ['internal', 'route', 'tlsroute', 'loadbalancer', 'nodeport', 'ingress', 'cluster-ip'],
    },
    tls: { type: 'boolean' },
    authentication: obj({ type: { enum: ['tls', 'scram-sha-512', 'custom'] } }, ['type']),
    configuration: obj({
      brokers: {
        type: 'array',
        items: obj({ broker: int, advertisedHost: str, advertisedPort: int }, ['broker']),
      },
    }),
  },
  ['name', 'port', 'type', 'tls'],
);

export const shapes: Record<string, Schema> = {
  'kafka.strimzi.io/v1/Kafka': obj(
    {
      apiVersion: { const: 'kafka.strimzi.io/v1' },
      kind: { const: 'Kafka' },
      metadata: metadata(),
      spec: obj(
        {
          kafka: obj(
            {
              version: { type: 'string', pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$' },
              listeners: { type: 'array', minItems: 1, items: listener },
              config: scalarMap,
              authorization: obj(
                { type: { enum: ['simple', 'custom'] }, superUsers: { type: 'array', items: str } },
                ['type'],
              ),
              metricsConfig: obj(
                {
                  type: { enum: ['jmxPrometheusExporter', 'strimziMetricsReporter'] },
                  valueFrom: obj(
                    { configMapKeyRef: obj({ name: str, key: str }, ['name', 'key']) },
                    ['configMapKeyRef'],
                  ),
                },
                ['type'],
              ),
            },
            ['listeners'],
          ),
          entityOperator: obj({
            topicOperator: obj({ resources }),
            userOperator: obj({ resources }),
          }),
          kafkaExporter: obj({ topicRegex: str, groupRegex: str, resources }),
        },
        ['kafka'],
      ),
    },
    ['apiVersion', 'kind', 'metadata', 'spec'],
  ),
  'kafka.strimzi.io/v1/KafkaNodePool': obj(
    {
      apiVersion: { const: 'kafka.strimzi.io/v1' },
      kind: { const: 'KafkaNodePool' },
      metadata: metadata(clusterLabel),
      spec: obj(
        {
          replicas: { type: 'integer', minimum: 1 },
          roles: {
            type: 'array',
            minItems: 1,
            uniqueItems: true,
            items: { enum: ['controller', 'broker'] },
          },
          storage: obj(
            {
              type: { enum: ['ephemeral', 'persistent-claim', 'jbod'] },
              volumes: {
                type: 'array',
                items: obj(
                  {
                    id: int,
                    type: { enum: ['ephemeral', 'persistent-claim'] },
                    size: { type: 'string', pattern: '^[0-9]+(Mi|Gi|Ti)$' },
                    deleteClaim: { type: 'boolean' },
                    kraftMetadata: { const: 'shared' },
                  },
                  ['id', 'type'],
                ),
              },
            },
            ['type'],
          ),
          resources,
          jvmOptions: obj({ '-Xms': str, '-Xmx': str }),
        },
        ['replicas', 'roles', 'storage'],
      ),
    },
    ['apiVersion', 'kind', 'metadata', 'spec'],
  ),
  'kafka.strimzi.io/v1/KafkaTopic': obj(
    {
      apiVersion: { const: 'kafka.strimzi.io/v1' },
      kind: { const: 'KafkaTopic' },
      metadata: metadata(clusterLabel),
      spec: obj(
        {
          topicName: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,249}$' },
          partitions: { type: 'integer', minimum: 1 },
          replicas: { type: 'integer', minimum: 1, maximum: 32767 },
          config: scalarMap,
        },
        ['partitions', 'replicas'],
      ),
    },
    ['apiVersion', 'kind', 'metadata', 'spec'],
  ),
  'kafka.strimzi.io/v1/KafkaUser': obj(
    {
      apiVersion: { const: 'kafka.strimzi.io/v1' },
      kind: { const: 'KafkaUser' },
      metadata: metadata(clusterLabel),
      spec: obj({
        authentication: obj({ type: { enum: ['tls', 'tls-external', 'scram-sha-512'] } }, ['type']),
        authorization: obj(
          {
            type: { const: 'simple' },
            acls: {
              type: 'array',
              items: obj(
                {
                  resource: obj(
                    {
                      type: { enum: ['topic', 'group', 'cluster', 'transactionalId'] },
                      name: str,
                      patternType: { enum: ['literal', 'prefix'] },
                    },
                    ['type'],
                  ),
                  operations: {
                    type: 'array',
                    minItems: 1,
                    items: {
                      enum: [
                        'Read',
                        'Write',
                        'Create',
                        'Delete',
                        'Alter',
                        'Describe',
                        'ClusterAction',
                        'AlterConfigs',
                        'DescribeConfigs',
                        'IdempotentWrite',
                        'All',
                      ],
                    },
                  },
                  host: str,
                  type: { enum: ['allow', 'deny'] },
                },
                ['resource', 'operations'],
              ),
            },
          },
          ['type', 'acls'],
        ),
      }),
    },
    ['apiVersion', 'kind', 'metadata', 'spec'],
  ),
  'monitoring.coreos.com/v1/ServiceMonitor': obj(
    {
      apiVersion: { const: 'monitoring.coreos.com/v1' },
      kind: { const: 'ServiceMonitor' },
      metadata: metadata(),
      spec: obj(
        {
          selector: obj({ matchLabels: strMap }, ['matchLabels']),
          namespaceSelector: obj({ matchNames: { type: 'array', items: str } }),
          endpoints: {
            type: 'array',
            minItems: 1,
            items: obj(
              { port: str, path: str, interval: { type: 'string', pattern: '^[0-9]+(ms|s|m|h)$' } },
              ['port'],
            ),
          },
        },
        ['selector', 'endpoints'],
      ),
    },
    ['apiVersion', 'kind', 'metadata', 'spec'],
  ),
  'monitoring.coreos.com/v1/PodMonitor': obj(
    {
      apiVersion: { const: 'monitoring.coreos.com/v1' },
      kind: { const: 'PodMonitor' },
      metadata: metadata(),
      spec: obj(
        {
          selector: obj({
            matchLabels: strMap,
            matchExpressions: {
              type: 'array',
              items: obj(
                {
                  key: str,
                  operator: { enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] },
                  values: { type: 'array', items: str },
                },
                ['key', 'operator'],
              ),
            },
          }),
          namespaceSelector: obj({ matchNames: { type: 'array', items: str } }),
          podMetricsEndpoints: {
            type: 'array',
            minItems: 1,
            items: obj(
              {
                port: str,
                path: str,
                interval: { type: 'string', pattern: '^[0-9]+(ms|s|m|h)$' },
                relabelings: {
                  type: 'array',
                  items: obj({ sourceLabels: { type: 'array', items: str }, targetLabel: str }),
                },
              },
              ['port'],
            ),
          },
        },
        ['selector', 'podMetricsEndpoints'],
      ),
    },
    ['apiVersion', 'kind', 'metadata', 'spec'],
  ),
  'monitoring.coreos.com/v1/PrometheusRule': obj(
    {
      apiVersion: { const: 'monitoring.coreos.com/v1' },
      kind: { const: 'PrometheusRule' },
      metadata: metadata(),
      spec: obj(
        {
          groups: {
            type: 'array',
            minItems: 1,
            items: obj(
              {
                name: str,
                rules: {
                  type: 'array',
                  items: obj(
                    {
                      alert: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
                      expr: str,
                      for: { type: 'string', pattern: '^[0-9]+(s|m|h)$' },
                      labels: strMap,
                      annotations: strMap,
                    },
                    ['alert', 'expr'],
                  ),
                },
              },
              ['name', 'rules'],
            ),
          },
        },
        ['groups'],
      ),
    },
    ['apiVersion', 'kind', 'metadata', 'spec'],
  ),
};

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validators = new Map<string, ValidateFunction>();

export function hasShape(apiVersion: string, kind: string): boolean {
  return `${apiVersion}/${kind}` in shapes;
}

/** Problems of one custom resource (empty when it fits its shape). */
export function shapeProblems(object: {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string };
}): string[] {
  const key = `${object.apiVersion}/${object.kind}`;
  const schema = shapes[key];
  if (schema === undefined) return [`no shape for ${key}: add it to tests/chart/support/shapes.ts`];
  let validate = validators.get(key);
  if (validate === undefined) {
    validate = ajv.compile(schema);
    validators.set(key, validate);
  }
  if (validate(object as unknown)) return [];
  return (validate.errors ?? []).map(
    (error) =>
      `${object.kind}/${object.metadata?.name ?? '?'}${error.instancePath} ${error.message ?? ''}${
        error.params && 'additionalProperty' in error.params
          ? ` (${String(error.params.additionalProperty)})`
          : ''
      }`,
  );
}
