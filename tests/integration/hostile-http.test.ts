/**
 * Hand-written hostile HTTP input for the producer API, beyond what its schema describes and
 * beyond producer-api.test.ts: huge headers, 10 MB bodies, deeply nested JSON, invalid UTF-8,
 * lying Content-Length, clients that trickle their headers or body (the server's timeouts
 * must cut them off: this instance runs with HTTP_REQUEST_TIMEOUT_MS=3000), thousands of idle
 * keep-alive connections, unknown topics and topic names with path tricks. Requests go over
 * raw sockets where fetch would refuse or repair them. After each case the service must
 * still serve; no case may produce a 5xx, and nothing may reach a topic it did not name.
 */
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { brokersFromEnv, consumeAll, createTopic, uniqueTopic } from '../support/kafka';
import { readTopic } from '../support/ledger';
import {
  freePort,
  startService,
  waitUntilReady,
  type ServiceProcess,
} from '../support/service-process';

jest.setTimeout(90_000);

const REQUEST_TIMEOUT_MS = 3_000;
const HEADERS_TIMEOUT_MS = 2_000;
const IDLE_CONNECTIONS = 2_000;

const topic = uniqueTopic('hostile');
const other = uniqueTopic('hostile-other'); // exists, not allowed: nothing may reach it
let service: ServiceProcess;
let port: number;

beforeAll(async () => {
  await createTopic(topic, 3);
  await createTopic(other, 1);
  port = await freePort();
  service = startService(
    'producer',
    {
      HTTP_PORT: String(port),
      TOPICS: topic,
      HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
    },
    { managementPort: await freePort(), label: 'hostile-http' },
  );
  await waitUntilReady(service, 60_000);
}, 90_000);

afterAll(async () => {
  expect(await service?.stop('SIGTERM')).toBe(0);
});

interface RawAnswer {
  /** Status of the first response, if any came. */
  status: number | undefined;
  text: string;
  /** The server closed the connection (or reset it). */
  closed: boolean;
  /** Milliseconds from the first byte written to the close (or to giving up). */
  ms: number;
}

/**
 * Writes `parts` to a raw connection (waiting `gapMs` between them, stopping once the server
 * answered or closed) and collects what comes back until the server closes or `waitMs` passed.
 */
async function raw(
  parts: Array<string | Buffer>,
  options: { gapMs?: number; waitMs?: number } = {},
): Promise<RawAnswer> {
  const socket: Socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const started = Date.now();
  const chunks: Buffer[] = [];
  let closed = false;
  const ended = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (responseComplete(Buffer.concat(chunks))) resolve();
    });
    socket.on('error', () => undefined); // EPIPE/ECONNRESET after the server closed
    socket.on('close', () => {
      closed = true;
      resolve();
    });
  });
  for (const part of parts) {
    if (closed || chunks.length > 0) break;
    const flushed = socket.write(part);
    if (!flushed) await new Promise((resolve) => socket.once('drain', resolve));
    if (options.gapMs) await sleep(options.gapMs);
  }
  const giveUp = new AbortController();
  await Promise.race([
    ended,
    sleep(options.waitMs ?? 5_000, undefined, { signal: giveUp.signal }).catch(() => undefined),
  ]);
  giveUp.abort();
  const ms = Date.now() - started;
  socket.destroy();
  const text = Buffer.concat(chunks).toString('latin1');
  const match = /^HTTP\/1\.1 (\d{3})/.exec(text);
  return { status: match ? Number(match[1]) : undefined, text, closed, ms };
}

/** A whole answer on a connection the server keeps open (one it closes: wait for the close). */
function responseComplete(data: Buffer): boolean {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const head = data.subarray(0, end).toString('latin1');
  if (/\r\nconnection: *close/i.test(head)) return false;
  const length = /\r\ncontent-length: *(\d+)/i.exec(head);
  return length !== null && data.length - end - 4 >= Number(length[1]);
}

const path = `/v1/topics/${topic}/messages`;
const valid = JSON.stringify({ messages: [{ key: 'probe', value: 'still serving' }] });

function head(target: string, headers: Record<string, string>, method = 'POST'): string {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

async function stillServes(): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: valid,
  });
  expect(response.status).toBe(200);
  expect(service.child.exitCode).toBeNull();
  expect((await fetch(`${service.managementUrl}/livez`)).status).toBe(200);
}

afterEach(async () => {
  await stillServes();
});

describe('producer API under hostile HTTP input', () => {
  test('a 64 KB header and 500 headers → 431, connection closed', async () => {
    const big = await raw([
      head(path, {
        'content-type': 'application/json',
        'x-big': 'a'.repeat(65_536),
        'content-length': '0',
      }),
    ]);
    expect(big.status).toBe(431);
    const many: Record<string, string> = {
      'content-type': 'application/json',
      'content-length': '0',
    };
    for (let i = 0; i < 500; i += 1) many[`x-h${i}`] = 'v'.repeat(60);
    const lots = await raw([head(path, many)]);
    expect(lots.status).toBe(431);
    expect(big.closed && lots.closed).toBe(true);
  });

  test('a 10 MB body announced by Content-Length → 413 before the body is sent', async () => {
    const answer = await raw(
      [
        head(path, {
          'content-type': 'application/json',
          'content-length': String(10 * 1024 * 1024),
        }),
      ],
      { waitMs: 5_000 },
    );
    expect(answer.status).toBe(413);
    expect(answer.text).toContain('body_too_large');
    expect(answer.closed).toBe(true);
  });

  test('a 10 MB chunked body → 413 once the limit is passed, without reading the rest', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x20); // JSON whitespace
    const framed = Buffer.concat([
      Buffer.from(`${chunk.length.toString(16)}\r\n`),
      chunk,
      Buffer.from('\r\n'),
    ]);
    const parts: Array<string | Buffer> = [
      head(path, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }),
      ...Array.from({ length: 160 }, () => framed), // 10 MiB
      '0\r\n\r\n',
    ];
    const answer = await raw(parts, { gapMs: 2, waitMs: 5_000 });
    expect(answer.status).toBe(413);
    expect(answer.closed).toBe(true);
  });

  test('JSON nested 400,000 deep → 400 invalid_request, not a crash', async () => {
    const depth = 400_000;
    const body = `{"messages":[{"value":${'['.repeat(depth)}${']'.repeat(depth)}}]}`;
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const answer = (await response.json()) as { error?: { code?: string; message?: string } };
    expect(response.status).toBe(400);
    expect(answer.error?.code).toBe('invalid_request');
  });

  test('invalid UTF-8 in the body, the path and a header → never a 5xx', async () => {
    const bad = Buffer.concat([
      Buffer.from('{"messages":[{"key":"utf8","value":"'),
      Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]),
      Buffer.from('"}]}'),
    ]);
    const body = await raw([
      head(path, { 'content-type': 'application/json', 'content-length': String(bad.length) }),
      bad,
    ]);
    expect([200, 400]).toContain(body.status);
    const inPath = await raw([
      Buffer.concat([
        Buffer.from('POST /v1/topics/'),
        Buffer.from([0xff, 0xc3]),
        Buffer.from(
          `/messages HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: ${valid.length}\r\n\r\n${valid}`,
        ),
      ]),
    ]);
    expect(inPath.status).toBeGreaterThanOrEqual(400);
    expect(inPath.status).toBeLessThan(500);
    const encoded = await raw([
      head('/v1/topics/%FF%FE/messages', {
        'content-type': 'application/json',
        'content-length': String(valid.length),
      }),
      valid,
    ]);
    expect([400, 404]).toContain(encoded.status);
    const inHeader = await raw([
      Buffer.concat([
        Buffer.from(
          `POST ${path} HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\nx-odd: `,
        ),
        Buffer.from([0xff, 0xfe, 0x80]),
        Buffer.from(`\r\ncontent-length: ${valid.length}\r\n\r\n${valid}`),
      ]),
    ]);
    expect([200, 400]).toContain(inHeader.status);
  });

  test('a Content-Length that lies, or two framings at once → 4xx or a timeout, never a 5xx', async () => {
    // Shorter than the body: the JSON is cut (400), the rest is garbage for the parser (closed).
    const short = await raw([
      head(path, { 'content-type': 'application/json', 'content-length': '10' }),
      valid,
    ]);
    expect(short.status).toBe(400);
    expect(short.closed).toBe(true);
    // Longer than the body, and then silence: cut off by the request timeout.
    const long = await raw(
      [
        head(path, {
          'content-type': 'application/json',
          'content-length': String(valid.length + 100),
        }),
        valid,
      ],
      { waitMs: REQUEST_TIMEOUT_MS + 10_000 },
    );
    expect(long.closed).toBe(true);
    expect(long.status === undefined || long.status === 408 || long.status === 400).toBe(true);
    const framings: Array<Record<string, string>> = [
      { 'content-length': String(valid.length), 'transfer-encoding': 'chunked' },
      { 'content-length': 'eleven' },
      { 'content-length': '-1' },
      { 'content-length': `${valid.length}, ${valid.length + 1}` },
    ];
    for (const headers of framings) {
      const answer = await raw([
        head(path, { 'content-type': 'application/json', ...headers }),
        valid,
      ]);
      expect({ headers, status: answer.status }).toEqual({ headers, status: 400 });
    }
  });

  test(`a client trickling its body is cut off by the request timeout (${REQUEST_TIMEOUT_MS} ms)`, async () => {
    const body = valid.padEnd(2_000, ' ');
    const parts = [
      head(path, { 'content-type': 'application/json', 'content-length': String(body.length) }),
      ...body.split(''),
    ];
    // One byte every 100 ms would take 200 s; the server must end it long before.
    const answer = await raw(parts, { gapMs: 100, waitMs: REQUEST_TIMEOUT_MS + 15_000 });
    expect(answer.closed).toBe(true);
    expect(answer.status === undefined || answer.status === 408).toBe(true);
    expect(answer.ms).toBeLessThan(REQUEST_TIMEOUT_MS + 10_000);
  });

  test(`a client trickling its headers is cut off by the headers timeout (${HEADERS_TIMEOUT_MS} ms)`, async () => {
    const text = head(path, { 'content-type': 'application/json', 'x-padding': 'p'.repeat(2_000) });
    const answer = await raw(text.split(''), { gapMs: 100, waitMs: HEADERS_TIMEOUT_MS + 15_000 });
    expect(answer.closed).toBe(true);
    expect(answer.status === undefined || answer.status === 408).toBe(true);
    expect(answer.ms).toBeLessThan(HEADERS_TIMEOUT_MS + 10_000);
  });

  test(`${IDLE_CONNECTIONS} idle keep-alive connections: the service still serves`, async () => {
    const sockets: Socket[] = [];
    try {
      const request = head('/openapi.json', {}, 'GET');
      for (let batch = 0; batch < IDLE_CONNECTIONS / 100; batch += 1) {
        await Promise.all(
          Array.from({ length: 100 }, async () => {
            const socket = connect({ host: '127.0.0.1', port });
            socket.on('error', () => undefined);
            sockets.push(socket);
            await new Promise<void>((resolve, reject) => {
              let seen = '';
              socket.on('data', (chunk: Buffer) => {
                seen += chunk.toString('latin1');
                // The document ends the body; the connection stays open (keep-alive).
                if (seen.startsWith('HTTP/1.1 200') && seen.trimEnd().endsWith('}')) resolve();
              });
              socket.once('close', () => reject(new Error('closed before answering')));
              socket.write(request);
            });
          }),
        );
      }
      expect(sockets.filter((s) => !s.destroyed)).toHaveLength(IDLE_CONNECTIONS);
      const ready = await fetch(`${service.managementUrl}/readyz`);
      expect(ready.status).toBe(200);
      await stillServes();
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  });

  test('unknown topics and path tricks → 400/404, and nothing reaches another topic', async () => {
    const targets = [
      `/v1/topics/${other}/messages`,
      `/v1/topics/..%2F${other}/messages`,
      `/v1/topics/${topic}%2F..%2F${other}/messages`,
      `/v1/topics/${topic}%2F..%2F..%2Fv1%2Ftopics%2F${other}/messages`,
      `/v1/topics/%2e%2e/messages`,
      `/v1/topics/..%5C${other}/messages`,
      `/v1/topics/${topic}%00/messages`,
      `/v1/topics/${topic}%20/messages`,
      `/v1/topics/${topic.toUpperCase()}/messages`,
      `/v1/topics/${encodeURIComponent(`${topic}/../${other}`)}/messages`,
      `/v1/topics/${topic}/../${other}/messages`,
      `/v1/topics/${topic}/messages/../../${other}/messages`,
      `/v1/topics/${topic}/messages%2F..%2F..%2F${other}%2Fmessages`,
      `//v1/topics/${other}/messages`,
      `/v1/topics/${other}/messages?topic=${topic}`,
      `/v1/topics/%252e%252e%252f${other}/messages`,
    ];
    const seen: Array<{ target: string; status: number | undefined }> = [];
    for (const target of targets) {
      const answer = await raw([
        head(target, {
          'content-type': 'application/json',
          'content-length': String(valid.length),
        }),
        valid,
      ]);
      seen.push({ target, status: answer.status });
    }
    for (const { target, status } of seen) {
      expect({ target, ok: status === 400 || status === 404 }).toEqual({ target, ok: true });
    }
    const leaked = await readTopic(other, { brokers: brokersFromEnv() });
    expect(leaked.records).toEqual([]);
    // The allowed topic got only the probes of stillServes(), never a tricked request.
    const own = await consumeAll(topic, 1, 30_000);
    expect(own.every((m) => m.key === 'probe' || m.key === 'utf8')).toBe(true);
  });
});
