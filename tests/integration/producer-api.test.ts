/**
 * The producer API as a real process against real Kafka: every acknowledged message is
 * read back where the API said it is, keys keep their order under concurrency, batching
 * is real, and every error answers with its status and stable code.
 */
import { randomBytes } from 'node:crypto';
import { ConfigResourceTypes } from 'kafkajs';
import {
  startService,
  waitForStatus,
  waitUntilReady,
  type RunningService,
} from '../../scripts/lib/services';
import { consumeAll, createTopic, testKafka, uniqueTopic } from '../support/kafka';
import { freePort } from '../../scripts/lib/ports';
import { waitUntil } from '../../scripts/lib/poll';

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

interface Instance {
  service: RunningService;
  url: string;
}

const API_KEY = `key-${randomBytes(12).toString('hex')}`;
const AUTH = { authorization: `Bearer ${API_KEY}` };
const JSON_TYPE = { 'content-type': 'application/json' };

const topic = uniqueTopic('producer-api');
const small = uniqueTopic('producer-api-small');
const compacted = uniqueTopic('producer-api-compacted');
const shrinking = uniqueTopic('producer-api-shrinking');
const verbatim = uniqueTopic('producer-api-verbatim');
const missing = uniqueTopic('producer-api-missing'); // allowed, never created

let main: Instance;
let tight: Instance;

async function start(label: string, env: Record<string, string>): Promise<Instance> {
  const [httpPort, managementPort] = [await freePort(), await freePort()];
  const service = startService('producer', {
    env: { HTTP_PORT: String(httpPort), LOG_LEVEL: 'info', ...env },
    managementPort,
    label,
  });
  return { service, url: `http://127.0.0.1:${httpPort}` };
}

async function request(
  instance: Instance,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Answer> {
  const response = await fetch(`${instance.url}${path}`, {
    method: init.method ?? 'POST',
    headers: init.headers,
    body: init.body,
  });
  const text = await response.text();
  let body: Record<string, unknown>;
  try {
    body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    body = { raw: text };
  }
  return { status: response.status, body, headers: response.headers };
}

function produce(
  instance: Instance,
  to: string,
  body: unknown,
  headers: Record<string, string> = AUTH,
) {
  return request(instance, `/v1/topics/${to}/messages`, {
    headers: { ...JSON_TYPE, ...headers },
    body: JSON.stringify(body),
  });
}

async function metric(
  instance: Instance,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const text = await (await fetch(`${instance.service.managementUrl}/metrics`)).text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}{`) && wanted.every((w) => l.includes(w)));
  return line === undefined ? Number.NaN : Number(line.split(' ').pop());
}

/** Waits until the instance knows Kafka and every topic except `missing`. */
async function waitForMetadata(instance: Instance): Promise<void> {
  let last = 'no answer';
  await waitUntil(
    'the producer to know Kafka and every topic but the missing one',
    async () => {
      if (instance.service.child.exitCode !== null) {
        throw new Error(`producer exited early; log: ${instance.service.logFile}`);
      }
      try {
        const report = (await (await fetch(`${instance.service.managementUrl}/readyz`)).json()) as {
          checks: Record<string, { ok: boolean; detail?: string }>;
        };
        last = JSON.stringify(report);
        const topics = report.checks['topics']?.detail;
        return report.checks['kafka']?.ok === true && topics === `no metadata for ${missing}`;
      } catch (error) {
        last = String(error); // not listening yet
        return false;
      }
    },
    { timeoutMs: 60_000 },
  ).catch((error: unknown) => {
    if (instance.service.child.exitCode !== null) throw error;
    throw new Error(`metadata not known in time: ${last}; log: ${instance.service.logFile}`);
  });
}

beforeAll(async () => {
  await createTopic(topic, 6);
  await createTopic(small, 1, undefined, { config: { 'max.message.bytes': '4096' } });
  await createTopic(compacted, 2, undefined, { config: { 'cleanup.policy': 'compact' } });
  await createTopic(shrinking, 1, undefined, { config: { 'max.message.bytes': '100000' } });
  await createTopic(verbatim, 1);
  main = await start('api-main', {
    TOPICS: [topic, small, compacted, verbatim].join(','),
    API_KEYS: API_KEY,
    MAX_BODY_BYTES: '65536',
    MAX_MESSAGES_PER_REQUEST: '500',
  });
  // Long linger and a tiny buffer make batching and a full buffer deterministic.
  tight = await start('api-tight', {
    TOPICS: [shrinking, missing].join(','),
    BATCH_LINGER_MS: '1000',
    BUFFER_MAX_MESSAGES: '10',
    MAX_MESSAGES_PER_REQUEST: '10',
  });
  await waitUntilReady(main.service, 60_000);
  await waitForMetadata(tight);
}, 120_000);

afterAll(async () => {
  const codes = await Promise.all([main?.service.stop(), tight?.service.stop()]);
  expect(codes).toEqual([0, 0]);
});

describe('producer API', () => {
  test('a record Kafka itself refuses fails only its own request, not the ones batched with it', async () => {
    // The service read max.message.bytes=100000 at start (and reads it again only after a
    // minute: this test runs first); lower it behind its back so the pre-check passes and
    // the broker refuses the batch.
    const admin = testKafka().admin();
    await admin.connect();
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: shrinking,
          configEntries: [{ name: 'max.message.bytes', value: '2000' }],
        },
      ],
    });
    await admin.disconnect();
    const [before, tooLarge, after] = await Promise.all([
      produce(tight, shrinking, { messages: [{ key: 'iso', value: 'first' }] }, {}),
      produce(tight, shrinking, { messages: [{ key: 'iso', value: 'z'.repeat(5000) }] }, {}),
      produce(tight, shrinking, { messages: [{ key: 'iso', value: 'last' }] }, {}),
    ]);
    expect(tooLarge.status).toBe(422);
    expect(tooLarge.body['error']).toMatchObject({ code: 'record_too_large' });
    expect([before.status, after.status]).toEqual([200, 200]);
    const consumed = await consumeAll(shrinking, 2, 30_000);
    expect(consumed.filter((m) => m.key === 'iso').map((m) => m.value)).toEqual([
      '"first"',
      '"last"',
    ]);
    // They went out together first: one Kafka request for all three.
    const logs = tight.service
      .logs()
      .filter((l) => l['msg'] === 'send to Kafka failed; replacing the producer');
    expect(logs.length).toBeGreaterThanOrEqual(1);
  });

  test('every acknowledged message is in Kafka where the API said; keys keep their order under 50 clients', async () => {
    interface Sent {
      key: string | null;
      value: string;
      headers: Record<string, string>;
      partition: number;
      offset: string;
    }
    const sent: Sent[] = [];
    const CLIENTS = 50;
    const REQUESTS = 6;
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, client) => {
        for (let seq = 0; seq < REQUESTS; seq += 1) {
          const messages: Array<Record<string, unknown>> = [
            {
              key: `client-${client}`,
              value: { client, seq, part: 'a', text: 'é ✓' },
              headers: { client: String(client), seq: String(seq) },
            },
            { key: `client-${client}`, value: [client, seq, 'b', null, true, 1.5] },
          ];
          if (seq % 2 === 0) messages.push({ value: `keyless ${client}/${seq}` });
          if (seq % 3 === 0)
            messages.push({
              key: `pinned-${client}`,
              value: seq,
              partition: client % 6,
              headers: {},
            });
          const answer = await produce(main, topic, { messages });
          statuses.push(answer.status);
          if (answer.status !== 200) continue;
          const results = answer.body['results'] as Array<{ partition: number; offset: string }>;
          expect(results).toHaveLength(messages.length);
          messages.forEach((message, i) => {
            const result = results[i];
            if (!result) throw new Error('missing result');
            sent.push({
              key: (message['key'] as string | undefined) ?? null,
              value: JSON.stringify(message['value']),
              headers: (message['headers'] as Record<string, string> | undefined) ?? {},
              partition: result.partition,
              offset: result.offset,
            });
          });
        }
      }),
    );
    expect(statuses.filter((s) => s !== 200)).toEqual([]);

    const consumed = await consumeAll(topic, sent.length, 60_000);
    const byPosition = new Map(consumed.map((m) => [`${m.partition}/${m.offset}`, m]));
    expect(consumed).toHaveLength(sent.length); // nothing extra, no duplicates
    for (const message of sent) {
      const found = byPosition.get(`${message.partition}/${message.offset}`);
      expect({ key: found?.key, value: found?.value, headers: found?.headers }).toEqual({
        key: message.key,
        value: message.value,
        headers: message.headers,
      });
    }
    // Per key: one partition, offsets increasing in the order the client sent them.
    const byKey = new Map<string, Sent[]>();
    for (const message of sent) {
      if (message.key === null) continue;
      byKey.set(message.key, [...(byKey.get(message.key) ?? []), message]);
    }
    expect(byKey.size).toBe(CLIENTS * 2);
    for (const [key, messages] of byKey) {
      expect([key, new Set(messages.map((m) => m.partition)).size]).toEqual([key, 1]);
      const offsets = messages.map((m) => BigInt(m.offset));
      const increasing = offsets.every((offset, i) => i === 0 || offset > (offsets[i - 1] ?? -1n));
      expect([key, increasing]).toEqual([key, true]);
    }
    // The explicit partition was honoured.
    expect(
      sent
        .filter((m) => m.key?.startsWith('pinned-'))
        .every((m) => m.partition === Number(m.key?.split('-')[1]) % 6),
    ).toBe(true);

    // Batching is real: under this load Kafka requests carried more than one message each.
    const batchSum = await metric(main, 'event_pipeline_producer_batch_messages_sum', { topic });
    const batchCount = await metric(main, 'event_pipeline_producer_batch_messages_count', {
      topic,
    });
    expect(batchSum).toBe(sent.length);
    expect(batchSum / batchCount).toBeGreaterThan(1);
    expect(
      await metric(main, 'event_pipeline_produced_messages_total', { topic, result: 'acked' }),
    ).toBe(sent.length);
    expect(
      await metric(main, 'event_pipeline_http_requests_total', {
        method: 'POST',
        route: '/v1/topics/:topic/messages',
        status: '200',
      }),
    ).toBe(CLIENTS * REQUESTS);
  });

  test('each value is stored as the client wrote it: numbers past a double, escapes, its own spacing', async () => {
    const values = [
      '12345678901234567890',
      '{"amount": 1e400, "exact": 0.10000000000000000555, "zero": -0}',
      '"caf\\u00e9 \\"quoted\\" {not: an object}"',
      '[1, 2,\n      3]',
    ];
    // Pretty-printed, a name spelled with an escape, a duplicate value whose last one counts.
    const body = [
      '{',
      '  "messages": [',
      `    { "value": ${values[0]} },`,
      `    { "key": "k", "value"  :  ${values[1]} },`,
      `    { "\\u0076alue": ${values[2]} },`,
      `    { "value": "replaced", "value": ${values[3]} }`,
      '  ]',
      '}',
    ].join('\n');
    const answer = await request(main, `/v1/topics/${verbatim}/messages`, {
      headers: { ...JSON_TYPE, ...AUTH },
      body,
    });
    expect(answer.status).toBe(200);
    const results = answer.body['results'] as Array<{ partition: number; offset: string }>;
    const consumed = await consumeAll(verbatim, values.length, 30_000);
    const byOffset = new Map(consumed.map((m) => [m.offset, m.value]));
    expect(results.map((result) => byOffset.get(result.offset))).toEqual(values);
  });

  const big = 'x'.repeat(70_000);
  const tooMany = { messages: Array.from({ length: 501 }, (_, i) => ({ value: i })) };
  const valid = { messages: [{ key: 'probe', value: 'still serving' }] };

  const cases: Array<{
    name: string;
    send: () => Promise<Answer>;
    status: number;
    code: string;
    check?: (answer: Answer) => void;
  }> = [
    {
      name: 'malformed JSON',
      send: () =>
        request(main, `/v1/topics/${topic}/messages`, {
          headers: { ...JSON_TYPE, ...AUTH },
          body: '{"messages":[',
        }),
      status: 400,
      code: 'invalid_json',
    },
    {
      name: 'wrong shape names the field',
      send: () => produce(main, topic, { messages: [{ value: 1 }, { value: 2, key: 7 }] }),
      status: 400,
      code: 'invalid_request',
      check: (a) =>
        expect(a.body['error']).toMatchObject({ details: { field: '/messages/1/key' } }),
    },
    {
      name: 'missing value names the field',
      send: () => produce(main, topic, { messages: [{ key: 'k' }] }),
      status: 400,
      code: 'invalid_request',
      check: (a) =>
        expect(a.body['error']).toMatchObject({ details: { field: '/messages/0/value' } }),
    },
    {
      name: 'partition the topic does not have',
      send: () => produce(main, topic, { messages: [{ value: 1, partition: 6 }] }),
      status: 400,
      code: 'unknown_partition',
    },
    {
      name: 'no API key',
      send: () => produce(main, topic, valid, {}),
      status: 401,
      code: 'unauthorized',
      check: (a) => expect(a.headers.get('www-authenticate')).toBe('Bearer'),
    },
    {
      name: 'wrong API key',
      send: () => produce(main, topic, valid, { authorization: `Bearer ${API_KEY}x` }),
      status: 401,
      code: 'unauthorized',
    },
    {
      name: 'unknown route',
      send: () => request(main, '/v2/anything', { method: 'GET' }),
      status: 404,
      code: 'not_found',
    },
    {
      name: 'topic not in the allow-list',
      send: () => produce(main, 'not-allowed', valid),
      status: 404,
      code: 'unknown_topic',
    },
    {
      name: 'GET on the produce route',
      send: () => request(main, `/v1/topics/${topic}/messages`, { method: 'GET', headers: AUTH }),
      status: 405,
      code: 'method_not_allowed',
      check: (a) => expect(a.headers.get('allow')).toBe('POST'),
    },
    {
      name: 'POST on the OpenAPI document',
      send: () => request(main, '/openapi.json', { method: 'POST' }),
      status: 405,
      code: 'method_not_allowed',
      check: (a) => expect(a.headers.get('allow')).toBe('GET, HEAD'),
    },
    {
      name: 'body over MAX_BODY_BYTES',
      send: () => produce(main, topic, { messages: [{ value: big }] }),
      status: 413,
      code: 'body_too_large',
    },
    {
      name: 'more than MAX_MESSAGES_PER_REQUEST messages',
      send: () => produce(main, topic, tooMany),
      status: 413,
      code: 'too_many_messages',
    },
    {
      name: 'text/plain',
      send: () =>
        request(main, `/v1/topics/${topic}/messages`, {
          headers: { 'content-type': 'text/plain', ...AUTH },
          body: JSON.stringify(valid),
        }),
      status: 415,
      code: 'unsupported_media_type',
    },
    {
      name: 'no content type',
      send: () =>
        request(main, `/v1/topics/${topic}/messages`, {
          headers: AUTH,
          body: Buffer.from(JSON.stringify(valid)),
        }),
      status: 415,
      code: 'unsupported_media_type',
    },
    {
      name: 'unsupported content encoding',
      send: () =>
        request(main, `/v1/topics/${topic}/messages`, {
          headers: { ...JSON_TYPE, ...AUTH, 'content-encoding': 'zstd' },
          body: JSON.stringify(valid),
        }),
      status: 415,
      code: 'unsupported_media_type',
    },
    {
      name: 'record above the topic max.message.bytes',
      send: () =>
        produce(main, small, { messages: [{ value: 'ok' }, { value: 'y'.repeat(5000) }] }),
      status: 422,
      code: 'record_too_large',
      check: (a) =>
        expect(a.body['error']).toMatchObject({
          details: { field: '/messages/1', maxMessageBytes: 4096 },
        }),
    },
    {
      name: 'keyless record for a compacted topic',
      send: () => produce(main, compacted, { messages: [{ key: 'k', value: 1 }, { value: 2 }] }),
      status: 422,
      code: 'record_rejected',
      check: (a) =>
        expect(a.body['error']).toMatchObject({ details: { field: '/messages/1/key' } }),
    },
    {
      name: 'allowed topic whose metadata is unknown',
      send: () => produce(tight, missing, valid),
      status: 503,
      code: 'topic_unavailable',
    },
  ];

  test.each(cases)(
    '$name → $status $code, and the service still serves',
    async ({ send, status, code, check }) => {
      const answer = await send();
      expect({
        status: answer.status,
        code: (answer.body['error'] as { code?: string } | undefined)?.code,
      }).toEqual({
        status,
        code,
      });
      expect(typeof (answer.body['error'] as { message?: unknown }).message).toBe('string');
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      if (status === 503) expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
      check?.(answer);
      expect((await produce(main, topic, valid)).status).toBe(200);
    },
  );

  test('a full buffer → 503 buffer_full with Retry-After at once; the waiting request still succeeds', async () => {
    const ten = { messages: Array.from({ length: 10 }, (_, i) => ({ key: 'full', value: i })) };
    const waiting = produce(tight, shrinking, ten, {});
    // Its ten messages fill the buffer (BUFFER_MAX_MESSAGES 10) and stay there for the linger
    // (1 s) and the send: counted until Kafka acknowledges them.
    await waitUntil(
      'the waiting request to fill the buffer',
      async () => (await metric(tight, 'event_pipeline_producer_buffered_messages', {})) === 10,
    );
    const refusal = produce(tight, shrinking, { messages: [{ value: 'one more' }] }, {});
    // At once: answered while the buffer is still full, not once it drains.
    const first = await Promise.race([
      refusal.then(() => 'refusal'),
      waiting.then(() => 'waiting'),
    ]);
    expect(first).toBe('refusal');
    const refused = await refusal;
    expect(refused.status).toBe(503);
    expect(refused.body['error']).toMatchObject({ code: 'buffer_full' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await waiting).status).toBe(200);
  });

  test('no input produces a 500 or stops the service', async () => {
    const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];
    const paths = [
      `/v1/topics/${topic}/messages`,
      '/v1/topics/%ZZ/messages',
      '/v1/topics//messages',
      '/openapi.json',
      '/',
      '/v1/topics/a%2Fb/messages',
    ];
    const bodies: Array<string | Buffer> = [
      '',
      'null',
      '[]',
      '{"messages":null}',
      '{"messages":[null]}',
      '{"messages":[{"value":{"__proto__":{"polluted":1}}}]}',
      '{"messages":[{"value":1,"headers":{"__proto__":"x"}}]}',
      `{"messages":[{"value":${'['.repeat(20_000)}${']'.repeat(20_000)}}]}`,
      '{"messages":[{"value":1e400}]}',
      '{"messages":[{"value":"\\ud800"}]}',
      randomBytes(300),
    ];
    const types = [
      'application/json',
      'application/json; charset=utf-16',
      'text/plain',
      'application/x-www-form-urlencoded',
    ];
    let seen500 = 0;
    let n = 0;
    for (const method of methods) {
      for (const path of paths) {
        const body = bodies[n % bodies.length];
        const type = types[n % types.length] ?? 'application/json';
        n += 1;
        const answer = await request(main, path, {
          method,
          headers: { 'content-type': type, ...AUTH },
          body: method === 'GET' || method === 'HEAD' ? undefined : body,
        });
        if (answer.status >= 500) seen500 += 1;
      }
    }
    for (const body of bodies) {
      const answer = await request(main, `/v1/topics/${topic}/messages`, {
        headers: { ...JSON_TYPE, ...AUTH },
        body,
      });
      if (answer.status >= 500) seen500 += 1;
      expect([200, 400, 413, 415, 422]).toContain(answer.status);
    }
    expect(seen500).toBe(0);
    await waitForStatus(`${main.service.managementUrl}/livez`, 200);
    expect((await produce(main, topic, valid)).status).toBe(200);
    const ownErrors = main.service
      .logs()
      .filter(
        (l) => (l['level'] === 'error' || l['level'] === 'fatal') && l['component'] !== 'kafkajs',
      );
    expect(ownErrors.map((l) => l['msg'])).toEqual([]);
  });

  test('GET /openapi.json serves the document with the configured limits', async () => {
    const answer = await request(main, '/openapi.json', { method: 'GET' });
    expect(answer.status).toBe(200);
    expect(answer.body['openapi']).toBe('3.1.0');
    expect(answer.body).toMatchObject({
      components: { schemas: { ProduceRequest: { properties: { messages: { maxItems: 500 } } } } },
    });
  });

  test('logs never carry the API key', () => {
    const text = JSON.stringify(main.service.logs());
    expect(text).not.toContain(API_KEY);
  });
});
