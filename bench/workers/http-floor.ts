/**
 * The floor under our API's single-message request (forked by bench/scenarios/floor.ts): a
 * server that takes the same request and gives an answer of the same shape with nothing in
 * between, no Kafka, no validation, no metrics. `node` is node:http reading the body and
 * JSON.parse; `express` is express with express.json() and one route; `express-lean` is that
 * route with our API's own body reader (services/producer/json-body.ts) instead. What our API
 * spends above them is ours; what they spend is Node's and express's on this machine.
 *
 * IPC: the config in, { type: 'listening', port } out; { type: 'cpu' } in, { type: 'cpu',
 * cpuSec } out (user + system seconds of this process so far).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { jsonBody } from '../../services/producer/json-body';
import { cpuSeconds } from '../lib/stats';

export type FloorFramework = 'node' | 'express' | 'express-lean';

export interface FloorConfig {
  framework: FloorFramework;
  maxBodyBytes: number;
}

export type FloorReply = { type: 'listening'; port: number } | { type: 'cpu'; cpuSec: number };

const ROUTE = /^\/v1\/topics\/[^/]+\/messages$/;

let nextOffset = 0;

/** The answer our API gives: one result per message, in order. */
function answerFor(body: unknown): string | undefined {
  const messages = (body as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages)) return undefined;
  const results = messages.map(() => ({ partition: 0, offset: String(nextOffset++) }));
  return JSON.stringify({ results });
}

function nodeHandler(maxBodyBytes: number) {
  return (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST' || !ROUTE.test(req.url ?? '')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
      return;
    }
    const chunks: Buffer[] = [];
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length <= maxBodyBytes) chunks.push(chunk);
    });
    req.on('end', () => {
      let answer: string | undefined;
      try {
        answer =
          length <= maxBodyBytes
            ? answerFor(JSON.parse(Buffer.concat(chunks, length).toString('utf8')))
            : undefined;
      } catch {
        answer = undefined;
      }
      if (answer === undefined) {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid"}');
        return;
      }
      res
        .writeHead(200, {
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(answer),
        })
        .end(answer);
    });
  };
}

function expressApp(maxBodyBytes: number, bodyReader: 'express.json' | 'ours'): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const readBody =
    bodyReader === 'ours'
      ? jsonBody(maxBodyBytes, () => undefined)
      : express.json({ limit: maxBodyBytes });
  app.post('/v1/topics/:topic/messages', readBody, (req, res) => {
    const answer = answerFor(req.body);
    if (answer === undefined) {
      res.status(400).json({ error: 'invalid' });
      return;
    }
    res.type('application/json').send(answer);
  });
  return app;
}

function reply(message: FloorReply): void {
  process.send?.(message);
}

process.once('message', (config: FloorConfig) => {
  const handler =
    config.framework === 'node'
      ? nodeHandler(config.maxBodyBytes)
      : expressApp(config.maxBodyBytes, config.framework === 'express' ? 'express.json' : 'ours');
  const server = createServer(handler);
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () => {
    reply({ type: 'listening', port: (server.address() as AddressInfo).port });
  });
  process.on('message', (message: { type?: string }) => {
    if (message.type === 'cpu') reply({ type: 'cpu', cpuSec: cpuSeconds(process.cpuUsage()) });
  });
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
});
