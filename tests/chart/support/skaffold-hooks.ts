/**
 * The host hooks of skaffold.yaml, read as skaffold reads them (each config's deploy.kubectl and
 * deploy.helm hooks, before and after), so a test can run their commands as skaffold would.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ROOT } from './tools';

export interface SkaffoldHook {
  config: string;
  phase: 'before' | 'after';
  command: string[];
}

interface HostHook {
  host?: { command?: string[] };
}
interface Hooks {
  before?: HostHook[];
  after?: HostHook[];
}
interface Config {
  metadata?: { name?: string };
  deploy?: { kubectl?: { hooks?: Hooks }; helm?: { hooks?: Hooks } };
}

export function skaffoldHooks(): SkaffoldHook[] {
  const configs = parseAllDocuments(readFileSync(join(ROOT, 'skaffold.yaml'), 'utf8')).map(
    (doc) => doc.toJS() as Config,
  );
  return configs.flatMap((config) =>
    [config.deploy?.kubectl?.hooks, config.deploy?.helm?.hooks].flatMap((hooks) =>
      (['before', 'after'] as const).flatMap((phase) =>
        (hooks?.[phase] ?? []).flatMap((hook) =>
          hook.host?.command
            ? [{ config: config.metadata?.name ?? '?', phase, command: hook.host.command }]
            : [],
        ),
      ),
    ),
  );
}
