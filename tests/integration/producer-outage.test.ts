/**
 * Kafka stopped and restarted under the producer API (on a cluster of its own, so the
 * shared one is not disturbed): 503 with Retry-After during the outage, answered fast,
 * readiness false; 200 again afterwards without a restart, readiness true.
 */
import { startKafka, type KafkaCluster } from '../../scripts/kafka/harness';
import { startOnFreePorts, waitForStatus, type RunningService } from '../../scripts/lib/services';
import { consumeAll, uniqueTopic } from '../support/kafka';

const PRODUCE_TIMEOUT_MS = 5_000;

let cluster: KafkaCluster | undefined;
let service: RunningService | undefined;

afterAll(async () => {
  if (service) expect(await service.stop()).toBe(0);
  await cluster?.stop();
}, 60_000);

interface Answer {
  status: number;
  code: string | undefined;
  retryAfter: string | null;
  ms: number;
  results?: Array<{ partition: number; offset: string }>;
}

test('broker stopped and restarted: fast 503s during, 200s after, readiness follows', async () => {
  cluster = await startKafka({ nodes: 1 });
  const topic = uniqueTopic('producer-outage');
  await cluster.createTopics([{ name: topic, partitions: 3 }]);
  const started = await startOnFreePorts('producer', {
    env: {
      KAFKA_BROKERS: cluster.bootstrap,
      TOPICS: topic,
      PRODUCE_TIMEOUT_MS: String(PRODUCE_TIMEOUT_MS),
    },
    portSettings: ['HTTP_PORT'],
    label: 'outage',
  });
  service = started.service;
  const httpPort = started.ports.HTTP_PORT;
  const running = started.service;
  const acked: Array<{ value: string; partition: number; offset: string }> = [];
  let n = 0;
  const send = async (): Promise<Answer> => {
    n += 1;
    const value = `message ${n}`;
    const started = Date.now();
    const response = await fetch(`http://127.0.0.1:${httpPort}/v1/topics/${topic}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ key: `k${n % 5}`, value }] }),
      signal: AbortSignal.timeout(PRODUCE_TIMEOUT_MS * 3),
    });
    const body = (await response.json()) as {
      results?: Array<{ partition: number; offset: string }>;
      error?: { code: string };
    };
    const [result] = body.results ?? [];
    if (response.status === 200 && result) acked.push({ value: JSON.stringify(value), ...result });
    return {
      status: response.status,
      code: body.error?.code,
      retryAfter: response.headers.get('retry-after'),
      ms: Date.now() - started,
      results: body.results,
    };
  };

  for (let i = 0; i < 5; i += 1) expect((await send()).status).toBe(200);

  const [node] = cluster.nodeIds;
  if (node === undefined) throw new Error('no node');
  await cluster.stopNode(node);

  // During the outage: only 503s, each bounded by PRODUCE_TIMEOUT_MS, and fast once the
  // service has noticed.
  const during: Answer[] = [];
  const outageStarted = Date.now();
  while (Date.now() - outageStarted < 6_000) {
    during.push(await send());
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await waitForStatus(`${running.managementUrl}/readyz`, 503, { timeoutMs: 10_000 });
  expect(during.filter((a) => a.status !== 503)).toEqual([]);
  for (const answer of during) {
    expect(['kafka_unavailable', 'produce_timeout']).toContain(answer.code);
    expect(Number(answer.retryAfter)).toBeGreaterThan(0);
    expect(answer.ms).toBeLessThan(PRODUCE_TIMEOUT_MS + 5_000);
  }
  // Once it noticed: kafka_unavailable, well inside the produce timeout a wait would reach.
  const last = during.slice(-10);
  expect(last.every((a) => a.ms < PRODUCE_TIMEOUT_MS / 2 && a.code === 'kafka_unavailable')).toBe(
    true,
  );
  const livez = await fetch(`${running.managementUrl}/livez`);
  expect(livez.status).toBe(200); // a broker outage is no reason to restart the service

  await cluster.startNode(node);
  const recoveryStarted = Date.now();
  let answer = await send();
  while (answer.status !== 200 && Date.now() - recoveryStarted < 60_000) {
    expect(answer.status).toBe(503);
    await new Promise((resolve) => setTimeout(resolve, 250));
    answer = await send();
  }
  expect(answer.status).toBe(200);
  await waitForStatus(`${running.managementUrl}/readyz`, 200, { timeoutMs: 30_000 });
  for (let i = 0; i < 5; i += 1) expect((await send()).status).toBe(200);

  const consumed = await consumeAll(topic, acked.length, 60_000, { brokers: cluster.brokers });
  const byPosition = new Map(consumed.map((m) => [`${m.partition}/${m.offset}`, m.value]));
  for (const message of acked) {
    expect(byPosition.get(`${message.partition}/${message.offset}`)).toBe(message.value);
  }
}, 300_000);
