/**
 * skaffold.yaml read as skaffold reads it: its configs, and every variant of each (as written
 * and with each profile's RFC 6902 patches applied), for the tests that check the file
 * (skaffold.test.ts) and the ones that deploy what it names (apiserver.test.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ROOT } from './tools';

export type Json = unknown;
export interface PortForward {
  resourceType: string;
  resourceName: string;
  namespace: string;
  port: number;
  localPort: number;
}
export interface Release {
  name: string;
  chartPath?: string;
  remoteChart?: string;
  version?: string;
  valuesFiles?: string[];
  setValueTemplates?: Record<string, string>;
  setValues?: Record<string, string>;
}
export interface Patch {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: Json;
}
export interface SkaffoldConfig {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  requires?: Array<{ configs: string[] }>;
  build?: { artifacts: Array<{ image: string; docker: { dockerfile: string; target: string } }> };
  manifests?: { rawYaml?: string[] };
  deploy?: { helm?: { releases: Release[] }; kubectl?: Record<string, Json> };
  portForward?: PortForward[];
  profiles?: Array<{ name: string; patches: Patch[] }>;
}

export const configs = parseAllDocuments(readFileSync(join(ROOT, 'skaffold.yaml'), 'utf8')).map(
  (doc) => doc.toJS() as SkaffoldConfig,
);

/** Applies RFC 6902 add/replace/remove to a copy; throws when a path does not exist. */
export function applyPatches(config: SkaffoldConfig, patches: readonly Patch[]): SkaffoldConfig {
  const copy = structuredClone(config) as unknown as Record<string, Json>;
  for (const patch of patches) {
    const keys = patch.path.split('/').slice(1);
    const last = keys.pop()!;
    let parent: Json = copy;
    for (const key of keys) {
      const next: Json = (parent as Record<string, Json>)[key];
      if (next === undefined)
        throw new Error(`patch ${patch.op} ${patch.path}: ${key} does not exist`);
      parent = next;
    }
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (
        !Number.isInteger(index) ||
        index > parent.length ||
        (patch.op !== 'add' && index >= parent.length)
      ) {
        throw new Error(`patch ${patch.op} ${patch.path}: no index ${last}`);
      }
      if (patch.op === 'add') parent.splice(index, 0, patch.value);
      else if (patch.op === 'replace') parent[index] = patch.value;
      else parent.splice(index, 1);
    } else {
      const record = parent as Record<string, Json>;
      if (patch.op !== 'add' && !(last in record))
        throw new Error(`patch ${patch.op} ${patch.path}: ${last} does not exist`);
      if (patch.op === 'remove') delete record[last];
      else record[last] = patch.value;
    }
  }
  return copy as unknown as SkaffoldConfig;
}

/** Every variant of every config: as written, and with each of its profiles applied. */
export const variants = configs.flatMap((config) => [
  { name: `${config.metadata.name}`, config },
  ...(config.profiles ?? []).map((profile) => ({
    name: `${config.metadata.name} -p ${profile.name}`,
    config: applyPatches(config, profile.patches),
  })),
]);

export interface SkaffoldHook {
  config: string;
  phase: 'before' | 'after';
  command: string[];
}

interface Hooks {
  before?: Array<{ host?: { command?: string[] } }>;
  after?: Array<{ host?: { command?: string[] } }>;
}

/** The host hooks of every config (deploy.kubectl's and deploy.helm's, before and after), in order. */
export function skaffoldHooks(): SkaffoldHook[] {
  return configs.flatMap((config) => {
    const deploy = config.deploy as { kubectl?: { hooks?: Hooks }; helm?: { hooks?: Hooks } };
    return [deploy?.kubectl?.hooks, deploy?.helm?.hooks].flatMap((hooks) =>
      (['before', 'after'] as const).flatMap((phase) =>
        (hooks?.[phase] ?? []).flatMap((hook) =>
          hook.host?.command
            ? [{ config: config.metadata.name, phase, command: hook.host.command }]
            : [],
        ),
      ),
    );
  });
}
