/**
 * The end-to-end scenario's load: a fixed rate must arrive spread over time, not as a burst
 * each second (what autocannon's per-connection quota does), and each body must carry its
 * messages' numbers and build times. Against a real node:http server on a local port.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runPacedLoad } from '../../bench/lib/paced-load';

interface Arrival {
  at: number;
  seq: number;
  sentAt: number;
}

let server: Server;
let url: string;
const arrivals: Arrival[] = [];
let answerWith = 200;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const { messages } = JSON.parse(body) as {
        messages: Array<{ value: { seq: number; sentAt: number } }>;
      };
      for (const { value } of messages) {
        arrivals.push({ at: performance.timeOrigin + performance.now(), ...value });
      }
      res.writeHead(answerWith, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/topics/t/messages`;
});

afterAll(async () => {
  await new Promise((closed) => server.close(closed));
});

beforeEach(() => {
  arrivals.length = 0;
  answerWith = 200;
});

const load = (over: { rate: number; durationSec: number; warmupSec?: number }) =>
  runPacedLoad({
    url,
    headers: { 'content-type': 'application/json' },
    connections: 16,
    messagesPerRequest: 1,
    format: 'api',
    warmupSec: 0,
    ...over,
  });

test('spreads a fixed rate evenly over the run', async () => {
  const before = performance.timeOrigin + performance.now();
  const result = await load({ rate: 200, durationSec: 1.5 });
  expect(result.requests).toBe(300);
  expect(result.errors + result.timeouts + result.non2xx).toBe(0);
  expect(arrivals).toHaveLength(300);
  // 200/s is one every 5 ms: the request of message i is not built before (i + 1) × 5 ms. A
  // burst at the top of each second builds them all at once (a lower bound: a busy machine can
  // only make them later).
  for (const { seq, sentAt } of arrivals) {
    expect(sentAt - before).toBeGreaterThanOrEqual((seq + 1) * 5 - 0.5);
  }
});

test('numbers the messages from 0 and stamps each with the time its request was built', async () => {
  const result = await load({ rate: 100, durationSec: 0.5 });
  expect(result.nextSeq).toBe(50);
  expect(arrivals.map((a) => a.seq).sort((a, b) => a - b)).toEqual(
    Array.from({ length: 50 }, (_, i) => i),
  );
  for (const { at, sentAt } of arrivals) {
    expect(sentAt).toBeLessThanOrEqual(at);
    expect(at - sentAt).toBeLessThan(10_000);
  }
});

test('counts answers other than 2xx, and leaves the warm-up out of the latency figures', async () => {
  answerWith = 503;
  const result = await load({ rate: 100, durationSec: 0.6, warmupSec: 0.3 });
  expect(result.requests).toBe(60);
  expect(result.non2xx).toBe(60);
  expect(result.statusCodes['503']).toBe(60);
  // Due every 10 ms: the 30 due in the first 300 ms are the warm-up.
  expect(result.measuredRequests).toBe(30);
  expect(result.latencyMs.p50).toBeGreaterThan(0);
});
