/**
 * Structural checks of the Prometheus Operator objects this repo writes
 * (monitoring.coreos.com/v1). No API schema of these is in the repo, so these shapes, written
 * from the CRDs' documentation, cover the fields we use: every level rejects unknown keys (a
 * misspelled field fails), required fields and enums are checked. A field we start using must
 * be added here first, on purpose. Strimzi's objects are checked against Strimzi's own CRDs
 * (strimzi-crds.ts).
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
const strMap = { type: 'object', additionalProperties: { type: 'string' } };

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

export const shapes: Record<string, Schema> = {
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
