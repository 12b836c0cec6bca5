/**
 * How the chart runs each service, read from the rendered chart (`helm template` with the
 * default values) and turned into `docker run` options, so that the container tests run the
 * images exactly as the pods would and a change to the chart changes the tests' containers.
 *
 *   const pod = renderedPods().producer;
 *   pod.image, pod.user, pod.env, pod.ports, pod.graceSeconds, pod.preStopSleepSeconds
 *   dockerRunArgs(pod, { env: { KAFKA_BROKERS: ... }, publish: { 8080: 41000 } })
 *
 * Translated: the pod's user and group, readOnlyRootFilesystem (--read-only), capabilities
 * dropped (--cap-drop), allowPrivilegeEscalation false (no-new-privileges), the emptyDir
 * mounts (tmpfs of their sizeLimit, owned by the pod's fsGroup), the memory and CPU limits,
 * the ConfigMap's variables and the container's own env. Not translatable to Docker and so
 * left out: probes (the tests poll the same paths), the preStop sleep (the tests wait it
 * before `docker stop`, as the kubelet does before SIGTERM) and the seccomp profile
 * (RuntimeDefault is also Docker's default).
 */
import { parseAllDocuments } from 'yaml';
import { CHART, runOk } from '../../chart/support/tools';

export interface ContainerPort {
  name: string;
  containerPort: number;
}

export interface PodRun {
  component: 'producer' | 'consumer';
  image: string;
  user: number;
  group: number;
  fsGroup: number;
  readOnlyRootFilesystem: boolean;
  capDrop: string[];
  noNewPrivileges: boolean;
  tmpfs: Array<{ path: string; sizeBytes: number }>;
  memoryBytes: number;
  cpus: number;
  env: Record<string, string>;
  ports: ContainerPort[];
  graceSeconds: number;
  preStopSleepSeconds: number;
  readinessPath: string;
  livenessPath: string;
}

interface K8sObject {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  spec?: {
    template?: { spec: PodSpec };
  };
}

interface HttpProbe {
  httpGet: { path: string; port: string | number };
}

interface Container {
  name: string;
  image: string;
  ports?: ContainerPort[];
  envFrom?: Array<{ configMapRef?: { name: string } }>;
  env?: Array<{ name: string; value?: string }>;
  readinessProbe: HttpProbe;
  livenessProbe: HttpProbe;
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
  resources: { limits: { cpu: string; memory: string } };
  securityContext: {
    runAsUser: number;
    runAsGroup: number;
    readOnlyRootFilesystem: boolean;
    allowPrivilegeEscalation: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}

interface PodSpec {
  terminationGracePeriodSeconds: number;
  securityContext: { fsGroup: number };
  containers: Container[];
  volumes?: Array<{ name: string; emptyDir?: { sizeLimit?: string } }>;
}

const UNITS: Record<string, number> = {
  '': 1,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
};

/** A Kubernetes quantity of bytes (`192Mi`, `1G`) as a number. */
export function bytesOf(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)([KMG]i|[kMG])?$/.exec(quantity);
  const unit = UNITS[match?.[2] ?? ''];
  if (!match || unit === undefined) throw new Error(`not a byte quantity: ${quantity}`);
  return Number(match[1]) * unit;
}

/** A Kubernetes CPU quantity (`1`, `500m`) in cores. */
export function coresOf(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)(m)?$/.exec(quantity);
  if (!match) throw new Error(`not a CPU quantity: ${quantity}`);
  return Number(match[1]) / (match[2] === 'm' ? 1000 : 1);
}

/** The chart rendered with its default values (plus `--set` pairs), as objects. */
export function renderChart(set: readonly string[] = []): K8sObject[] {
  const text = runOk('helm', [
    'template',
    'ep',
    CHART,
    '--namespace',
    'event-pipeline',
    ...set.flatMap((pair) => ['--set', pair]),
  ]);
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((object): object is K8sObject => object !== null);
}

function podRun(objects: K8sObject[], component: PodRun['component']): PodRun {
  const deployment = objects.find(
    (o) =>
      o.kind === 'Deployment' && o.metadata.labels?.['app.kubernetes.io/component'] === component,
  );
  const pod = deployment?.spec?.template?.spec;
  const container = pod?.containers.find((c) => c.name === component);
  if (!pod || !container) throw new Error(`the chart renders no ${component} Deployment`);
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const name = source.configMapRef?.name;
    const map = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name);
    if (!map?.data) throw new Error(`${component}: ConfigMap ${String(name)} is not rendered`);
    Object.assign(env, map.data);
  }
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) env[variable.name] = variable.value;
  }
  const tmpfs = (container.volumeMounts ?? []).map((mount) => {
    const volume = pod.volumes?.find((v) => v.name === mount.name);
    if (!volume?.emptyDir) throw new Error(`${component}: volume ${mount.name} is not an emptyDir`);
    return { path: mount.mountPath, sizeBytes: bytesOf(volume.emptyDir.sizeLimit ?? '64Mi') };
  });
  const security = container.securityContext;
  return {
    component,
    image: container.image,
    user: security.runAsUser,
    group: security.runAsGroup,
    fsGroup: pod.securityContext.fsGroup,
    readOnlyRootFilesystem: security.readOnlyRootFilesystem,
    capDrop: security.capabilities?.drop ?? [],
    noNewPrivileges: security.allowPrivilegeEscalation === false,
    tmpfs,
    memoryBytes: bytesOf(container.resources.limits.memory),
    cpus: coresOf(container.resources.limits.cpu),
    env,
    ports: container.ports ?? [],
    graceSeconds: pod.terminationGracePeriodSeconds,
    preStopSleepSeconds: container.lifecycle?.preStop?.sleep?.seconds ?? 0,
    readinessPath: container.readinessProbe.httpGet.path,
    livenessPath: container.livenessProbe.httpGet.path,
  };
}

export function renderedPods(set: readonly string[] = []): Record<PodRun['component'], PodRun> {
  const objects = renderChart(set);
  return { producer: podRun(objects, 'producer'), consumer: podRun(objects, 'consumer') };
}

export interface RunOverrides {
  name: string;
  /** Variables set on top of the chart's (e.g. KAFKA_BROKERS of the test's Kafka). */
  env?: Record<string, string>;
  /** Container port → host port on 127.0.0.1. */
  publish?: Record<number, number>;
  /** Extra `--mount` specifications (the ledger handler and its output). */
  mounts?: string[];
  /** `host:ip` entries, e.g. host.docker.internal:host-gateway. */
  addHosts?: string[];
}

/** The `docker run` arguments (before the image) that run `pod` as its Deployment does. */
export function dockerRunArgs(pod: PodRun, overrides: RunOverrides): string[] {
  const env = { ...pod.env, ...overrides.env };
  return [
    '--name',
    overrides.name,
    '--user',
    `${pod.user}:${pod.group}`,
    ...(pod.readOnlyRootFilesystem ? ['--read-only'] : []),
    ...pod.capDrop.flatMap((cap) => ['--cap-drop', cap]),
    ...(pod.noNewPrivileges ? ['--security-opt', 'no-new-privileges'] : []),
    ...pod.tmpfs.flatMap((t) => [
      '--tmpfs',
      `${t.path}:rw,nosuid,nodev,noexec,size=${t.sizeBytes},uid=${pod.user},gid=${pod.fsGroup},mode=1770`,
    ]),
    '--memory',
    String(pod.memoryBytes),
    // No swap beyond the limit, as in a pod.
    '--memory-swap',
    String(pod.memoryBytes),
    '--cpus',
    String(pod.cpus),
    ...Object.entries(env).flatMap(([key, value]) => ['--env', `${key}=${value}`]),
    ...Object.entries(overrides.publish ?? {}).flatMap(([container, host]) => [
      '--publish',
      `127.0.0.1:${host}:${container}`,
    ]),
    ...(overrides.mounts ?? []).flatMap((mount) => ['--mount', mount]),
    ...(overrides.addHosts ?? []).flatMap((entry) => ['--add-host', entry]),
  ];
}
