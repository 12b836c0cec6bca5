/**
 * Readiness of the objects the suite waits for, from their status alone (what `kubectl wait`
 * and `kubectl rollout status` look at). Pure: tests/unit/e2e-conditions.test.ts.
 */

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface StrimziKafka {
  metadata?: { name?: string; generation?: number };
  status?: { conditions?: Condition[]; observedGeneration?: number };
}

export interface Verdict {
  ready: boolean;
  status: string;
}

/** Strimzi's Kafka: Ready=True for the current generation. */
export function kafkaReady(kafka: StrimziKafka | undefined): Verdict {
  if (kafka === undefined) return { ready: false, status: 'no Kafka resource yet' };
  const conditions = kafka.status?.conditions ?? [];
  const ready = conditions.find((c) => c.type === 'Ready');
  const generation = kafka.metadata?.generation;
  const observed = kafka.status?.observedGeneration;
  if (generation !== undefined && observed !== undefined && observed < generation) {
    return { ready: false, status: `generation ${generation} not yet observed (${observed})` };
  }
  if (ready?.status === 'True') return { ready: true, status: 'Ready' };
  const other = conditions.find((c) => c.status === 'True' && c.type !== 'Ready');
  const why = ready?.message ?? ready?.reason ?? other?.type ?? 'no Ready condition yet';
  return { ready: false, status: `not Ready: ${why}` };
}

export interface DeploymentLike {
  metadata?: { name?: string; generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    conditions?: Condition[];
  };
}

/**
 * Rolled out and Available, as `kubectl rollout status` decides: the controller saw the latest
 * spec, every replica is updated and available, and no old replica is left.
 */
export function deploymentRolledOut(deployment: DeploymentLike | undefined): Verdict {
  if (deployment === undefined) return { ready: false, status: 'no Deployment yet' };
  const want = deployment.spec?.replicas ?? 1;
  const s = deployment.status ?? {};
  const generation = deployment.metadata?.generation ?? 0;
  if ((s.observedGeneration ?? 0) < generation) {
    return { ready: false, status: 'waiting for the controller to see the new spec' };
  }
  const progressing = s.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return { ready: false, status: `rollout stuck: ${progressing.message ?? 'deadline exceeded'}` };
  }
  const updated = s.updatedReplicas ?? 0;
  const total = s.replicas ?? 0;
  const available = s.availableReplicas ?? 0;
  const counts = `${updated}/${want} updated, ${available} available, ${total} in total`;
  if (updated < want) return { ready: false, status: counts };
  if (total > updated) return { ready: false, status: `${counts} (old replicas terminating)` };
  if (available < updated) return { ready: false, status: counts };
  const availableCondition = s.conditions?.find((c) => c.type === 'Available');
  if (availableCondition?.status !== 'True')
    return { ready: false, status: `${counts}, not Available` };
  return { ready: true, status: `${counts}, Available` };
}

/** The restart annotation `kubectl rollout restart` sets: changing it rolls every pod. */
export function restartPatch(at: Date): Record<string, unknown> {
  return {
    spec: {
      template: {
        metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at.toISOString() } },
      },
    },
  };
}

export interface PodLike {
  metadata?: { name?: string; deletionTimestamp?: unknown; uid?: string };
  status?: { phase?: string; conditions?: Condition[] };
}

/** Running, not terminating, Ready=True. */
export function podReady(pod: PodLike): boolean {
  return (
    pod.metadata?.deletionTimestamp == null &&
    pod.status?.phase === 'Running' &&
    (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

export interface EndpointSliceLike {
  endpoints?: Array<{
    conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
    targetRef?: { kind?: string; name?: string };
  }>;
}

/** Pods a Service sends new connections to: endpoints that are ready (so not terminating). */
export function readyEndpointPods(slices: readonly EndpointSliceLike[]): string[] {
  const names = slices.flatMap((slice) =>
    (slice.endpoints ?? [])
      .filter((e) => e.conditions?.ready === true && e.conditions.terminating !== true)
      .map((e) => (e.targetRef?.kind === 'Pod' ? e.targetRef.name : undefined))
      .filter((name): name is string => name !== undefined),
  );
  return [...new Set(names)].sort();
}

export interface StatefulSetLike {
  metadata?: { name?: string; generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    readyReplicas?: number;
    updatedReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
  };
}

/** Every replica of the current revision ready, as `kubectl rollout status statefulset` decides. */
export function statefulSetReady(set: StatefulSetLike | undefined): Verdict {
  if (set === undefined) return { ready: false, status: 'no StatefulSet yet' };
  const want = set.spec?.replicas ?? 1;
  const s = set.status ?? {};
  const generation = set.metadata?.generation ?? 0;
  if ((s.observedGeneration ?? 0) < generation) {
    return { ready: false, status: `generation ${generation} not yet observed` };
  }
  const ready = s.readyReplicas ?? 0;
  const updated = s.updatedReplicas ?? 0;
  if (updated < want || (s.updateRevision && s.currentRevision !== s.updateRevision)) {
    return { ready: false, status: `${updated} of ${want} replicas updated` };
  }
  if (ready < want) return { ready: false, status: `${ready} of ${want} replicas ready` };
  return { ready: true, status: `${ready} of ${want} replicas ready` };
}

export interface ContainerStatusLike {
  name: string;
  restartCount: number;
  ready: boolean;
  state?: { running?: unknown };
  lastState?: { terminated?: { reason?: string; exitCode?: number; message?: string } };
}

export interface PodWithContainers {
  metadata?: { name?: string };
  status?: { containerStatuses?: ContainerStatusLike[] };
}

/**
 * The restarts in these pods: `crashes`, and `runtimeStartFailures`, where the container
 * runtime failed once to start the process (StartError, exit code 128: runc timing out on a
 * busy VM) and the container then started and is ready. Our code never ran in the failed
 * start, so nothing of ours crashed; any other restart, or a second one, is a crash.
 */
export function containerRestarts(pods: readonly PodWithContainers[]): {
  crashes: string[];
  runtimeStartFailures: string[];
} {
  const crashes: string[] = [];
  const runtimeStartFailures: string[] = [];
  for (const pod of pods) {
    for (const c of pod.status?.containerStatuses ?? []) {
      if (c.restartCount === 0) continue;
      const last = c.lastState?.terminated;
      const what =
        `${pod.metadata?.name}/${c.name}: ${c.restartCount} restart(s), ` +
        `last ${last?.reason ?? '?'} (exit ${last?.exitCode ?? '?'})` +
        (last?.message ? `: ${last.message}` : '');
      const runtimeOnly =
        last?.reason === 'StartError' &&
        last.exitCode === 128 &&
        c.restartCount === 1 &&
        c.state?.running !== undefined &&
        c.ready;
      (runtimeOnly ? runtimeStartFailures : crashes).push(what);
    }
  }
  return { crashes, runtimeStartFailures };
}
