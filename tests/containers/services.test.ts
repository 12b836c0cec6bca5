/**
 * Both images, built from the Dockerfile, run with the settings of the rendered chart (user,
 * read-only root, tmpfs, capabilities, no-new-privileges, limits, env: support/pod.ts)
 * against a real Kafka on the host: the pipeline through the two containers, `docker stop`
 * of each under load, and `docker kill` of a consumer under load, each with its ledger.
 *
 * Column of DESIGN.md's table: "images", run for real here (Docker Engine, the unchanged
 * Dockerfile on stand-in base images); only the official node base image is a user's.
 */
import { withAdmin } from '../../scripts/kafka/admin';
import {
  computeLedger,
  ledgerProblems,
  LoadGenerator,
  printLedger,
  readProcessed,
  readLedgerTopic,
  waitForProcessed,
  type FaultWindow,
  type RequestRecord,
} from '../../scripts/lib/ledger';
import { uniqueTopic } from '../support/kafka';
import { dockerOk } from '../../scripts/docker/images';
import {
  jsonLogs,
  ledgerMount,
  probe,
  runService,
  useContainerKafka,
  waitReady,
  type LedgerMount,
  type ServiceContainer,
} from './support/containers';
import { describeDocker } from './support/skip';

jest.setTimeout(240_000);

interface Scenario {
  label: string;
  topic: string;
  env: Record<string, string>;
  ledger: LedgerMount;
}

const kafka = useContainerKafka();

async function newScenario(label: string): Promise<Scenario> {
  const topic = uniqueTopic(`ctr-${label}`);
  await withAdmin(
    kafka().hostBrokers,
    (admin) =>
      admin.createTopics({
        waitForLeaders: true,
        topics: [
          { topic, numPartitions: 6 },
          { topic: `${topic}-dlq`, numPartitions: 1 },
        ],
      }),
    { retry: { retries: 5 }, requestTimeoutMs: 30_000 },
  );
  return {
    label,
    topic,
    ledger: ledgerMount(label),
    env: { TOPICS: topic, CONSUMER_GROUP_ID: `${topic}-group`, DLQ_TOPIC: `${topic}-dlq` },
  };
}

async function consumer(scenario: Scenario, instance: string): Promise<ServiceContainer> {
  const container = await runService('consumer', {
    kafka: kafka(),
    label: `${scenario.label}-${instance}`,
    env: {
      ...scenario.env,
      ...scenario.ledger.env,
      LEDGER_INSTANCE: instance,
      LEDGER_DELAY_MS: '2',
    },
    mounts: [scenario.ledger.mount],
  });
  await waitReady(container);
  return container;
}

async function producer(scenario: Scenario): Promise<ServiceContainer> {
  const container = await runService('producer', {
    kafka: kafka(),
    label: `${scenario.label}-api`,
    env: { TOPICS: scenario.topic },
  });
  await waitReady(container);
  return container;
}

async function settle(
  scenario: Scenario,
  requests: readonly RequestRecord[],
  windows: { faults?: FaultWindow[]; restarts?: FaultWindow[] },
) {
  const contents = await readLedgerTopic(scenario.topic, { brokers: kafka().hostBrokers });
  const processed = await waitForProcessed(
    scenario.ledger.processedFile,
    scenario.topic,
    contents.records,
    90_000,
  );
  const report = computeLedger({
    requests,
    kafka: contents,
    processed,
    faultWindows: windows.faults,
    restartWindows: windows.restarts,
  });
  printLedger(`containers ${scenario.label}`, report);
  return report;
}

/** Polls readiness until it stops answering 200; returns what it answered then. */
async function readinessAfterSignal(container: ServiceContainer): Promise<number | 'down'> {
  const from = Date.now();
  let status: number | 'down' = 200;
  while (status === 200 && Date.now() - from < 2_000) {
    status = await probe(container.managementUrl, container.pod.readinessPath);
  }
  return status;
}

const lastJoinAfter = (container: ServiceContainer, after: number) =>
  jsonLogs(container)
    .filter((line) => line['msg'] === 'joined consumer group')
    .map((line) => Date.parse(String(line['time'])))
    .find((time) => time > after);

/** Consumers a and b, the API and a running load with 300 messages acknowledged. */
async function twoConsumersUnderLoad(label: string) {
  const scenario = await newScenario(label);
  const a = await consumer(scenario, 'a');
  const b = await consumer(scenario, 'b');
  const api = await producer(scenario);
  const load = new LoadGenerator({ url: api.url, topic: scenario.topic, clients: 4 });
  load.start();
  await load.waitForAcks(300, 30_000);
  return { scenario, a, b, load };
}

describeDocker('the images, run as the chart runs them', () => {
  test('messages sent to the producer container are processed by the consumer container; /livez, /readyz, /metrics answer from outside', async () => {
    const scenario = await newScenario('pipeline');
    const startedAt = Date.now();
    const consuming = await consumer(scenario, 'c1');
    const api = await producer(scenario);
    process.stdout.write(
      `containers: consumer and producer containers ready ${Date.now() - startedAt} ms after the first docker run\n`,
    );

    const results: Array<{ partition: number; offset: string }> = [];
    for (let request = 0; request < 10; request += 1) {
      const response = await fetch(`${api.url}/v1/topics/${scenario.topic}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          messages: Array.from({ length: 10 }, (_, i) => ({
            key: `k${i}`,
            value: { request, i },
          })),
        }),
      });
      expect(response.status).toBe(200);
      results.push(...((await response.json()) as { results: typeof results }).results);
    }
    const contents = await readLedgerTopic(scenario.topic, { brokers: kafka().hostBrokers });
    expect(contents.records).toHaveLength(100);
    const processed = await waitForProcessed(
      scenario.ledger.processedFile,
      scenario.topic,
      contents.records,
      30_000,
    );
    const positions = new Set(processed.map((p) => `${p.partition}/${p.offset}`));
    expect(results.filter((r) => !positions.has(`${r.partition}/${r.offset}`))).toEqual([]);

    for (const container of [api, consuming]) {
      expect(await probe(container.managementUrl, container.pod.livenessPath)).toBe(200);
      expect(await probe(container.managementUrl, container.pod.readinessPath)).toBe(200);
    }
    const producerMetrics = await (await fetch(`${api.managementUrl}/metrics`)).text();
    expect(producerMetrics).toMatch(
      new RegExp(
        `event_pipeline_produced_messages_total\\{topic="${scenario.topic}",result="acked"[^}]*\\} 100\\b`,
      ),
    );
    const consumerMetrics = await (await fetch(`${consuming.managementUrl}/metrics`)).text();
    expect(consumerMetrics).toMatch(
      new RegExp(
        `event_pipeline_consumed_messages_total\\{topic="${scenario.topic}",result="processed"[^}]*\\} 100\\b`,
      ),
    );

    // Every line either container printed is one of the service's JSON log lines: no runtime
    // warning on a normal start (Node 24's TimeoutNegativeWarning, from kafkajs, was one).
    for (const container of [api, consuming]) {
      const other = container
        .logs()
        .split('\n')
        .filter((line) => line !== '' && !line.startsWith('{'));
      expect({ container: container.name, other }).toEqual({
        container: container.name,
        other: [],
      });
    }

    // As the chart runs it: the numeric user, and nothing on the root filesystem is writable.
    expect(dockerOk(['exec', api.name, 'id', '-u']).trim()).toBe(String(api.pod.user));
    const write = dockerOk(['exec', api.name, 'sh', '-c', 'touch /app/x 2>&1 || true']);
    expect(write).toMatch(/Read-only file system/);
  });

  test('docker stop of the producer under load: readiness 503 first, exit 0 within the grace period, every acknowledged message in Kafka and processed', async () => {
    const scenario = await newScenario('producer-stop');
    await consumer(scenario, 'c1');
    const api = await producer(scenario);
    const load = new LoadGenerator({ url: api.url, topic: scenario.topic, clients: 6 });
    try {
      load.start();
      await load.waitForAcks(300, 30_000);
      const stopAt = Date.now();
      const stopping = api.stop();
      const readiness = await readinessAfterSignal(api);
      const code = await stopping;
      const stoppedIn = Date.now() - stopAt;
      await load.stop();
      process.stdout.write(
        `containers: producer docker stop -> readiness ${readiness}, exit ${code} in ${stoppedIn} ms\n`,
      );

      expect(code).toBe(0);
      expect(api.inspect().OOMKilled).toBe(false);
      expect(stoppedIn).toBeLessThan((api.pod.graceSeconds - api.pod.preStopSleepSeconds) * 1000);
      expect([503, 'down']).toContain(readiness);
      // Docker copies a container's output to its log asynchronously: the last lines may land
      // a moment after `docker stop` returned.
      let logs = jsonLogs(api).map((line) => line['msg']);
      for (let waited = 0; logs.at(-1) !== 'stopped' && waited < 5_000; waited += 100) {
        await new Promise((done) => setTimeout(done, 100));
        logs = jsonLogs(api).map((line) => line['msg']);
      }
      expect(logs).toContain('shutting down');
      expect(logs.at(-1)).toBe('stopped');

      // From the stop on, clients meet closed connections and a closed port (in a cluster the
      // Service has removed the pod by then): allowed, as long as no answer was wrong.
      const report = await settle(scenario, load.records, {
        restarts: [{ label: 'producer stopped', from: stopAt, to: Date.now() }],
      });
      expect(ledgerProblems(report)).toEqual([]);
      expect(report.unacknowledgedInKafka).toBe(0);
    } finally {
      await load.stop();
    }
  });

  test('docker stop of a consumer under load: exit 0, it leaves the group and the other instance takes over in seconds; nothing acknowledged is lost', async () => {
    const { scenario, a, b, load } = await twoConsumersUnderLoad('consumer-stop');
    try {
      const stopAt = Date.now();
      const code = await a.stop();
      const exitedIn = Date.now() - stopAt;
      let takeover: number | undefined;
      while (takeover === undefined && Date.now() - stopAt < 30_000) {
        takeover = lastJoinAfter(b, stopAt);
        if (takeover === undefined) await new Promise((done) => setTimeout(done, 100));
      }
      await load.waitForAcks(200, 30_000);
      await load.stop();
      process.stdout.write(
        `containers: consumer docker stop -> exit ${code} in ${exitedIn} ms; the other instance rejoined ${takeover === undefined ? 'never' : `${takeover - stopAt} ms`} after the stop\n`,
      );

      expect(code).toBe(0);
      expect(exitedIn).toBeLessThan((a.pod.graceSeconds - a.pod.preStopSleepSeconds) * 1000);
      // Leaving the group on the way out means no session timeout (30 s) to wait for.
      expect(takeover).toBeDefined();
      expect((takeover ?? Infinity) - stopAt).toBeLessThan(10_000);

      const report = await settle(scenario, load.records, {
        faults: [
          {
            label: 'consumer a stopped',
            from: stopAt,
            to: takeover ?? Date.now(),
            instances: ['a'],
          },
        ],
      });
      expect(ledgerProblems(report)).toEqual([]);
      // After the stop only b processed.
      const late = readProcessed(scenario.ledger.processedFile).filter(
        (p) => p.at > stopAt + exitedIn,
      );
      expect(late.length).toBeGreaterThan(0);
      expect(new Set(late.map((p) => p.instance))).toEqual(new Set(['b']));
    } finally {
      await load.stop();
    }
  });

  test('docker kill of a consumer under load: after the session timeout the other instance has processed everything acknowledged', async () => {
    const { scenario, a, b, load } = await twoConsumersUnderLoad('consumer-kill');
    try {
      const killAt = Date.now();
      await a.kill();
      expect(a.inspect().ExitCode).toBe(137);
      await load.waitForAcks(300, 30_000);
      await load.stop();
      const report = await settle(scenario, load.records, {
        // The group notices only at the session timeout: until then a's partitions wait.
        faults: [{ label: 'consumer a killed', from: killAt, to: Date.now(), instances: ['a'] }],
      });
      const takeover = lastJoinAfter(b, killAt);
      process.stdout.write(
        `containers: consumer docker kill; the other instance rejoined ${takeover === undefined ? 'never' : `${takeover - killAt} ms`} after the kill\n`,
      );
      expect(ledgerProblems(report)).toEqual([]);
      expect(takeover).toBeDefined();
    } finally {
      await load.stop();
    }
  });
});
