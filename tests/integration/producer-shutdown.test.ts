/**
 * SIGTERM while 20 clients are sending: readiness turns 503 at once, requests in flight
 * finish with their batches acknowledged, later ones get a clear error or a refused
 * connection, and the process exits 0 within the deadline. Every 2xx is in Kafka.
 */
import { startOnFreePorts } from '../../scripts/lib/services';
import { consumeAll, createTopic, uniqueTopic } from '../support/kafka';

interface Outcome {
  startedAt: number;
  endedAt: number;
  kind: 'ok' | 'refused' | 'connection' | 'http-error';
  status?: number;
  code?: string;
  retryAfter?: string | null;
  error?: string;
  messages: Array<{ key: string; value: string }>;
  results?: Array<{ partition: number; offset: string }>;
}

const SHUTDOWN_TIMEOUT_MS = 15_000;
const CONNECTION_ERRORS = ['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE'];

function connectionErrorCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: string } }).cause;
  return cause?.code;
}

test('SIGTERM under load: in-flight requests finish, the rest get clear errors, exit 0 in time', async () => {
  const topic = uniqueTopic('producer-shutdown');
  await createTopic(topic, 6);
  const { service, ports } = await startOnFreePorts('producer', {
    env: {
      TOPICS: topic,
      // Batches linger, so at SIGTERM there are requests waiting that must still be acked.
      BATCH_LINGER_MS: '100',
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    },
    portSettings: ['HTTP_PORT'],
    label: 'shutdown',
  });
  const httpPort = ports.HTTP_PORT;
  const url = `http://127.0.0.1:${httpPort}/v1/topics/${topic}/messages`;

  let exited = false;
  const outcomes: Outcome[] = [];
  const client = async (id: number) => {
    for (let seq = 0; !exited; seq += 1) {
      const messages = Array.from({ length: 5 }, (_, i) => ({
        key: `client-${id}`,
        value: `${id}/${seq}/${i}`,
      }));
      const outcome: Outcome = { startedAt: Date.now(), endedAt: 0, kind: 'ok', messages };
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ messages }),
          signal: AbortSignal.timeout(30_000),
        });
        const body = (await response.json()) as {
          results?: Array<{ partition: number; offset: string }>;
          error?: { code: string };
        };
        outcome.status = response.status;
        if (response.status === 200) outcome.results = body.results;
        else {
          outcome.kind = 'http-error';
          outcome.code = body.error?.code;
          outcome.retryAfter = response.headers.get('retry-after');
        }
      } catch (error) {
        const code = connectionErrorCode(error);
        outcome.kind = code === 'ECONNREFUSED' ? 'refused' : 'connection';
        outcome.error = code ?? String(error);
      }
      outcome.endedAt = Date.now();
      outcomes.push(outcome);
      if (outcome.kind === 'refused') return; // the server is gone for good
      if (outcome.kind !== 'ok') await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const clients = Array.from({ length: 20 }, (_, id) => client(id));

  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const sigtermAt = Date.now();
  service.child.kill('SIGTERM');
  // The signal arrives asynchronously; from then on readiness must not answer 200. (The bound
  // is only there so that a service that keeps answering 200 fails the test: a busy machine
  // may take a while to deliver the signal.)
  let readiness: number | string = 200;
  while (readiness === 200 && Date.now() - sigtermAt < 10_000) {
    readiness = await fetch(`${service.managementUrl}/readyz`).then(
      (response) => response.status,
      () => 'closed',
    );
  }
  const code = await service.exited;
  const exitedAt = Date.now();
  exited = true;
  await Promise.all(clients);
  await service.stop(); // already exited: only closes the log file

  expect(code).toBe(0);
  expect(exitedAt - sigtermAt).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
  expect([503, 'closed']).toContain(readiness);

  const ok = outcomes.filter((o) => o.kind === 'ok');
  const failed = outcomes.filter((o) => o.kind !== 'ok');
  expect(ok.length).toBeGreaterThan(20);
  // Requests already in the service at SIGTERM were answered 200 after it, not cut off.
  expect(ok.filter((o) => o.startedAt < sigtermAt && o.endedAt > sigtermAt).length).toBeGreaterThan(
    0,
  );
  for (const outcome of failed) {
    if (outcome.kind === 'http-error') {
      expect({ status: outcome.status, code: outcome.code }).toEqual({
        status: 503,
        code: 'shutting_down',
      });
      expect(Number(outcome.retryAfter)).toBeGreaterThan(0);
    } else {
      expect(CONNECTION_ERRORS).toContain(outcome.error);
      // Only after SIGTERM, never before.
      expect(outcome.endedAt).toBeGreaterThanOrEqual(sigtermAt);
    }
  }

  const acked = ok.flatMap((o) =>
    o.messages.map((m, i) => ({ ...m, ...(o.results?.[i] ?? { partition: -1, offset: '' }) })),
  );
  const consumed = await consumeAll(topic, acked.length, 60_000);
  const byPosition = new Map(consumed.map((m) => [`${m.partition}/${m.offset}`, m]));
  for (const message of acked) {
    const found = byPosition.get(`${message.partition}/${message.offset}`);
    expect({ key: found?.key, value: found?.value }).toEqual({
      key: message.key,
      value: JSON.stringify(message.value),
    });
  }
  // Nothing was written for a request that did not get 200.
  expect(consumed).toHaveLength(acked.length);

  const logs = service.logs();
  expect(logs.find((l) => l['msg'] === 'stopped')).toMatchObject({ exitCode: 0 });
  expect(
    logs.filter((l) => l['msg'] === 'shutdown deadline: requests still waiting got 503'),
  ).toEqual([]);
}, 120_000);
