/** Renders the chart with helm and parses the objects. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { CHART, pinned, runOk } from './tools';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  [key: string]: unknown;
}

export const RELEASE = 'event-pipeline';
export const NAMESPACE = 'event-pipeline';

/** The example values files in the chart's ci/ folder, as paths relative to the chart. */
export function ciValuesFiles(): string[] {
  return readdirSync(join(CHART, 'ci'))
    .filter((name) => name.endsWith('-values.yaml'))
    .sort()
    .map((name) => join('ci', name));
}

export interface RenderOptions {
  valuesFiles?: readonly string[];
  set?: Readonly<Record<string, string>>;
  apiVersions?: readonly string[];
}

export function renderText(options: RenderOptions = {}): string {
  const args = [
    'template',
    RELEASE,
    CHART,
    '--namespace',
    NAMESPACE,
    '--kube-version',
    pinned('KUBERNETES_VERSION'),
  ];
  for (const file of options.valuesFiles ?? []) args.push('--values', join(CHART, file));
  for (const [key, value] of Object.entries(options.set ?? {}))
    args.push('--set', `${key}=${value}`);
  for (const api of options.apiVersions ?? []) args.push('--api-versions', api);
  return runOk('helm', args);
}

export function parseObjects(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0)
        throw new Error(`rendered YAML does not parse: ${doc.errors[0]?.message}`);
      return doc.toJS() as K8sObject | null;
    })
    .filter((object): object is K8sObject => object !== null);
}

export function render(options: RenderOptions = {}): K8sObject[] {
  return parseObjects(renderText(options));
}

/** Every values set the tests render: the defaults and each ci/ file. */
export function valueSets(): Array<{ name: string; valuesFiles: string[] }> {
  return [
    { name: 'default values', valuesFiles: [] },
    ...ciValuesFiles().map((file) => ({ name: file, valuesFiles: [file] })),
  ];
}

export function byKind<T extends K8sObject = K8sObject>(
  objects: readonly K8sObject[],
  kind: string,
): T[] {
  return objects.filter((object) => object.kind === kind) as T[];
}
