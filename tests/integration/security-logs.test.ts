/**
 * API keys and what the logs may hold, on real runs of both services:
 *
 * - no key, a wrong key, a key in the wrong place → 401, and no key ever appears in an error
 *   body, in /metrics or in the producer's log (run at LOG_LEVEL=debug, the most talkative);
 * - message values never reach a log at info, not even for a message that is dead-lettered,
 *   and do appear at debug (which shows the check can see them).
 */
import { randomBytes } from 'node:crypto';
import { createTopic, uniqueTopic } from '../support/kafka';
import { newProcessedFile, readProcessed, writeLedgerHandler } from '../../scripts/lib/ledger';
import { startService, waitUntilReady, type RunningService } from '../../scripts/lib/services';
import { produce } from './consumer-helpers';
import { freePort } from '../../scripts/lib/ports';

jest.setTimeout(90_000);

const KEY = `key-${randomBytes(16).toString('hex')}`;
const OTHER_KEY = `key-${randomBytes(16).toString('hex')}`;
const topic = uniqueTopic('security-logs');
const services: RunningService[] = [];
let api: { service: RunningService; url: string };

beforeAll(async () => {
  await createTopic(topic, 2);
  await createTopic(`${topic}-dlq`, 1);
  const port = await freePort();
  const service = startService('producer', {
    env: {
      HTTP_PORT: String(port),
      TOPICS: topic,
      API_KEYS: `${KEY},${OTHER_KEY}`,
      LOG_LEVEL: 'debug',
    },
    managementPort: await freePort(),
    label: 'security-keys',
  });
  services.push(service);
  api = { service, url: `http://127.0.0.1:${port}` };
  await waitUntilReady(service, 60_000);
}, 90_000);

afterAll(async () => {
  await Promise.all(services.map((s) => s.stop('SIGTERM').catch(() => undefined)));
});

/** Messages acknowledged so far (one per 200): what the consumers must process. */
let acked = 0;

async function post(headers: Record<string, string>, body: string, query = '') {
  const response = await fetch(`${api.url}/v1/topics/${topic}/messages${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  if (response.status === 200) acked += 1;
  return { status: response.status, text: await response.text(), headers: response.headers };
}

const one = (value: string) => JSON.stringify({ messages: [{ key: 'k', value }] });

test('no key, a wrong key, a key in the wrong place → 401; keys never in bodies, metrics or logs', async () => {
  const refused = [
    await post({}, one('no key')),
    await post({ authorization: `Bearer ${KEY}x` }, one('wrong key')),
    await post({ authorization: `Bearer ${KEY.slice(0, -1)}` }, one('truncated key')),
    await post(
      { authorization: `Basic ${Buffer.from(`user:${KEY}`).toString('base64')}` },
      one('basic'),
    ),
    await post({ authorization: KEY }, one('no scheme')),
    await post({ 'x-api-key': KEY }, one('other header')),
    await post({}, one('query'), `?api_key=${KEY}`),
    await post({ authorization: `Bearer ${KEY} ${OTHER_KEY}` }, one('two keys')),
  ];
  for (const answer of refused) {
    expect({ status: answer.status, code: JSON.parse(answer.text).error?.code }).toEqual({
      status: 401,
      code: 'unauthorized',
    });
    expect(answer.headers.get('www-authenticate')).toBe('Bearer');
    expect(answer.text).not.toContain(KEY.slice(4));
  }
  // A malformed body carrying a key is refused without echoing it.
  const broken = await post(
    { authorization: `Bearer ${KEY}` },
    `{"messages":[{"value":"${OTHER_KEY}"`,
  );
  expect(broken.status).toBe(400);
  expect(broken.text).not.toContain(OTHER_KEY);
  for (const key of [KEY, OTHER_KEY]) {
    expect((await post({ authorization: `Bearer ${key}` }, one('right key'))).status).toBe(200);
  }
  expect((await post({ authorization: `bearer ${KEY}` }, one('scheme in lower case'))).status).toBe(
    200,
  );

  const metricsText = await (await fetch(`${api.service.managementUrl}/metrics`)).text();
  expect(metricsText).toContain('status="401"');
  const logText = JSON.stringify(api.service.logs());
  expect(logText.length).toBeGreaterThan(0);
  for (const key of [KEY, OTHER_KEY]) {
    expect(metricsText.includes(key.slice(4))).toBe(false);
    expect(logText.includes(key.slice(4))).toBe(false);
  }
});

test('message values stay out of the logs at info, dead letters included, and show at debug', async () => {
  const marker = `value-marker-${randomBytes(8).toString('hex')}`;
  const poison = `poison-marker-${randomBytes(8).toString('hex')}`;
  const answer = await post({ authorization: `Bearer ${KEY}` }, one(marker));
  expect(answer.status).toBe(200);
  // Not JSON: dead-lettered, with an error line at info.
  await produce(topic, [{ key: 'poison', value: `not json ${poison}` }]);

  const run = async (level: 'info' | 'debug') => {
    const processedFile = newProcessedFile(`security-logs-${level}`);
    const consumer = startService('consumer', {
      env: {
        TOPICS: topic,
        CONSUMER_GROUP_ID: `${topic}-${level}`,
        DLQ_TOPIC: `${topic}-dlq`,
        HANDLER_MODULE: writeLedgerHandler({ name: 'security-logs' }),
        LEDGER_PROCESSED_FILE: processedFile,
        SESSION_TIMEOUT_MS: '6000',
        HEARTBEAT_INTERVAL_MS: '1000',
        LOG_LEVEL: level,
      },
      managementPort: await freePort(),
      label: `security-logs-${level}`,
    });
    services.push(consumer);
    await waitUntilReady(consumer, 60_000);
    const deadline = Date.now() + 30_000;
    const done = () =>
      readProcessed(processedFile).length >= acked &&
      consumer.logs().some((l) => l['msg'] === 'message dead-lettered');
    while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(done()).toBe(true);
    expect(await consumer.stop('SIGTERM')).toBe(0);
    return JSON.stringify(consumer.logs());
  };

  const atInfo = await run('info');
  expect(atInfo).toContain('message dead-lettered');
  expect(atInfo).not.toContain(marker);
  expect(atInfo).not.toContain(poison);
  const atDebug = await run('debug');
  expect(atDebug).toContain(marker);
  // The producer ran at debug: it may show values there, but never a key (checked above).
});
