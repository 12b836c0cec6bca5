/**
 * The deployment of `make up`, end to end (issue 6), through @kubernetes/client-node only:
 *
 *   1. the Strimzi Kafka is Ready and both Deployments are rolled out and Available;
 *   2. the pods run what the chart rendered: probes, preStop and grace period equal the
 *      Deployments of the Helm release's manifest (what `helm get manifest` shows);
 *   3. 10,000 messages from 16 concurrent clients through a port-forward to the producer API
 *      are all acknowledged, then consumed: the consumers' metrics count them, the group's
 *      committed offsets pass every acknowledged message and the lag returns to 0;
 *   4. under load, the consumer Deployment and then the producer Deployment are rolled (the
 *      restart annotation, as `kubectl rollout restart`): no client error but retriable 503s,
 *      every acknowledged message is in Kafka where the API said, and gets consumed;
 *   5. under load, one pod of the consumer and then one of the producer are deleted (the
 *      kubelet runs the preStop sleep, then sends SIGTERM): each logs its shutdown, exits 0
 *      within the grace period, and nothing acknowledged is lost;
 *   6. every pod's /metrics, through the API server's pod proxy, has the lag and throughput
 *      series;
 *   7. no container in the namespace restarted (an OOM kill or a failed liveness probe would).
 *
 * Run with `make e2e` (`npm run e2e`). Each step needs the ones before it: after a failure the
 * rest are reported as failed, never as passed.
 */
import { Kafka, logLevel, type Admin } from 'kafkajs';
import {
  containerRestarts,
  deploymentRolledOut,
  kafkaReady,
  readyEndpointPods,
  restartPatch,
  statefulSetReady,
  type StrimziKafka,
} from './support/conditions';
import { LocalForwarder, ReadyPods } from './support/forwarder';
import { connectKube, followLog, podProxyGet, portForwardTunnels, type Kube } from './support/kube';
import { Ledger, seqOf } from './support/ledger';
import { runLoad, type Answer, type LoadStats } from './support/load';
import { matching, parsePrometheus, sum, type Sample } from './support/metrics';
import { groupLag, joinOffsets, uncommittedAcks, type PartitionOffsets } from './support/offsets';
import { poll } from '../../scripts/lib/poll';
import { progress } from './support/progress';
import { shutdownTimeline } from './support/shutdown';
import {
  differences,
  latestRelease,
  manifestObjects,
  shutdownContract,
  type PodSpecLike,
} from './support/release';
import {
  API_PORT,
  BATCH,
  CLIENTS,
  CONSUMER,
  DLQ_TOPIC,
  DRAIN_TIMEOUT_MS,
  E2E_NAMESPACE as NS,
  GROUP,
  KAFKA_CLUSTER,
  KAFKA_STAND_IN,
  KAFKA_STAND_IN_STATEFULSET,
  MANAGEMENT_PORT,
  MESSAGES,
  PRODUCER,
  READY_TIMEOUT_MS,
  RELEASE,
  ROLL_CLIENTS,
  ROLL_TIMEOUT_MS,
  TOPIC,
} from './settings';
import { isPortOpen } from '../../scripts/lib/ports';

// ---------------------------------------------------------------------------------------------
// Steps that stop at the first failure

let failed: string | undefined;

function step(name: string, run: () => Promise<void>, timeoutMs?: number): void {
  test(
    name,
    async () => {
      if (failed !== undefined) throw new Error(`not run: the step "${failed}" failed`);
      progress(`── ${name}`);
      try {
        await run();
      } catch (error) {
        failed = name;
        throw error;
      }
    },
    timeoutMs,
  );
}

// ---------------------------------------------------------------------------------------------
// Shared state

let kube: Kube;
let kafka: Kafka;
let admin: Admin;
let apiPods: ReadyPods;
let api: LocalForwarder;
let apiPort = 0;
const brokerForwarders: LocalForwarder[] = [];
const runId = `e2e-${Date.now().toString(36)}`;
const ledger = new Ledger(runId);
let nextSeq = 0;
let dlqBefore = 0n;

beforeAll(async () => {
  kube = await connectKube();
}, 60_000);

afterAll(async () => {
  await admin?.disconnect().catch(() => undefined);
  apiPods?.stop();
  await api?.stop();
  await Promise.all(brokerForwarders.map((f) => f.stop()));
}, 60_000);

// ---------------------------------------------------------------------------------------------
// Kubernetes reads

interface Selector {
  matchLabels?: Record<string, string>;
}

async function getKafka(): Promise<
  StrimziKafka & { spec?: { kafka?: { listeners?: Listener[] } } }
> {
  // The generated client returns the object untyped; these fields are Strimzi's.
  return (await kube.custom.getNamespacedCustomObject({
    group: 'kafka.strimzi.io',
    version: 'v1',
    namespace: NS,
    plural: 'kafkas',
    name: KAFKA_CLUSTER,
  })) as StrimziKafka & { spec?: { kafka?: { listeners?: Listener[] } } };
}

interface Listener {
  name: string;
  port: number;
  configuration?: {
    brokers?: Array<{ broker: number; advertisedHost: string; advertisedPort: number }>;
  };
}

async function podsOf(deployment: string): Promise<Array<{ name: string; spec: PodSpecLike }>> {
  const object = await kube.apps.readNamespacedDeployment({ name: deployment, namespace: NS });
  const labels = (object.spec?.selector as Selector | undefined)?.matchLabels ?? {};
  const selector = Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const list = await kube.core.listNamespacedPod({ namespace: NS, labelSelector: selector });
  return list.items
    .filter((pod) => pod.metadata?.deletionTimestamp == null && pod.status?.phase === 'Running')
    .map((pod) => ({ name: pod.metadata?.name ?? '?', spec: pod.spec as unknown as PodSpecLike }));
}

async function scrape(pod: string): Promise<Sample[]> {
  return parsePrometheus(await podProxyGet(kube, NS, pod, MANAGEMENT_PORT, '/metrics'));
}

/** One scrape of every running pod of a Deployment, by pod name. */
async function scrapeAll(deployment: string): Promise<Map<string, Sample[]>> {
  const pods = await podsOf(deployment);
  const entries = await Promise.all(pods.map(async (p) => [p.name, await scrape(p.name)] as const));
  return new Map(entries);
}

async function waitRolledOut(name: string, timeoutMs: number): Promise<void> {
  await poll({
    log: progress,
    what: `Deployment ${name}`,
    timeoutMs,
    intervalMs: 2_000,
    check: async () => {
      const verdict = deploymentRolledOut(
        await kube.apps.readNamespacedDeployment({ name, namespace: NS }),
      );
      return { value: verdict.ready ? true : undefined, status: verdict.status };
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Kafka through the `host` listener (the forwards of `make forward`, or our own)

/** kafkajs through the listener whose brokers advertise 127.0.0.1: forwarded per broker pod. */
async function connectKafka(): Promise<void> {
  const listeners = (await getKafka()).spec?.kafka?.listeners ?? [];
  const host = listeners.find((l) =>
    l.configuration?.brokers?.some((b) => b.advertisedHost === '127.0.0.1'),
  );
  if (host === undefined)
    throw new Error(`Kafka ${KAFKA_CLUSTER} has no listener advertising 127.0.0.1`);
  const pods = await kube.core.listNamespacedPod({
    namespace: NS,
    labelSelector: `strimzi.io/cluster=${KAFKA_CLUSTER},strimzi.io/broker-role=true`,
  });
  const bootstrap: string[] = [];
  const tunnels = portForwardTunnels(kube, NS);
  for (const pod of pods.items) {
    const name = pod.metadata?.name ?? '';
    const id = Number(name.slice(name.lastIndexOf('-') + 1));
    const port = host.configuration?.brokers?.find((b) => b.broker === id)?.advertisedPort;
    if (port === undefined)
      throw new Error(`listener ${host.name} does not advertise broker ${id}`);
    bootstrap.push(`127.0.0.1:${port}`);
    if (await isPortOpen(port, { silentIsOpen: false })) {
      progress(`Kafka broker ${id}: 127.0.0.1:${port} is already forwarded (make forward?)`);
      continue;
    }
    const forwarder = new LocalForwarder({
      open: tunnels,
      pickPod: () => name,
      podPort: host.port,
      port,
    });
    await forwarder.start();
    brokerForwarders.push(forwarder);
    progress(`Kafka broker ${id}: forwarding 127.0.0.1:${port} to pod/${name}:${host.port}`);
  }
  kafka = new Kafka({
    clientId: 'event-pipeline-e2e',
    brokers: bootstrap,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5_000,
    requestTimeout: 30_000,
    retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 5_000 },
  });
  admin = kafka.admin();
  await admin.connect();
}

async function groupOffsets(): Promise<PartitionOffsets[]> {
  const [committed] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
  const ends = await admin.fetchTopicOffsets(TOPIC);
  return joinOffsets(committed?.partitions ?? [], ends);
}

async function topicEnd(topic: string): Promise<bigint> {
  return (await admin.fetchTopicOffsets(topic)).reduce((total, p) => total + BigInt(p.high), 0n);
}

/** Waits until the group has committed past every acknowledged message and its lag is 0. */
async function waitConsumed(what: string): Promise<void> {
  const lastAcked = new Map(
    [...ledger.ackedByPartition()].map(([partition, list]) => [
      partition,
      list.at(-1)?.offset ?? -1n,
    ]),
  );
  await poll({
    log: progress,
    what,
    timeoutMs: DRAIN_TIMEOUT_MS,
    intervalMs: 2_000,
    check: async () => {
      const offsets = await groupOffsets();
      const behind = uncommittedAcks(offsets, lastAcked);
      const lag = groupLag(offsets).total;
      const done = behind.length === 0 && lag === 0n;
      return {
        value: done ? true : undefined,
        status: `lag ${lag}, ${behind.length} partition(s) not yet committed past their last acknowledged message`,
      };
    },
  });
}

/** This run's messages at the acknowledged offsets: "partition:offset" -> seq. */
async function readBack(): Promise<Map<string, number>> {
  const ranges = [...ledger.ackedByPartition()].map(([partition, list]) => ({
    partition,
    from: list[0]?.offset ?? 0n,
    to: list.at(-1)?.offset ?? 0n,
  }));
  const found = new Map<string, number>();
  const reached = new Map<number, bigint>();
  const consumer = kafka.consumer({ groupId: `${runId}-reader`, maxWaitTimeInMs: 500 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [TOPIC], fromBeginning: false });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `read back ${found.size} of ${ledger.summary().acked} acknowledged messages in time`,
            ),
          ),
        DRAIN_TIMEOUT_MS,
      );
      const complete = () => ranges.every((r) => (reached.get(r.partition) ?? -1n) >= r.to);
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const seq = seqOf(message.value?.toString('utf8'), runId);
            if (seq !== undefined) found.set(`${partition}:${message.offset}`, seq);
            reached.set(partition, BigInt(message.offset));
            if (complete()) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
      for (const range of ranges)
        consumer.seek({ topic: TOPIC, partition: range.partition, offset: String(range.from) });
      if (ranges.length === 0) resolve();
    });
  } finally {
    await consumer.disconnect();
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// The producer API through a port-forward of its ready pods

async function startApiForward(): Promise<void> {
  apiPods = new ReadyPods(async () => {
    const slices = await kube.discovery.listNamespacedEndpointSlice({
      namespace: NS,
      labelSelector: `kubernetes.io/service-name=${PRODUCER}`,
    });
    return readyEndpointPods(slices.items as Parameters<typeof readyEndpointPods>[0]);
  }, 500);
  await apiPods.start();
  api = new LocalForwarder({
    open: portForwardTunnels(kube, NS),
    pickPod: () => apiPods.pick(),
    podPort: API_PORT,
  });
  apiPort = await api.start();
  progress(
    `producer API: 127.0.0.1:${apiPort} -> ready pods of service/${PRODUCER} (${apiPods.current().join(', ')})`,
  );
}

/** One produce request; a new connection each time, so that each goes to a currently ready pod. */
async function send(messages: Array<{ key: string; value: unknown }>): Promise<Answer> {
  const response = await fetch(`http://127.0.0.1:${apiPort}/v1/topics/${TOPIC}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', connection: 'close' },
    body: JSON.stringify({ messages }),
    signal: AbortSignal.timeout(60_000),
  });
  const body = await response.text();
  if (response.status === 200) {
    const parsed = JSON.parse(body) as { results: Array<{ partition: number; offset: string }> };
    return { status: 200, results: parsed.results };
  }
  const retryAfter = Number(response.headers.get('retry-after'));
  return {
    status: response.status,
    body,
    ...(Number.isFinite(retryAfter) ? { retryAfterSeconds: retryAfter } : {}),
  };
}

function report(stats: LoadStats): void {
  const summary = ledger.summary();
  const rate = Math.round((stats.messages / stats.durationMs) * 1000);
  progress(
    `load: ${stats.messages} messages in ${stats.requests} requests, ${(stats.durationMs / 1000).toFixed(1)} s ` +
      `(${rate} messages/s), longest pause without an acknowledgement ${(stats.longestAckGapMs / 1000).toFixed(1)} s; ` +
      `so far ${summary.acked} acknowledged, ${summary.retried503} retried 503s, ` +
      `${summary.failures.length} failures; forwarder: ${api.connections} connections over ${JSON.stringify(Object.fromEntries(api.perPod))}`,
  );
}

// ---------------------------------------------------------------------------------------------

step(
  KAFKA_STAND_IN
    ? "the Kafka stand-in's brokers are ready (no Strimzi operator) and both Deployments are Available"
    : 'the Strimzi Kafka is Ready and both Deployments are Available',
  async () => {
    await poll({
      log: progress,
      what: KAFKA_STAND_IN ? `StatefulSet ${KAFKA_STAND_IN_STATEFULSET}` : `Kafka ${KAFKA_CLUSTER}`,
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 5_000,
      check: async () => {
        const verdict = KAFKA_STAND_IN
          ? statefulSetReady(
              await kube.apps.readNamespacedStatefulSet({
                name: KAFKA_STAND_IN_STATEFULSET,
                namespace: NS,
              }),
            )
          : kafkaReady(await getKafka());
        return { value: verdict.ready ? true : undefined, status: verdict.status };
      },
    });
    await waitRolledOut(PRODUCER, READY_TIMEOUT_MS);
    await waitRolledOut(CONSUMER, READY_TIMEOUT_MS);
  },
  READY_TIMEOUT_MS * 3 + 60_000,
);

step('the pods run what the chart rendered: probes, preStop, grace period', async () => {
  const secrets = await kube.core.listNamespacedSecret({
    namespace: NS,
    labelSelector: `owner=helm,name=${RELEASE}`,
  });
  const release = latestRelease(secrets.items as Parameters<typeof latestRelease>[0]);
  progress(`Helm release ${release.name} version ${release.version}`);
  const rendered = manifestObjects(release.manifest).filter((o) => o.kind === 'Deployment');
  expect(rendered.map((d) => d.metadata.name).sort()).toEqual([CONSUMER, PRODUCER].sort());
  for (const deployment of rendered) {
    const template = (deployment.spec as { template: { spec: PodSpecLike } }).template.spec;
    const contract = shutdownContract(template);
    // Promised by the chart: every container has the three probes and a preStop.
    for (const container of template.containers) {
      expect(
        container.startupProbe && container.readinessProbe && container.livenessProbe,
      ).toBeTruthy();
      expect(container.lifecycle?.preStop).toBeTruthy();
    }
    const live = await kube.apps.readNamespacedDeployment({
      name: deployment.metadata.name,
      namespace: NS,
    });
    expect(
      differences(contract, shutdownContract(live.spec?.template.spec as unknown as PodSpecLike)),
    ).toEqual([]);
    const pods = await podsOf(deployment.metadata.name);
    expect(pods.length).toBeGreaterThan(0);
    for (const pod of pods) {
      const problems = differences(contract, shutdownContract(pod.spec));
      expect({ pod: pod.name, problems }).toEqual({ pod: pod.name, problems: [] });
    }
    progress(
      `${deployment.metadata.name}: ${pods.length} pod(s) match (grace ${template.terminationGracePeriodSeconds} s)`,
    );
  }
});

step(
  `${MESSAGES} messages from ${CLIENTS} clients through a port-forward are acknowledged and consumed`,
  async () => {
    await startApiForward();
    await connectKafka();
    dlqBefore = await topicEnd(DLQ_TOPIC);
    const before = await scrapeAll(CONSUMER);
    const processedBefore = [...before.values()].reduce(
      (n, samples) =>
        n +
        sum(samples, 'event_pipeline_consumed_messages_total', {
          topic: TOPIC,
          result: 'processed',
        }),
      0,
    );
    const stats = await runLoad({
      ledger,
      send,
      concurrency: CLIENTS,
      total: MESSAGES,
      batchSize: BATCH,
    });
    nextSeq = stats.nextSeq;
    report(stats);
    const summary = ledger.summary();
    expect(summary.failures).toEqual([]);
    expect(summary.acked).toBe(MESSAGES);

    await waitConsumed('the consumer group on the acknowledged messages');
    // The same consumers, so their counters went on: together they processed them all
    // (duplicates would only add).
    await poll({
      log: progress,
      what: "the consumers' metrics",
      timeoutMs: DRAIN_TIMEOUT_MS,
      intervalMs: 2_000,
      check: async () => {
        const after = await scrapeAll(CONSUMER);
        const samples = [...after.values()].flat();
        const processed = sum(samples, 'event_pipeline_consumed_messages_total', {
          topic: TOPIC,
          result: 'processed',
        });
        const lag = sum(samples, 'event_pipeline_consumer_lag_messages', { topic: TOPIC });
        const done = processed - processedBefore >= MESSAGES && lag === 0;
        return {
          value: done ? true : undefined,
          status: `${processed - processedBefore} of ${MESSAGES} processed, lag gauge ${lag}`,
        };
      },
    });
  },
  DRAIN_TIMEOUT_MS * 3 + 30 * 60_000,
);

/**
 * Load from ROLL_CLIENTS clients while `disturb` runs (and 10 s after, on the new pods), then
 * what every disturbance must leave: no client error but retriable 503s, no request without an
 * answer, every acknowledged message in Kafka where the API said, all of them consumed, and
 * nothing dead-lettered.
 */
async function underLoad(disturb: () => Promise<void>): Promise<void> {
  let going = true;
  const load = runLoad({
    ledger,
    send,
    concurrency: ROLL_CLIENTS,
    keepGoing: () => going,
    batchSize: BATCH,
    firstSeq: nextSeq,
  });
  try {
    await disturb();
    await new Promise((resolve) => setTimeout(resolve, 10_000));
  } finally {
    going = false;
  }
  const stats = await load;
  nextSeq = stats.nextSeq;
  report(stats);
  const summary = ledger.summary();
  expect(summary.failures).toEqual([]);
  expect(summary.unanswered).toBe(0);

  const found = await readBack();
  expect(ledger.lost(found)).toEqual([]);
  await waitConsumed('the consumer group after the disturbance');
  expect(await topicEnd(DLQ_TOPIC)).toBe(dlqBefore);
}

step(
  'rolling the consumer, then the producer, under load: only 503s, no acknowledged message lost',
  () =>
    underLoad(async () => {
      for (const name of [CONSUMER, PRODUCER]) {
        progress(`rolling Deployment ${name} (restart annotation)`);
        await kube.apps.patchNamespacedDeployment(
          { name, namespace: NS, body: restartPatch(new Date()) },
          kube.lib.setHeaderOptions('Content-Type', kube.lib.PatchStrategy.MergePatch),
        );
        await waitRolledOut(name, ROLL_TIMEOUT_MS);
      }
    }),
  ROLL_TIMEOUT_MS * 2 + DRAIN_TIMEOUT_MS * 2 + 10 * 60_000,
);

/** Deletes one running pod of the Deployment and reads its shutdown from its own log. */
async function deleteOnePod(deployment: string): Promise<void> {
  const [victim] = await podsOf(deployment);
  if (victim === undefined) throw new Error(`no running pod of ${deployment}`);
  const container = victim.spec.containers[0];
  const preStop = (container?.lifecycle?.preStop as { sleep?: { seconds?: number } } | undefined)
    ?.sleep?.seconds;
  const graceSeconds = victim.spec.terminationGracePeriodSeconds ?? 30;
  if (container === undefined || preStop === undefined)
    throw new Error(`pod ${victim.name} has no container with a preStop sleep`);
  const log = await followLog(kube, NS, victim.name, container.name);
  const deletedAt = Date.now();
  progress(`deleting pod ${victim.name} (preStop sleep ${preStop} s, grace ${graceSeconds} s)`);
  await kube.core.deleteNamespacedPod({ name: victim.name, namespace: NS });
  const timeout = new Promise<'timeout'>((resolve) =>
    setTimeout(() => resolve('timeout'), (graceSeconds + 30) * 1000),
  );
  const ended = await Promise.race([log.ended.then(() => 'ended' as const), timeout]);
  log.stop();
  const timeline = shutdownTimeline(log.lines(), deletedAt);
  if (typeof timeline === 'string')
    throw new Error(
      `pod ${victim.name} (log ${ended}): ${timeline}\n${log.lines().slice(-20).join('\n')}`,
    );
  progress(
    `pod ${victim.name}: ${timeline.reason} ${(timeline.signalAfterMs / 1000).toFixed(1)} s after the deletion, ` +
      `stopped after ${(timeline.stoppedAfterMs / 1000).toFixed(1)} s with exit code ${timeline.exitCode}`,
  );
  expect(timeline.reason).toBe('SIGTERM');
  // The kubelet runs the preStop sleep before it signals the process (1 s for clock steps).
  expect(timeline.signalAfterMs).toBeGreaterThanOrEqual(preStop * 1000 - 1_000);
  expect(timeline.exitCode).toBe(0);
  expect(timeline.stoppedAfterMs).toBeLessThan(graceSeconds * 1000);
  await waitRolledOut(deployment, ROLL_TIMEOUT_MS);
}

step(
  'a pod of the consumer, then of the producer, deleted under load: preStop, SIGTERM, exit 0 in the grace period; nothing lost',
  () =>
    underLoad(async () => {
      for (const name of [CONSUMER, PRODUCER]) await deleteOnePod(name);
    }),
  ROLL_TIMEOUT_MS * 2 + DRAIN_TIMEOUT_MS * 2 + 10 * 60_000,
);

step("every pod's /metrics (through the pod proxy) has the lag and throughput series", async () => {
  for (const [deployment, series] of [
    [
      CONSUMER,
      [
        'event_pipeline_consumed_messages_total',
        'event_pipeline_consumer_lag_messages',
        'event_pipeline_consumer_lag_seconds',
        'event_pipeline_end_to_end_latency_seconds_count',
        'event_pipeline_processing_duration_seconds_count',
      ],
    ],
    [
      PRODUCER,
      [
        'event_pipeline_produced_messages_total',
        'event_pipeline_http_requests_total',
        'event_pipeline_http_request_duration_seconds_count',
        'event_pipeline_producer_batch_messages_count',
      ],
    ],
  ] as const) {
    const scraped = await scrapeAll(deployment);
    expect(scraped.size).toBeGreaterThan(0);
    for (const [pod, samples] of scraped) {
      const missing = series.filter((name) => matching(samples, name).length === 0);
      expect({ pod, missing }).toEqual({ pod, missing: [] });
    }
    let all = [...scraped.values()].flat();
    if (deployment === CONSUMER) {
      // The gauge follows the commits within a lag refresh: the last commit may have just landed.
      all = await poll({
        log: progress,
        what: `${deployment}'s lag gauges at 0`,
        timeoutMs: 20_000,
        check: async () => {
          const samples = [...(await scrapeAll(deployment)).values()].flat();
          const lag = sum(samples, 'event_pipeline_consumer_lag_messages', { topic: TOPIC });
          return { value: lag === 0 ? samples : undefined, status: `lag gauge ${lag}` };
        },
      });
      // Throughput since the roll: the new consumers processed messages; none are waiting.
      expect(
        sum(all, 'event_pipeline_consumed_messages_total', { topic: TOPIC, result: 'processed' }),
      ).toBeGreaterThan(0);
      expect(
        matching(all, 'event_pipeline_consumer_lag_messages', { topic: TOPIC }).length,
      ).toBeGreaterThan(0);
      expect(sum(all, 'event_pipeline_consumer_lag_messages', { topic: TOPIC })).toBe(0);
    } else {
      expect(
        sum(all, 'event_pipeline_produced_messages_total', { topic: TOPIC, result: 'acked' }),
      ).toBeGreaterThan(0);
    }
    progress(`${deployment}: ${scraped.size} pod(s) expose ${series.length} series each`);
  }
});

step('no container restarted in the namespace: neither a service nor a broker', async () => {
  const pods = await kube.core.listNamespacedPod({ namespace: NS });
  const { crashes, runtimeStartFailures } = containerRestarts(pods.items);
  for (const failure of runtimeStartFailures) {
    progress(`the container runtime failed once to start a container, then started it: ${failure}`);
  }
  expect(crashes).toEqual([]);
  progress(`${pods.items.length} pods in ${NS}, no container restarted`);
});
