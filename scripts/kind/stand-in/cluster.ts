/**
 * `make up` for a machine that can pull no image and has no Strimzi operator (CI here): a kind
 * cluster from the node image built here (scripts/kind/node-image), our images loaded into it,
 * Strimzi's own CRDs, the Kafka objects of k8s/kafka (accepted, not reconciled: no operator),
 * the Kafka stand-in of kafka.yaml in their place, the chart's topics, and the chart installed
 * with the values `make up` gives it. A user's machine runs `make up` and never needs this.
 *
 *   node dist/scripts/kind/stand-in/cluster.js up     create (or reuse) and deploy; prints timings
 *   node dist/scripts/kind/stand-in/cluster.js down   delete the cluster and kind's network
 *   node dist/scripts/kind/stand-in/cluster.js bin    the folder of the kubectl it uses (for PATH)
 *
 * Then: KUBE_CONTEXT=kind-event-pipeline E2E_KAFKA_STAND_IN=1 npm run e2e (.ci/run does).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { buildServiceImages } from '../../docker/images';
import { ensureKafkaStandIn } from '../../docker/kafka-stand-in';
import { topicCommands, type KafkaTopicObject } from './topics';
import { pinnedVersion } from '../../lib/versions';
import { repoRoot } from '../../lib/root';

const ROOT = repoRoot();
const CACHE = process.env.EVENT_PIPELINE_CACHE ?? join(homedir(), '.cache', 'event-pipeline');
const NODE_IMAGE = join(ROOT, 'scripts', 'kind', 'node-image');
const NAMESPACE = 'event-pipeline';
const CLUSTER = 'event-pipeline';
export const KUBE_CONTEXT = `kind-${CLUSTER}`;
const RELEASE = 'event-pipeline';
const KAFKA_POD = 'event-kafka-dual-role-0';

class StandInError extends Error {
  override readonly name = 'StandInError';
}

const say = (line: string) => process.stderr.write(`[kind stand-in] ${line}\n`);

/** The tools: kubectl of the node image's Kubernetes build, Helm of scripts/tools/install.sh. */
function tools(): { kubectl: string; helm: string } {
  const version = pinnedVersion('KUBERNETES_VERSION', join(NODE_IMAGE, 'versions.env'));
  const kubectl = join(CACHE, `node-kubernetes-${version}`, 'bin', 'kubectl');
  const helm = join(ROOT, '.cache', 'tools', 'bin', 'helm');
  if (!existsSync(kubectl)) {
    throw new StandInError(
      `${kubectl} is missing: bash scripts/kind/node-image/build.sh builds it`,
    );
  }
  if (!existsSync(helm))
    throw new StandInError(`${helm} is missing: bash scripts/tools/install.sh helm`);
  return { kubectl, helm };
}

interface Run {
  input?: string;
  /** Keep stdout and return it (otherwise it is shown). */
  capture?: boolean;
  allowFailure?: boolean;
}

function run(
  command: string,
  args: readonly string[],
  options: Run = {},
): { status: number; stdout: string } {
  const result = spawnSync(command, args, {
    cwd: ROOT,
    input: options.input,
    encoding: 'utf8',
    stdio: [
      options.input === undefined ? 'ignore' : 'pipe',
      options.capture ? 'pipe' : 'inherit',
      'inherit',
    ],
    maxBuffer: 64 * 1024 * 1024,
  });
  const status = result.status ?? 1;
  if (status !== 0 && !options.allowFailure) {
    throw new StandInError(`${command} ${args.join(' ')} exited ${result.signal ?? status}`);
  }
  return { status, stdout: result.stdout ?? '' };
}

async function timed<T>(what: string, work: () => T | Promise<T>): Promise<T> {
  const started = performance.now();
  const value = await work();
  say(`${what}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return value;
}

function clusterExists(): boolean {
  const kind = run('bash', [join(NODE_IMAGE, 'kind.sh'), 'path'], { capture: true }).stdout.trim();
  return run(kind, ['get', 'clusters'], { capture: true }).stdout.split('\n').includes(CLUSTER);
}

function strimziCrdFiles(): string[] {
  const version = pinnedVersion('STRIMZI_VERSION');
  const dir = join(CACHE, `strimzi-crds-${version}`, 'crds');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.yaml')) : [];
  if (files.length === 0) {
    throw new StandInError(`no Strimzi CRDs in ${dir}: bash scripts/tools/install.sh strimzi-crds`);
  }
  return files.sort().map((f) => join(dir, f));
}

async function up(): Promise<void> {
  const { kubectl, helm } = tools();
  const kc = (args: readonly string[], options: Run = {}) =>
    run(kubectl, ['--context', KUBE_CONTEXT, ...args], options);

  const images = await timed('images (Dockerfile, Kafka stand-in)', async () => [
    ...buildServiceImages().map((b) => b.image),
    (await ensureKafkaStandIn()).image,
  ]);
  if (clusterExists()) {
    say(`kind cluster ${CLUSTER} exists: deploying into it`);
  } else {
    await timed('kind create cluster (node image built here)', () =>
      run('bash', [join(NODE_IMAGE, 'kind.sh'), 'create', '--wait', '3m']),
    );
  }
  await timed(`kind load docker-image ${images.join(' ')}`, () =>
    run('bash', [join(NODE_IMAGE, 'kind.sh'), 'load', ...images]),
  );
  await timed("Strimzi's CRDs", () => {
    const names = strimziCrdFiles().flatMap((file) =>
      kc(['apply', '--server-side', '-o', 'name', '-f', file], { capture: true })
        .stdout.split('\n')
        .filter(Boolean),
    );
    kc(['wait', '--for=condition=Established', '--timeout=60s', ...names]);
  });
  await timed('Kafka: the objects of k8s/kafka (not reconciled) and the stand-in brokers', () => {
    kc(['create', 'namespace', NAMESPACE], { allowFailure: true, capture: true });
    for (const file of [
      'k8s/kafka/metrics-config.yaml',
      'k8s/kafka/kafka.yaml',
      'scripts/kind/stand-in/kafka.yaml',
    ]) {
      kc(['-n', NAMESPACE, 'apply', '-f', file]);
    }
    kc([
      '-n',
      NAMESPACE,
      'rollout',
      'status',
      'statefulset/event-kafka-dual-role',
      '--timeout=300s',
    ]);
  });
  await timed("the chart's topics (what the Topic Operator would do)", () => {
    const rendered = run(
      helm,
      [
        'template',
        RELEASE,
        'helm/event-pipeline',
        '-n',
        NAMESPACE,
        '--show-only',
        'templates/kafka-topics.yaml',
      ],
      { capture: true },
    ).stdout;
    const topics = parseAllDocuments(rendered)
      .map((doc) => doc.toJS() as KafkaTopicObject | null)
      .filter((object): object is KafkaTopicObject => object?.kind === 'KafkaTopic');
    for (const args of topicCommands(topics)) {
      kc([
        '-n',
        NAMESPACE,
        'exec',
        KAFKA_POD,
        '--',
        // A small heap: with the broker's KAFKA_HEAP_OPTS the tool would take 512 MiB more of
        // the pod's 1 GiB, and the OOM killer would pick the broker.
        'env',
        'KAFKA_HEAP_OPTS=-Xmx128m',
        'kafka-topics.sh',
        '--bootstrap-server',
        'localhost:9092',
        ...args,
      ]);
    }
  });
  await timed(`helm upgrade --install ${RELEASE} (make up's values) and both rollouts`, () => {
    run(helm, [
      '--kube-context',
      KUBE_CONTEXT,
      'upgrade',
      '--install',
      RELEASE,
      'helm/event-pipeline',
      '-n',
      NAMESPACE,
    ]);
    for (const deployment of [`${RELEASE}-producer`, `${RELEASE}-consumer`]) {
      kc(['-n', NAMESPACE, 'rollout', 'status', `deployment/${deployment}`, '--timeout=300s']);
    }
  });
  say(`ready: kubectl --context ${KUBE_CONTEXT} -n ${NAMESPACE} get pods`);
}

async function down(): Promise<void> {
  await timed('kind delete cluster', () => run('bash', [join(NODE_IMAGE, 'kind.sh'), 'delete']));
}

if (require.main === module) {
  const command = process.argv[2];
  const printBin = async () => {
    process.stdout.write(`${dirname(tools().kubectl)}\n`);
  };
  const action =
    command === 'up' ? up : command === 'down' ? down : command === 'bin' ? printBin : undefined;
  if (action === undefined) {
    process.stderr.write('usage: node dist/scripts/kind/stand-in/cluster.js up|down|bin\n');
    process.exit(2);
  }
  action().catch((error: unknown) => {
    say(`failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
