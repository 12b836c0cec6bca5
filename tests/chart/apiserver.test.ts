/**
 * The chart, k8s/ and skaffold's hooks against a real kube-apiserver (support/apiserver.ts) with
 * Strimzi's generated CRDs and the Prometheus Operator's CRDs installed.
 *
 * Only the API server and etcd run, no controllers, no scheduler, no kubelet: objects are
 * admitted (RBAC, PodSecurity, CRD schemas and CEL rules, strict field validation) and stored,
 * and nothing runs them. Strimzi's operator cannot run here, so the test itself writes the
 * Kafka's status through the status subresource where the after-hook waits for it.
 *
 * The steps build on each other in order (namespace, objects, releases), as `make up` does.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseAllDocuments, stringify } from 'yaml';
import {
  apiServerBinaries,
  ELSEWHERE_CONTEXT,
  startApiServer,
  TEST_CONTEXT,
  type ApiServer,
} from './support/apiserver';
import { installCrds } from './support/cluster-crds';
import { helm, helmOk, warnings } from './support/kube-cli';
import { skaffoldHooks, variants } from './support/skaffold';
import { CHART, pinned, ROOT } from './support/tools';

const NAMESPACE = 'event-pipeline';
const RELEASE = 'event-pipeline';
const INSTANCE = `app.kubernetes.io/instance=${RELEASE}`;

let server: ApiServer;
let crds: ReturnType<typeof installCrds>;

beforeAll(async () => {
  server = await startApiServer();
  crds = installCrds(server);
}, 240_000);

afterAll(async () => {
  await server?.stop();
}, 60_000);

/** The environment skaffold gives a hook under `make up`: the user's, whose current context is another cluster. */
function hookEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${dirname(server.kubectlPath)}:${process.env.PATH ?? ''}`,
    KUBECONFIG: server.kubeconfigWithCurrentContext(ELSEWHERE_CONTEXT),
    SKAFFOLD_KUBE_CONTEXT: TEST_CONTEXT,
    WAIT_POLL_SECONDS: '1',
  };
}

interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec: Record<string, unknown>;
}

/**
 * PodSecurity enforces on Pods only (on workloads it only warns): each Deployment's pod template,
 * as the API server stored it, created as a bare Pod with a server-side dry run.
 */
function expectPodTemplatesEnforced(): void {
  for (const name of ['event-pipeline-producer', 'event-pipeline-consumer']) {
    const deployment = JSON.parse(
      server.kubectlOk(['-n', NAMESPACE, 'get', 'deployment', name, '-o', 'json']),
    ) as { spec: { template: PodTemplate } };
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${name}-template`,
        namespace: NAMESPACE,
        labels: deployment.spec.template.metadata?.labels ?? {},
      },
      spec: deployment.spec.template.spec,
    };
    const result = server.kubectl(
      ['create', '--dry-run=server', '-f', '-', '-o', 'name'],
      JSON.stringify(pod),
    );
    expect({ name, status: result.status, stderr: result.stderr }).toEqual({
      name,
      status: 0,
      stderr: '',
    });
    expect(result.stdout.trim()).toBe(`pod/${name}-template`);
  }
}

test('without the binaries the harness fails and names the command that builds them', () => {
  const cache = process.env.EVENT_PIPELINE_CACHE;
  process.env.EVENT_PIPELINE_CACHE = join(server.dir, 'empty-cache');
  try {
    expect(() => apiServerBinaries()).toThrow(
      /binaries are missing .*: run `bash scripts\/tools\/install\.sh kube-apiserver`/,
    );
  } finally {
    if (cache === undefined) delete process.env.EVENT_PIPELINE_CACHE;
    else process.env.EVENT_PIPELINE_CACHE = cache;
  }
});

describe('a real kube-apiserver (admits and stores; no controller runs anything)', () => {
  test('the server and kubectl are KUBE_APISERVER_VERSION, which the Go module requires; the CRDs are PROMETHEUS_OPERATOR_VERSION', () => {
    const version = pinned('KUBE_APISERVER_VERSION');
    const goMod = readFileSync(join(ROOT, 'scripts', 'tools', 'kube-apiserver', 'go.mod'), 'utf8');
    expect(goMod).toMatch(
      new RegExp(`^\\s+k8s\\.io/kubernetes ${version.replace(/\./g, '\\.')}\\b`, 'm'),
    );
    const reported = JSON.parse(server.kubectlOk(['version', '-o', 'json'])) as {
      clientVersion: { gitVersion: string };
      serverVersion: { gitVersion: string };
    };
    expect([reported.clientVersion.gitVersion, reported.serverVersion.gitVersion]).toEqual([
      version,
      version,
    ]);
    const operator = server.kubectlOk([
      'get',
      'crd',
      'servicemonitors.monitoring.coreos.com',
      '-o',
      'jsonpath={.metadata.annotations.operator\\.prometheus\\.io/version}',
    ]);
    expect(`v${operator}`).toBe(pinned('PROMETHEUS_OPERATOR_VERSION'));
  });

  test("Strimzi's and the Prometheus Operator's CRDs are Established, with no warning", () => {
    expect(crds.names.sort()).toEqual([
      'customresourcedefinition.apiextensions.k8s.io/kafkanodepools.kafka.strimzi.io',
      'customresourcedefinition.apiextensions.k8s.io/kafkas.kafka.strimzi.io',
      'customresourcedefinition.apiextensions.k8s.io/kafkatopics.kafka.strimzi.io',
      'customresourcedefinition.apiextensions.k8s.io/kafkausers.kafka.strimzi.io',
      'customresourcedefinition.apiextensions.k8s.io/podmonitors.monitoring.coreos.com',
      'customresourcedefinition.apiextensions.k8s.io/prometheusrules.monitoring.coreos.com',
      'customresourcedefinition.apiextensions.k8s.io/servicemonitors.monitoring.coreos.com',
    ]);
    expect(warnings(crds.stderr)).toEqual([]);
  });

  test('skaffold before-hooks create the namespace in the server SKAFFOLD_KUBE_CONTEXT names, not the current context', () => {
    const env = hookEnv();
    // The current context really is elsewhere: a kubectl without --context cannot reach it.
    const stray = spawnSync('kubectl', ['get', 'namespaces'], { env, encoding: 'utf8' });
    expect(stray.status).not.toBe(0);
    expect(stray.stderr).toMatch(/connection refused|Unable to connect/);

    const before = skaffoldHooks().filter((hook) => hook.phase === 'before');
    expect(before.length).toBeGreaterThan(0);
    for (const hook of before) {
      const result = spawnSync(hook.command[0]!, hook.command.slice(1), {
        cwd: ROOT,
        env,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect({ hook: hook.command, status: result.status, stderr: result.stderr }).toEqual({
        hook: hook.command,
        status: 0,
        stderr: '',
      });
    }
    expect(server.kubectlOk(['get', 'namespace', NAMESPACE, '-o', 'name']).trim()).toBe(
      `namespace/${NAMESPACE}`,
    );
  });

  test('the namespace enforces and warns PodSecurity restricted: a pod that is not restricted is refused', () => {
    server.kubectlOk([
      'label',
      'namespace',
      NAMESPACE,
      'pod-security.kubernetes.io/enforce=restricted',
      'pod-security.kubernetes.io/warn=restricted',
    ]);
    // What k8s/monitoring/strimzi-podmonitors.yaml needs besides; skaffold's helm release creates it.
    server.kubectlOk(['create', 'namespace', 'strimzi']);
    // kube-controller-manager's ServiceAccount controller would make this one; none runs here.
    server.kubectlOk(['-n', NAMESPACE, 'create', 'serviceaccount', 'default']);
    const plain = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'not-restricted', namespace: NAMESPACE },
      spec: { containers: [{ name: 'c', image: 'busybox:1.37' }] },
    };
    const result = server.kubectl(['create', '--dry-run=server', '-f', '-'], JSON.stringify(plain));
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/violates PodSecurity "restricted:latest"/);
  });

  test("skaffold's kubectl deploys, every profile, apply the way skaffold runs them: kubectl --namespace <defaultNamespace> apply", () => {
    // skaffold v2 (pkg/skaffold/kubectl/cli.go) pipes a config's rawYaml to
    // `kubectl --namespace <defaultNamespace> apply -f -`; kubectl then refuses an object that
    // names another namespace.
    const deploys = variants.filter((variant) => variant.config.manifests?.rawYaml?.length);
    expect(deploys.map((variant) => variant.name)).toEqual(
      expect.arrayContaining(['kafka', 'kafka -p light', 'kafka -p monitoring']),
    );
    for (const { name, config } of deploys) {
      const kubectl = config.deploy?.kubectl as { defaultNamespace?: string } | undefined;
      const files = (config.manifests?.rawYaml ?? []).flatMap((file) => ['-f', join(ROOT, file)]);
      const result = server.kubectl([
        ...(kubectl?.defaultNamespace ? ['--namespace', kubectl.defaultNamespace] : []),
        'apply',
        ...files,
      ]);
      expect({ variant: name, status: result.status, stderr: result.stderr }).toEqual({
        variant: name,
        status: 0,
        stderr: '',
      });
    }
    // The light profile changed the Kafka: remove what this test applied, so that the
    // server-side apply below starts from nothing, as on a new cluster.
    for (const { config } of deploys) {
      const kubectl = config.deploy?.kubectl as { defaultNamespace?: string } | undefined;
      server.kubectlOk([
        ...(kubectl?.defaultNamespace ? ['--namespace', kubectl.defaultNamespace] : []),
        'delete',
        '--ignore-not-found',
        ...(config.manifests?.rawYaml ?? []).flatMap((file) => ['-f', join(ROOT, file)]),
      ]);
    }
  });

  test('server-side apply of every Kubernetes object in k8s/ is accepted, with no warning', () => {
    const files = readdirSync(join(ROOT, 'k8s'), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.yaml'))
      .map((file) => join(ROOT, 'k8s', file))
      .sort();
    const objectsIn = (file: string) =>
      parseAllDocuments(readFileSync(file, 'utf8'))
        .map(
          (doc) =>
            doc.toJS() as {
              apiVersion?: string;
              kind?: string;
              metadata?: { namespace?: string };
            } | null,
        )
        .filter((doc) => doc !== null);
    // kind's cluster config and Helm values files are not Kubernetes objects.
    const isObjects = (file: string) =>
      objectsIn(file).every(
        (doc) =>
          typeof doc.apiVersion === 'string' &&
          typeof doc.kind === 'string' &&
          !doc.apiVersion.startsWith('kind.x-k8s.io/'),
      );
    const applied = files.filter(isObjects);
    expect(files.filter((file) => !isObjects(file)).map((file) => relative(ROOT, file))).toEqual([
      'k8s/kind/cluster.yaml',
      'k8s/monitoring/values.yaml',
      'k8s/strimzi/values.yaml',
    ]);
    expect(applied.length).toBeGreaterThanOrEqual(4);
    for (const file of applied) {
      // k8s/kafka names no namespace (skaffold's defaultNamespace gives event-pipeline); the
      // PodMonitors name their own, in two namespaces.
      const namespaced = objectsIn(file).some((doc) => doc.metadata?.namespace !== undefined);
      const result = server.kubectl([
        'apply',
        '--server-side',
        '--field-manager=event-pipeline-test',
        ...(namespaced ? [] : ['-n', NAMESPACE]),
        '-f',
        file,
      ]);
      expect({ file: relative(ROOT, file), status: result.status, stderr: result.stderr }).toEqual({
        file: relative(ROOT, file),
        status: 0,
        stderr: '',
      });
      expect(result.stdout).toMatch(/serverside-applied/);
    }
    expect(
      server.kubectlOk(['-n', NAMESPACE, 'get', 'kafka,kafkanodepool,configmap', '-o', 'name']),
    ).toMatch(
      /kafka\.kafka\.strimzi\.io\/event-kafka\n[\s\S]*kafkanodepool\.kafka\.strimzi\.io\/dual-role/,
    );
    expect(
      server.kubectlOk(['get', 'podmonitor', '-A', '-o', 'name']).split('\n').filter(Boolean),
    ).toHaveLength(3);
  });

  test('helm shows the API server warnings on stderr (control: a scratch chart that is not restricted)', () => {
    const chart = join(server.dir, 'scratch-chart');
    mkdirSync(join(chart, 'templates'), { recursive: true });
    writeFileSync(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: scratch\nversion: 0.0.1\n');
    writeFileSync(
      join(chart, 'templates', 'deployment.yaml'),
      stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'scratch' },
        spec: {
          selector: { matchLabels: { app: 'scratch' } },
          template: {
            metadata: { labels: { app: 'scratch' } },
            spec: { containers: [{ name: 'c', image: 'busybox:1.37' }] },
          },
        },
      }),
    );
    const { stderr } = helmOk(server, ['install', 'scratch', chart, '-n', NAMESPACE]);
    helmOk(server, ['uninstall', 'scratch', '-n', NAMESPACE]);
    // client-go logs it through klog, quoted: "Warning: would violate PodSecurity \"restricted:latest\": ..."
    expect(warnings(stderr).join('\n')).toMatch(/would violate PodSecurity \\?"restricted:latest/);
  });

  test('helm install of the chart is accepted, with no warning; the monitoring objects appear because the CRDs are there', () => {
    const { stderr } = helmOk(server, ['install', RELEASE, CHART, '-n', NAMESPACE]);
    expect(warnings(stderr)).toEqual([]);
    const names = server
      .kubectlOk([
        '-n',
        NAMESPACE,
        'get',
        'deployment,servicemonitor,prometheusrule,kafkatopic',
        '-l',
        INSTANCE,
        '-o',
        'name',
      ])
      .split('\n')
      .filter(Boolean);
    expect(names).toEqual(
      expect.arrayContaining([
        'deployment.apps/event-pipeline-producer',
        'deployment.apps/event-pipeline-consumer',
      ]),
    );
    expect(names.some((name) => name.startsWith('servicemonitor.'))).toBe(true);
    expect(names.some((name) => name.startsWith('prometheusrule.'))).toBe(true);
    expect(names.some((name) => name.startsWith('kafkatopic.'))).toBe(true);
  });

  test("each Deployment's pod template, created as a bare Pod (server dry-run), passes PodSecurity enforcement", () => {
    expectPodTemplatesEnforced();
  });

  const valuesFiles = readdirSync(join(CHART, 'ci'))
    .filter((file) => file.endsWith('-values.yaml'))
    .sort();

  test.each(valuesFiles)(
    'helm upgrade to ci/%s is accepted, with no warning, and its pod templates pass enforcement',
    (file) => {
      const { stderr } = helmOk(server, [
        'upgrade',
        RELEASE,
        CHART,
        '-n',
        NAMESPACE,
        '-f',
        join(CHART, 'ci', file),
      ]);
      expect(warnings(stderr)).toEqual([]);
      const status = JSON.parse(
        helmOk(server, ['status', RELEASE, '-n', NAMESPACE, '-o', 'json']).stdout,
      ) as {
        info: { status: string };
      };
      expect(status.info.status).toBe('deployed');
      expectPodTemplatesEnforced();
    },
  );

  test('the releases made what their values ask for: HPAs, the KafkaUser, the NetworkPolicies', () => {
    // After the last upgrade (scram) the HPAs of hpa-values are gone again and the KafkaUser is there.
    const names = server
      .kubectlOk([
        '-n',
        NAMESPACE,
        'get',
        'hpa,kafkauser,networkpolicy',
        '-l',
        INSTANCE,
        '-o',
        'name',
      ])
      .split('\n')
      .filter(Boolean);
    expect(names.some((name) => name.startsWith('kafkauser.'))).toBe(true);
    expect(names.some((name) => name.startsWith('networkpolicy.'))).toBe(true);
    expect(names.some((name) => name.startsWith('horizontalpodautoscaler.'))).toBe(false);
  });

  test('helm refuses KafkaUser ACLs against the stored Kafka, which has no authorization (a real lookup)', () => {
    const result = helm(server, [
      'upgrade',
      RELEASE,
      CHART,
      '-n',
      NAMESPACE,
      '-f',
      join(CHART, 'ci', 'scram-values.yaml'),
      '--set',
      'kafka.user.acls=true',
    ]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(
      /kafka\.user\.acls is true, but the Kafka cluster event-kafka has no spec\.kafka\.authorization/,
    );
  });

  test('helm uninstall is accepted and leaves only the KafkaTopics, which the chart keeps on purpose', () => {
    const { stderr } = helmOk(server, ['uninstall', RELEASE, '-n', NAMESPACE]);
    expect(warnings(stderr)).toEqual([]);
    const left = server.kubectlOk([
      '-n',
      NAMESPACE,
      'get',
      'all,configmap,secret,serviceaccount,networkpolicy,servicemonitor,prometheusrule,kafkatopic,kafkauser',
      '-l',
      INSTANCE,
      '-o',
      'name',
    ]);
    expect(left.split('\n').filter(Boolean).sort()).toEqual([
      'kafkatopic.kafka.strimzi.io/event-pipeline-events',
      'kafkatopic.kafka.strimzi.io/event-pipeline-events-dlq',
    ]);
    // kafka.topics.keepOnUninstall (default true): deleting a KafkaTopic would delete its messages.
    const policies = server.kubectlOk([
      '-n',
      NAMESPACE,
      'get',
      'kafkatopic',
      '-l',
      INSTANCE,
      '-o',
      'jsonpath={range .items[*]}{.metadata.annotations.helm\\.sh/resource-policy}{"\\n"}{end}',
    ]);
    expect(policies.split('\n').filter(Boolean)).toEqual(['keep', 'keep']);
  });

  test('the skaffold after-hook waits while observedGeneration lags and returns once Ready with observedGeneration == generation', async () => {
    const after = skaffoldHooks().filter(
      (hook) => hook.phase === 'after' && hook.command.join(' ').includes('event-kafka'),
    );
    expect(after).toHaveLength(1);
    const generation = Number(
      server.kubectlOk([
        '-n',
        NAMESPACE,
        'get',
        'kafka/event-kafka',
        '-o',
        'jsonpath={.metadata.generation}',
      ]),
    );
    expect(generation).toBeGreaterThanOrEqual(1);
    // Strimzi's operator writes this status; it cannot run here, so the test does, through the status subresource.
    const setStatus = (observedGeneration: number) =>
      server.kubectlOk([
        '-n',
        NAMESPACE,
        'patch',
        'kafka/event-kafka',
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({
          status: {
            observedGeneration,
            conditions: [
              { type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString() },
            ],
          },
        }),
      ]);
    setStatus(generation - 1);

    const hook = after[0]!.command;
    const child = spawn(hook[0]!, hook.slice(1), {
      cwd: ROOT,
      env: hookEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    try {
      // Ready=True of the last generation: five polls later it is still waiting.
      await sleep(5_000);
      expect({ exitCode: child.exitCode, stdout, stderr }).toEqual({
        exitCode: null,
        stdout: `kafka/event-kafka: waiting (generation ${generation}, observed ${generation - 1}, Ready True)\n`,
        stderr: '',
      });
      setStatus(generation);
      const code = await Promise.race([exited, sleep(15_000, 'timeout' as const, { ref: false })]);
      expect({ code, stdout, stderr }).toEqual({
        code: 0,
        stdout: expect.stringContaining(
          `kafka/event-kafka: Ready, generation ${generation} reconciled`,
        ),
        stderr: '',
      });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});
