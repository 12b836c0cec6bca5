/**
 * Kafka with SCRAM-SHA-512 (a SASL_PLAINTEXT listener of the harness, users created by
 * Kafka's own StorageTool at format time): both services authenticate from configuration
 * and carry messages end to end; with a wrong password neither crash-loops silently: each
 * stays up, not ready, and says why in its readiness report and its log. At LOG_LEVEL=debug,
 * the most talkative level, no password reaches a log line or /metrics.
 */
import { startKafka, type KafkaCluster } from '../../scripts/kafka/harness';
import { uniqueTopic } from '../support/kafka';
import { newProcessedFile, readProcessed, writeLedgerHandler } from '../../scripts/lib/ledger';
import {
  startService,
  waitForStatus,
  waitUntilReady,
  type RunningService,
} from '../../scripts/lib/services';
import { freePort } from '../../scripts/lib/ports';

jest.setTimeout(120_000);

const USER = 'event-pipeline';
const PASSWORD = `scram-${Date.now().toString(36)}-pw`;
const WRONG = `${PASSWORD}-wrong`;

let cluster: KafkaCluster | undefined;
const topic = uniqueTopic('scram');
const services: RunningService[] = [];

beforeAll(async () => {
  cluster = await startKafka({ nodes: 1, sasl: { users: [{ name: USER, password: PASSWORD }] } });
  await cluster.createTopics([
    { name: topic, partitions: 2 },
    { name: `${topic}-dlq`, partitions: 1 },
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all(services.map((s) => s.stop('SIGKILL').catch(() => undefined)));
  await cluster?.stop();
}, 60_000);

function saslEnv(password: string): Record<string, string> {
  if (!cluster?.saslBootstrap) throw new Error('the cluster has no SASL listener');
  return {
    KAFKA_BROKERS: cluster.saslBootstrap,
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: USER,
    KAFKA_SASL_PASSWORD: password,
    LOG_LEVEL: 'debug',
  };
}

async function producer(
  label: string,
  password: string,
): Promise<{ service: RunningService; url: string }> {
  const port = await freePort();
  const service = startService('producer', {
    env: { ...saslEnv(password), HTTP_PORT: String(port), TOPICS: topic },
    managementPort: await freePort(),
    label: `scram-${label}`,
  });
  services.push(service);
  return { service, url: `http://127.0.0.1:${port}` };
}

async function consumer(
  label: string,
  password: string,
  processedFile: string,
): Promise<RunningService> {
  const service = startService('consumer', {
    env: {
      ...saslEnv(password),
      TOPICS: topic,
      CONSUMER_GROUP_ID: `${topic}-group`,
      DLQ_TOPIC: `${topic}-dlq`,
      HANDLER_MODULE: writeLedgerHandler({ name: 'scram' }),
      LEDGER_PROCESSED_FILE: processedFile,
      SESSION_TIMEOUT_MS: '6000',
      HEARTBEAT_INTERVAL_MS: '1000',
    },
    managementPort: await freePort(),
    label: `scram-${label}`,
  });
  services.push(service);
  return service;
}

async function readiness(service: RunningService): Promise<{ status: number; body: string }> {
  const response = await fetch(`${service.managementUrl}/readyz`);
  return { status: response.status, body: await response.text() };
}

function expectNoSecret(service: RunningService, secrets: string[], metricsText: string): void {
  const text = JSON.stringify(service.logs());
  expect(service.logs().length).toBeGreaterThan(0); // it ran at LOG_LEVEL=debug
  for (const secret of secrets) {
    expect({ where: `${service.logFile}`, leaked: text.includes(secret) }).toEqual({
      where: `${service.logFile}`,
      leaked: false,
    });
    expect(metricsText.includes(secret)).toBe(false);
  }
}

test('both services authenticate with SCRAM-SHA-512 from configuration; no password in logs or metrics', async () => {
  const processedFile = newProcessedFile('scram');
  const api = await producer('ok', PASSWORD);
  const reader = await consumer('ok', PASSWORD, processedFile);
  await Promise.all([waitUntilReady(api.service, 60_000), waitUntilReady(reader, 60_000)]);
  const response = await fetch(`${api.url}/v1/topics/${topic}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      messages: [
        { key: 'a', value: { n: 1 } },
        { key: 'b', value: { n: 2 } },
      ],
    }),
  });
  expect(response.status).toBe(200);
  const deadline = Date.now() + 30_000;
  while (readProcessed(processedFile).length < 2 && Date.now() < deadline) {
    await new Promise((done) => setTimeout(done, 200));
  }
  expect(readProcessed(processedFile)).toHaveLength(2);

  for (const service of [api.service, reader]) {
    const metricsText = await (await fetch(`${service.managementUrl}/metrics`)).text();
    expectNoSecret(service, [PASSWORD], metricsText);
  }
  expect(await api.service.stop('SIGTERM')).toBe(0);
  expect(await reader.stop('SIGTERM')).toBe(0);
});

test('a wrong password: each service stays up, not ready, and names the authentication failure', async () => {
  const api = await producer('wrong', WRONG);
  const reader = await consumer('wrong', WRONG, newProcessedFile('scram-wrong'));
  for (const service of [api.service, reader]) {
    await waitForStatus(`${service.managementUrl}/readyz`, 503, { timeoutMs: 30_000, service });
  }
  // Long enough for several connection attempts and retries.
  const until = Date.now() + 12_000;
  let producerReady = { status: 0, body: '' };
  let consumerReady = { status: 0, body: '' };
  while (Date.now() < until) {
    await new Promise((done) => setTimeout(done, 500));
    for (const service of [api.service, reader]) {
      expect({ service: service.name, exited: service.child.exitCode }).toEqual({
        service: service.name,
        exited: null,
      });
    }
    producerReady = await readiness(api.service).catch(() => ({ status: -1, body: 'down' }));
    consumerReady = await readiness(reader).catch(() => ({ status: -1, body: 'down' }));
    expect(producerReady.status).toBe(503);
    expect(consumerReady.status).toBe(503);
  }
  // The reason is visible where an operator looks: readiness and the log, at warn or above.
  expect(producerReady.body).toMatch(/authentication failed/i);
  for (const service of [api.service, reader]) {
    const reasons = service
      .logs()
      .filter((l) => ['warn', 'error', 'fatal'].includes(String(l['level'])))
      .filter((l) => /authentication failed/i.test(JSON.stringify(l)));
    expect({ service: service.name, reasons: reasons.length > 0 }).toEqual({
      service: service.name,
      reasons: true,
    });
    const metricsText = await (await fetch(`${service.managementUrl}/metrics`)).text();
    expectNoSecret(service, [WRONG, PASSWORD], metricsText);
  }
  expect(await api.service.stop('SIGTERM')).toBe(0);
  expect(await reader.stop('SIGTERM')).toBe(0);
});
