/**
 * Hand-written hostile HTTP input for the producer API, beyond what its schema describes and
 * beyond producer-api.test.ts: huge headers, 10 MB bodies, deeply nested JSON, invalid UTF-8,
 * lying Content-Length, clients that trickle their headers or body (the server's timeouts
 * must cut them off: this instance runs with HTTP_REQUEST_TIMEOUT_MS=3000), thousands of idle
 * keep-alive connections, unknown topics and topic names with path tricks. Requests go over
 * raw sockets where fetch would refuse or repair them. After each case the service must
 * still serve; no case may produce a 5xx, and nothing may reach a topic it did not name.
 *
 * Then text that UTF-8 cannot carry (invalid bytes of every kind, lone surrogates written as
 * JSON escapes anywhere in a message, charsets other than UTF-8), each refused with its status
 * and code while Kafka holds nothing of it, next to the texts that must be kept exactly (a BOM,
 * noncharacters, surrogate pairs, NUL); and answers that must arrive: a refused body written in
 * one go by a client that reads only once it has written everything, as most HTTP libraries do.
 */
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import type { Admin } from 'kafkajs';
import {
  brokersFromEnv,
  consumeAll,
  createTopic,
  testKafka,
  uniqueTopic,
  type ConsumedMessage,
} from '../support/kafka';
import { readLedgerTopic } from '../../scripts/lib/ledger';
import { readTopic } from '../../scripts/lib/topic-reader';
import { startOnFreePorts, type RunningService } from '../../scripts/lib/services';

jest.setTimeout(90_000);

const REQUEST_TIMEOUT_MS = 3_000;
const HEADERS_TIMEOUT_MS = 2_000;
const IDLE_CONNECTIONS = 2_000;

const topic = uniqueTopic('hostile');
const other = uniqueTopic('hostile-other'); // exists, not allowed: nothing may reach it
// The text cases' own topic: what it holds after each case shows whether anything got through.
const text = uniqueTopic('hostile-text');
let service: RunningService;
let port: number;
let admin: Admin;

beforeAll(async () => {
  await createTopic(topic, 3);
  await createTopic(other, 1);
  await createTopic(text, 1);
  admin = testKafka().admin();
  await admin.connect();
  const started = await startOnFreePorts('producer', {
    env: {
      TOPICS: [topic, text].join(','),
      HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
    },
    portSettings: ['HTTP_PORT'],
    label: 'hostile-http',
  });
  service = started.service;
  port = started.ports.HTTP_PORT ?? 0;
}, 90_000);

afterAll(async () => {
  await admin?.disconnect();
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

/** The error of a JSON error answer (the first response on the connection). */
function errorOf(
  answer: RawAnswer,
): { code?: string; message?: string; details?: unknown } | undefined {
  const end = answer.text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const length = /\r\ncontent-length: *(\d+)/i.exec(answer.text.slice(0, end));
  const body = answer.text.slice(end + 4, length ? end + 4 + Number(length[1]) : undefined);
  try {
    const parsed = JSON.parse(Buffer.from(body, 'latin1').toString('utf8')) as {
      error?: { code?: string; message?: string; details?: unknown };
    };
    return parsed.error;
  } catch {
    return undefined;
  }
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

  test('JSON nested 400,000 deep → 200, stored as sent, not a crash', async () => {
    const depth = 400_000;
    const value = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const body = `{"messages":[{"key":"deep","value":${value}}]}`;
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const answer = (await response.json()) as {
      results?: Array<{ partition: number; offset: string }>;
    };
    expect(response.status).toBe(200);
    const [result] = answer.results ?? [];
    const { records } = await readTopic(topic, { brokers: brokersFromEnv() });
    const stored = records.find(
      (r) => r.partition === result?.partition && r.offset === result.offset,
    );
    expect(stored?.key?.toString()).toBe('deep');
    expect(stored?.value?.toString()).toBe(value);
  });

  test('invalid UTF-8 in the body → 400 invalid_utf8; in the path or a header → never a 5xx', async () => {
    const bad = Buffer.concat([
      Buffer.from('{"messages":[{"key":"utf8","value":"'),
      Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]),
      Buffer.from('"}]}'),
    ]);
    const body = await raw([
      head(path, { 'content-type': 'application/json', 'content-length': String(bad.length) }),
      bad,
    ]);
    expect(body.status).toBe(400);
    expect(errorOf(body)?.code).toBe('invalid_utf8');
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
    const leaked = await readLedgerTopic(other, { brokers: brokersFromEnv() });
    expect(leaked.records).toEqual([]);
    // The allowed topic got only the probes of stillServes() and the deep value, never a
    // tricked request (nor the invalid UTF-8 one).
    const own = await consumeAll(topic, 1, 30_000);
    expect(own.filter((m) => m.key !== 'probe' && m.key !== 'deep').map((m) => m.key)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Text that UTF-8 cannot carry. Kafka would hold U+FFFD in its place (or nothing like what the
// client sent), so each one is refused, and the `text` topic must hold nothing of it.

const textPath = `/v1/topics/${text}/messages`;

/** Messages the `text` topic holds: its partitions' log-end offsets added up. */
async function held(): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(text);
  return offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
}

/** Concatenates text (as UTF-8) and raw bytes. */
function bytes(...parts: Array<string | number[]>): Buffer {
  return Buffer.concat(parts.map((part) => Buffer.from(part as string)));
}

function post(body: Buffer, headers: Record<string, string> = {}, target = textPath): Buffer {
  const fields = {
    'content-type': 'application/json',
    ...(headers['transfer-encoding'] ? {} : { 'content-length': String(body.length) }),
    ...headers,
  };
  return Buffer.concat([Buffer.from(head(target, fields)), body]);
}

interface Refusal {
  name: string;
  body: Buffer;
  headers?: Record<string, string>;
  status: number;
  code: string;
  details?: Record<string, unknown>;
}

/** A body with invalid bytes after `before`: refused, naming the offset of the first one. */
function invalidAt(name: string, before: string, bad: number[], after: string): Refusal {
  return {
    name,
    body: bytes(before, bad, after),
    status: 400,
    code: 'invalid_utf8',
    details: { offset: Buffer.byteLength(before) },
  };
}

const HOLDS = 'holds an unpaired surrogate';
const NAME_HOLDS = 'has a property name with an unpaired surrogate';

/** A body (JSON text, escapes as written) with a lone surrogate at `field`. */
function surrogateAt(name: string, json: string, field: string, reason = HOLDS): Refusal {
  return {
    name,
    body: Buffer.from(json),
    status: 400,
    code: 'unpaired_surrogate',
    details: { field, reason },
  };
}

const M = '{"messages":[{';
const refusals: Refusal[] = [
  invalidAt('bytes FF FE in a value string', `${M}"key":"k","value":"`, [0xff, 0xfe], '"}]}'),
  invalidAt(
    'an invalid byte after multi-byte characters (the offset counts bytes)',
    `${M}"value":"é ✓ 😀 `,
    [0xff],
    '"}]}',
  ),
  invalidAt('overlong "/" (C0 AF)', `${M}"value":"..`, [0xc0, 0xaf], 'etc"}]}'),
  invalidAt('overlong "/" in three bytes (E0 80 AF)', `${M}"value":"`, [0xe0, 0x80, 0xaf], '"}]}'),
  invalidAt(
    'overlong NUL (C0 80, "modified UTF-8") in a key',
    `${M}"key":"a`,
    [0xc0, 0x80],
    '"}]}',
  ),
  invalidAt(
    'a UTF-8-encoded surrogate (ED A0 80) in a key',
    `${M}"key":"`,
    [0xed, 0xa0, 0x80],
    '"}]}',
  ),
  invalidAt(
    'a surrogate pair encoded as two surrogates (CESU-8)',
    `${M}"value":"`,
    [0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80],
    '"}]}',
  ),
  invalidAt(
    'a code point above U+10FFFF (F4 90 80 80)',
    `${M}"value":"`,
    [0xf4, 0x90, 0x80, 0x80],
    '"}]}',
  ),
  invalidAt(
    'a five-byte form (F8 88 80 80 80)',
    `${M}"value":"`,
    [0xf8, 0x88, 0x80, 0x80, 0x80],
    '"}]}',
  ),
  invalidAt('a lone continuation byte (80)', `${M}"value":"a`, [0x80], 'b"}]}'),
  invalidAt(
    'a sequence cut short inside a string (E2 82 then ")',
    `${M}"value":"`,
    [0xe2, 0x82],
    '"}]}',
  ),
  invalidAt('a sequence cut short at the end of the body', `${M}"value":1}]}`, [0xe2, 0x82], ''),
  invalidAt('an invalid byte in a header value', `${M}"value":1,"headers":{"h":"`, [0xff], '"}}]}'),
  invalidAt('an invalid byte in a header name', `${M}"value":1,"headers":{"`, [0xc3], '":"v"}}]}'),
  {
    ...invalidAt(
      'invalid bytes inside a gzip body (checked once inflated)',
      `${M}"value":"`,
      [0xfe],
      '"}]}',
    ),
    headers: { 'content-encoding': 'gzip' },
  },
  surrogateAt(
    'a lone high surrogate as the key',
    `${M}"key":"\\ud800","value":1}]}`,
    '/messages/0/key',
  ),
  surrogateAt(
    'a lone low surrogate in a value string',
    `${M}"value":"a\\udc00b"}]}`,
    '/messages/0/value',
  ),
  surrogateAt(
    'an upper-case escape, deep in a value',
    `${M}"value":{"a":["x","\\uDBFF"]}}]}`,
    '/messages/0/value/a/1',
  ),
  surrogateAt('a pair in the wrong order', `${M}"value":"\\ude00\\ud83d"}]}`, '/messages/0/value'),
  surrogateAt(
    'a property name inside a value',
    `${M}"value":{"ok":{"\\ud800":1}}}]}`,
    '/messages/0/value/ok',
    NAME_HOLDS,
  ),
  surrogateAt(
    'under property names a JSON pointer must escape',
    `${M}"value":{"a/b":{"~":"\\udfff"}}}]}`,
    '/messages/0/value/a~1b/~0',
  ),
  surrogateAt(
    'a header name',
    `${M}"value":1,"headers":{"\\udfff":"v"}}]}`,
    '/messages/0/headers',
    NAME_HOLDS,
  ),
  surrogateAt(
    'a header value',
    `${M}"value":1,"headers":{"h":"\\ud83d"}}]}`,
    '/messages/0/headers/h',
  ),
  surrogateAt(
    'only in the second message: the first is not stored either',
    '{"messages":[{"key":"first","value":1},{"value":"\\ud800"}]}',
    '/messages/1/value',
  ),
  {
    name: 'a charset other than UTF-8 (UTF-16LE)',
    body: Buffer.from('{"messages":[{"value":"utf-16"}]}', 'utf16le'),
    headers: { 'content-type': 'application/json; charset=utf-16le' },
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'UTF-16 with a stray last byte (decoded, the byte would vanish)',
    body: bytes('{"messages":[{"value":"x"}]}', [0x41]),
    headers: { 'content-type': 'application/json; charset=utf-16' },
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'two BOMs (only one may be ignored)',
    body: bytes([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf], `${M}"value":1}]}`),
    status: 400,
    code: 'invalid_json',
  },
  {
    name: 'a raw NUL inside a string (valid UTF-8, not JSON)',
    body: bytes(`${M}"value":"a`, [0x00], 'b"}]}'),
    status: 400,
    code: 'invalid_json',
  },
];

/** Accepted: valid text that must reach Kafka exactly as sent. */
const kept: Array<{
  name: string;
  body: Buffer;
  stored: Omit<ConsumedMessage, 'topic' | 'partition' | 'offset' | 'timestamp'>;
}> = [
  {
    name: 'a BOM before the JSON text (RFC 8259 lets a parser ignore it)',
    body: bytes([0xef, 0xbb, 0xbf], '{"messages":[{"key":"bom","value":"after a BOM"}]}'),
    stored: { key: 'bom', value: '"after a BOM"', headers: {} },
  },
  {
    name: 'U+FEFF, U+FFFE and U+FFFF inside strings (valid scalar values)',
    body: Buffer.from('{"messages":[{"key":"nonchars","value":"\uFEFF \uFFFE \uFFFF"}]}'),
    stored: { key: 'nonchars', value: JSON.stringify('\uFEFF \uFFFE \uFFFF'), headers: {} },
  },
  {
    name: 'surrogate pairs written as escapes in key, value and header (the value keeps its escapes)',
    body: Buffer.from(
      '{"messages":[{"key":"pair-\\ud83d\\ude00","value":"\\uD83D\\uDE00","headers":{"\\ud83d\\ude00":"\\ud83d\\ude00"}}]}',
    ),
    stored: { key: 'pair-😀', value: '"\\uD83D\\uDE00"', headers: { '😀': '😀' } },
  },
  {
    name: 'an escaped backslash before "ud800" (text, not an escape)',
    body: Buffer.from('{"messages":[{"key":"backslash","value":"\\\\ud800"}]}'),
    stored: { key: 'backslash', value: '"\\\\ud800"', headers: {} },
  },
  {
    name: 'NUL in a Kafka header name and value (valid text, kept as sent)',
    body: Buffer.from('{"messages":[{"key":"nul","value":1,"headers":{"a\\u0000b":"c\\u0000d"}}]}'),
    stored: { key: 'nul', value: '1', headers: { 'a\u0000b': 'c\u0000d' } },
  },
];

describe('text UTF-8 cannot carry is refused, and Kafka holds nothing of it', () => {
  test.each(refusals)('$name → $status $code', async ({ body, headers, status, code, details }) => {
    const before = await held();
    const sent =
      headers?.['content-encoding'] === 'gzip'
        ? post(gzipSync(body), headers)
        : post(body, headers);
    const answer = await raw([sent]);
    const error = errorOf(answer);
    expect({ status: answer.status, code: error?.code }).toEqual({ status, code });
    expect(typeof error?.message).toBe('string');
    if (details) expect(error?.details).toEqual(details);
    expect(await held()).toBe(before);
  });

  test('a NUL in an HTTP header name → 400 from the HTTP parser, connection closed, nothing stored', async () => {
    // Node's parser refuses it before the app runs, so this answer has no JSON body.
    const before = await held();
    const body = Buffer.from('{"messages":[{"key":"nul-header","value":1}]}');
    const answer = await raw([
      Buffer.concat([
        Buffer.from(
          `POST ${textPath} HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\nx-a`,
        ),
        Buffer.from([0x00]),
        Buffer.from(`b: 1\r\ncontent-length: ${body.length}\r\n\r\n`),
        body,
      ]),
    ]);
    expect(answer.status).toBe(400);
    expect(answer.closed).toBe(true);
    expect(await held()).toBe(before);
  });

  test.each(kept)('$name → 200, stored exactly', async ({ body }) => {
    const before = await held();
    const answer = await raw([post(body)]);
    expect(answer.status).toBe(200);
    expect(await held()).toBe(before + 1);
  });

  test('the topic holds exactly the kept texts, byte for byte', async () => {
    const count = await held();
    const messages = await consumeAll(text, count, 30_000);
    expect(messages.map(({ key, value, headers }) => ({ key, value, headers }))).toEqual(
      kept.map((k) => k.stored),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Answers that must arrive. Most HTTP libraries write the whole request (no Expect:
// 100-continue) and read only once it is written; a server that answers early and closes at
// once, with the body still coming, makes the client's write fail (EPIPE, or a reset that
// discards the answer), so the client never reads it.

interface WrittenAnswer extends RawAnswer {
  /** The client's write failed (the server closed before taking the request). */
  writeError: string | undefined;
}

/** Writes `request` in one write and starts reading only once it is written (or failed). */
async function writeThenRead(request: Buffer, waitMs = 20_000): Promise<WrittenAnswer> {
  // allowHalfOpen: like a blocking client, it keeps writing after the server's FIN.
  const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.pause();
  const started = Date.now();
  const chunks: Buffer[] = [];
  let closed = false;
  let writeError: string | undefined;
  socket.on('error', () => undefined);
  const ended = new Promise<void>((resolve) => {
    socket.once('end', () => {
      closed = true;
      resolve();
    });
    socket.once('close', () => {
      closed = true;
      resolve();
    });
  });
  socket.write(request, (error) => {
    writeError = (error as NodeJS.ErrnoException | null | undefined)?.code;
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.resume();
  });
  const giveUp = new AbortController();
  await Promise.race([
    ended,
    sleep(waitMs, undefined, { signal: giveUp.signal }).catch(() => undefined),
  ]);
  giveUp.abort();
  const ms = Date.now() - started;
  socket.destroy();
  const answerText = Buffer.concat(chunks).toString('latin1');
  const match = /^HTTP\/1\.1 (\d{3})/.exec(answerText);
  return { status: match ? Number(match[1]) : undefined, text: answerText, closed, ms, writeError };
}

const MiB = 1024 * 1024;
const spaces = (size: number) => Buffer.alloc(size, 0x20); // JSON whitespace

function chunkedInOneGo(body: Buffer, target = textPath): Buffer {
  return Buffer.concat([
    Buffer.from(
      head(target, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }),
    ),
    Buffer.from(`${body.length.toString(16)}\r\n`),
    body,
    Buffer.from('\r\n0\r\n\r\n'),
  ]);
}

describe('answers that must arrive: a refused body written in one go, read once written', () => {
  test.each([
    {
      name: '10 MiB with Content-Length (refused before it is read)',
      request: () => post(spaces(10 * MiB)),
      status: 413,
      code: 'body_too_large',
    },
    {
      name: '10 MiB chunked (refused once it passes MAX_BODY_BYTES)',
      request: () => chunkedInOneGo(spaces(10 * MiB)),
      status: 413,
      code: 'body_too_large',
    },
    {
      name: '10 MiB for a topic that is not allowed',
      request: () => post(spaces(10 * MiB), {}, `/v1/topics/${other}/messages`),
      status: 404,
      code: 'unknown_topic',
    },
    {
      name: '10 MiB of text/plain',
      request: () => post(spaces(10 * MiB), { 'content-type': 'text/plain' }),
      status: 415,
      code: 'unsupported_media_type',
    },
  ])('$name → $status $code reaches the client', async ({ request, status, code }) => {
    const before = await held();
    const answer = await writeThenRead(request());
    expect({
      status: answer.status,
      code: errorOf(answer)?.code,
      writeError: answer.writeError,
    }).toEqual({
      status,
      code,
      writeError: undefined,
    });
    expect(answer.text).toMatch(/\r\nconnection: close\r\n/i);
    expect(answer.closed).toBe(true);
    expect(await held()).toBe(before);
  });

  test('a client that sends far more than it may is still cut off (a bounded amount is read)', async () => {
    const answer = await writeThenRead(post(spaces(64 * MiB)), 30_000);
    expect(answer.closed).toBe(true);
    expect(answer.writeError).toBeDefined();
    expect(answer.ms).toBeLessThan(20_000);
  });

  test('a request pipelined behind a refused body is not processed: one answer, nothing stored', async () => {
    const before = await held();
    const behind = Buffer.from('{"messages":[{"key":"pipelined","value":"behind a refusal"}]}');
    const answer = await writeThenRead(Buffer.concat([post(spaces(2 * MiB)), post(behind)]));
    expect(answer.status).toBe(413);
    expect(answer.text.match(/HTTP\/1\.1 \d{3}/g)).toHaveLength(1);
    expect(answer.closed).toBe(true);
    await sleep(500); // had it been taken, it would be acknowledged by now
    expect(await held()).toBe(before);
  });
});
