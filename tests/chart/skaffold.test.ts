/**
 * skaffold.yaml against the repo: artifacts and Dockerfile targets, setValueTemplates and
 * the chart's values, files it names, profile patches, and port-forwards against the
 * rendered chart and the Kafka manifests; its hooks run as skaffold runs them (with
 * SKAFFOLD_KUBE_CONTEXT set) against a fake kubectl; the configs `make dev` and `make up`
 * select (`make -n`). No skaffold binary runs here (there is no Docker and no cluster).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { fakeKube, type FakeKube } from './support/fake-kube';
import { byKind, render, type K8sObject } from './support/render';
import { applyPatches, configs, skaffoldHooks, variants, type Json } from './support/skaffold';
import { CHART, ROOT } from './support/tools';

function dockerfileTargets(): string[] {
  return [
    ...readFileSync(join(ROOT, 'Dockerfile'), 'utf8').matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim),
  ].map((match) => match[1]!);
}

function hasValuePath(values: Json, path: string): boolean {
  let node: Json = values;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null || !(key in node)) return false;
    node = (node as Record<string, Json>)[key];
  }
  return true;
}

/** The kafka manifests a variant deploys, parsed. */
function kafkaObjects(rawYaml: readonly string[]): K8sObject[] {
  return rawYaml.flatMap((file) =>
    parseAllDocuments(readFileSync(join(ROOT, file), 'utf8')).map((doc) => doc.toJS() as K8sObject),
  );
}

test('every config uses the current schema version and requires only configs deployed before it', () => {
  const seen: string[] = [];
  for (const config of configs) {
    expect(config.apiVersion).toBe('skaffold/v4beta14');
    expect(config.kind).toBe('Config');
    for (const required of (config.requires ?? []).flatMap((item) => item.configs))
      expect(seen).toContain(required);
    seen.push(config.metadata.name);
  }
  expect(seen).toEqual(['strimzi', 'kafka', 'event-pipeline']);
});

test('the profiles the Makefile uses exist in every config that needs them', () => {
  for (const profile of ['light', 'monitoring']) {
    expect(
      configs.filter((config) => config.profiles?.some((item) => item.name === profile)).length,
    ).toBeGreaterThan(0);
  }
  expect(readFileSync(join(ROOT, 'Makefile'), 'utf8')).toMatch(/light/);
});

test("artifacts are the Dockerfile targets and the chart's default image repositories", () => {
  const artifacts = configs.flatMap((config) => config.build?.artifacts ?? []);
  expect(artifacts.map((artifact) => artifact.docker.target).sort()).toEqual([
    'consumer',
    'producer',
  ]);
  const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Record<
    string,
    { image: { repository: string } }
  >;
  for (const artifact of artifacts) {
    expect(dockerfileTargets()).toContain(artifact.docker.target);
    expect(existsSync(join(ROOT, artifact.docker.dockerfile))).toBe(true);
    expect(values[artifact.docker.target]!.image.repository).toBe(artifact.image);
  }
});

describe.each(variants)('skaffold config $name', ({ config }) => {
  const releases = config.deploy?.helm?.releases ?? [];

  test('files it names exist; remote charts are pinned to an exact version', () => {
    for (const file of [
      ...(config.manifests?.rawYaml ?? []),
      ...releases.flatMap((release) => release.valuesFiles ?? []),
    ]) {
      expect({ file, exists: existsSync(join(ROOT, file)) }).toEqual({ file, exists: true });
    }
    for (const release of releases) {
      if (release.chartPath)
        expect(existsSync(join(ROOT, release.chartPath, 'Chart.yaml'))).toBe(true);
      if (release.remoteChart) {
        expect(release.remoteChart).toMatch(/^oci:\/\//);
        expect(release.version).toMatch(/^\d+\.\d+\.\d+$/);
      }
    }
  });

  test("setValueTemplates and setValues name keys of the chart's values and artifacts of this config", () => {
    const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Json;
    const images = new Set(
      (config.build?.artifacts ?? []).map((artifact) =>
        artifact.image.replace(/[^A-Za-z0-9]/g, '_'),
      ),
    );
    for (const release of releases.filter((item) => item.chartPath === 'helm/event-pipeline')) {
      for (const [key, template] of Object.entries({
        ...release.setValueTemplates,
        ...release.setValues,
      })) {
        expect({ key, inValues: hasValuePath(values, key) }).toEqual({ key, inValues: true });
        for (const match of String(template).matchAll(
          /\{\{\s*\.IMAGE_(?:REPO|TAG|DIGEST|FULLY_QUALIFIED)_([A-Za-z0-9_]+)\s*\}\}/g,
        )) {
          expect(images).toContain(match[1]);
        }
      }
    }
  });

  test('port-forwards point at objects and ports that the deployment creates', () => {
    const forwards = config.portForward ?? [];
    if (forwards.length === 0) return;
    const release = releases.find((item) => item.chartPath === 'helm/event-pipeline');
    const chartObjects = release
      ? render({
          valuesFiles: (release.valuesFiles ?? []).map((file) =>
            file.replace('helm/event-pipeline/', ''),
          ),
        })
      : [];
    const kafka = kafkaObjects(config.manifests?.rawYaml ?? []);
    const [cluster] = byKind(kafka, 'Kafka');
    const pools = byKind(kafka, 'KafkaNodePool');
    const brokerPods = pools.flatMap((pool) =>
      Array.from(
        { length: Number((pool.spec as { replicas: number }).replicas) },
        (_, id) => `${cluster?.metadata.name}-${pool.metadata.name}-${id}`,
      ),
    );
    const listenerPorts = (
      (cluster?.spec as { kafka?: { listeners: Array<{ port: number }> } } | undefined)?.kafka
        ?.listeners ?? []
    ).map((item) => item.port);
    const localPorts = forwards.map((forward) => forward.localPort);
    expect(new Set(localPorts).size).toBe(localPorts.length);
    for (const forward of forwards) {
      expect(forward.namespace).toBe('event-pipeline');
      if (forward.resourceType === 'service') {
        const service = byKind(chartObjects, 'Service').find(
          (item) => item.metadata.name === forward.resourceName,
        );
        expect({ service: forward.resourceName, found: service !== undefined }).toEqual({
          service: forward.resourceName,
          found: true,
        });
        const ports = (service!.spec as { ports: Array<{ port: number }> }).ports.map(
          (port) => port.port,
        );
        expect(ports).toContain(forward.port);
      } else {
        expect(forward.resourceType).toBe('pod');
        expect(brokerPods).toContain(forward.resourceName);
        expect(listenerPorts).toContain(forward.port);
        // The forward's local port must be the port this broker advertises on that listener.
        const listeners = (
          cluster!.spec as {
            kafka: {
              listeners: Array<{
                port: number;
                configuration?: { brokers?: Array<{ broker: number; advertisedPort?: number }> };
              }>;
            };
          }
        ).kafka.listeners;
        const id = Number(forward.resourceName.split('-').pop());
        const advertised = listeners
          .find((item) => item.port === forward.port)
          ?.configuration?.brokers?.find((item) => item.broker === id);
        expect({ pod: forward.resourceName, port: advertised?.advertisedPort }).toEqual({
          pod: forward.resourceName,
          port: forward.localPort,
        });
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The hooks, run against a fake kubectl, and what `make dev` deploys

describe('the deploy hooks, run as skaffold runs them (fake kubectl)', () => {
  const hooks = skaffoldHooks();
  let kube: FakeKube;
  beforeEach(() => {
    kube = fakeKube();
    // A Kafka whose change Strimzi is still reconciling: Ready=True from the last generation.
    kube.write('kafka-states', ['2 1 True', '2 1 True', '2 1 True', '2 2 True'].join('\n'));
  });
  afterEach(() => kube.remove());

  function runHook(command: readonly string[]) {
    return spawnSync(command[0]!, command.slice(1), {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 30_000,
      // skaffold passes the context it deploys to; the user's current context is another one.
      env: kube.env({ SKAFFOLD_KUBE_CONTEXT: 'kind-skaffold-target' }),
    });
  }

  test('there are hooks, and every kubectl in them names the context skaffold deploys to', () => {
    expect(hooks.length).toBeGreaterThan(0);
    for (const hook of hooks) {
      const result = runHook(hook.command);
      expect({ hook: hook.command, status: result.status, stderr: result.stderr }).toMatchObject({
        status: 0,
      });
    }
    const calls = kube.lines('calls.log');
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      expect({ call, context: call.startsWith('--context kind-skaffold-target ') }).toEqual({
        call,
        context: true,
      });
    }
  });

  test('the wait for Kafka returns only once Strimzi reconciled the current generation', () => {
    const waits = hooks.filter((hook) => hook.command.join(' ').includes('event-kafka'));
    expect(waits).toHaveLength(1);
    const result = runHook(waits[0]!.command);
    expect(result.status).toBe(0);
    // Ready=True alone was there from the first call; the wait went on until generation 2.
    expect(kube.lines('served.log').at(-1)).toBe('2 2 True');
  });

  test('the wait fails after its timeout when Strimzi never catches up', () => {
    kube.write('kafka-states', '3 2 True');
    const result = spawnSync(
      'bash',
      ['scripts/kind/wait-kafka.sh', '--context', 'kind-x', 'event-pipeline', 'event-kafka', '1'],
      { cwd: ROOT, encoding: 'utf8', env: kube.env(), timeout: 30_000 },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /not reconciled after 1s \(generation 3, observed 2, Ready True\)/,
    );
  });
});

/** The skaffold command line of a make target, as `make -n` prints it. */
function makeSkaffold(target: string, variables: string[] = []): string[] {
  const printed = execFileSync('make', ['-n', target, ...variables], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  const line = printed.split('\n').find((item) => /^skaffold\s/.test(item.trim()));
  if (line === undefined) throw new Error(`make -n ${target} runs no skaffold:\n${printed}`);
  return line.trim().split(/\s+/);
}

/** The configs a skaffold command activates: its --module selection and what they require. */
function selectedConfigs(args: readonly string[]): string[] {
  const modules = args.flatMap((arg, i) =>
    arg === '-m' || arg === '--module'
      ? (args[i + 1] ?? '').split(',')
      : arg.startsWith('--module=')
        ? arg.slice('--module='.length).split(',')
        : [],
  );
  if (modules.length === 0) return configs.map((config) => config.metadata.name);
  const selected = new Set<string>();
  const add = (name: string) => {
    if (selected.has(name)) return;
    const config = configs.find((item) => item.metadata.name === name);
    if (config === undefined) throw new Error(`no skaffold config ${name}`);
    selected.add(name);
    for (const required of (config.requires ?? []).flatMap((item) => item.configs)) add(required);
  };
  modules.forEach(add);
  return [...selected];
}

describe.each([[[]], [['KAFKA=light', 'MONITORING=1']]])('make dev %j', (variables) => {
  const args = makeSkaffold('dev', variables);

  test('deploys the services only: no Strimzi, Kafka or monitoring stack to delete on exit', () => {
    expect(args).toContain('dev');
    const deployed = selectedConfigs(args).map((name) =>
      configs.find((config) => config.metadata.name === name)!,
    );
    expect(deployed.map((config) => config.metadata.name)).toEqual(['event-pipeline']);
    for (const config of deployed) {
      const profiled = [
        config,
        ...(config.profiles ?? []).map((p) => applyPatches(config, p.patches)),
      ];
      for (const variant of profiled) {
        expect(variant.manifests?.rawYaml ?? []).toEqual([]);
        for (const release of variant.deploy?.helm?.releases ?? [])
          expect(release.chartPath).toBe('helm/event-pipeline');
      }
    }
  });

  test('leaves the services deployed when it exits, and targets the kind context', () => {
    expect(args).toContain('--cleanup=false');
    expect(args.slice(args.indexOf('--kube-context'), args.indexOf('--kube-context') + 2)).toEqual([
      '--kube-context',
      'kind-event-pipeline',
    ]);
  });
});

test('make up deploys every config, platform first', () => {
  const args = makeSkaffold('up');
  expect(args).toContain('run');
  expect(selectedConfigs(args)).toEqual(['strimzi', 'kafka', 'event-pipeline']);
});
