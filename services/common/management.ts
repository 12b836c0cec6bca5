/**
 * The management server: /livez, /readyz and /metrics on their own port, apart from
 * the API, so probes and scrapes never queue behind client traffic and never need
 * the API's credentials.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Health, HealthReport } from './health';
import { listen } from './listen';
import type { Logger } from './logger';

export interface ManagementServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface ManagementOptions {
  port: number;
  host?: string;
  health: Health;
  registry: Registry;
  logger: Logger;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
  });
  res.end(payload);
}

function sendHealth(res: ServerResponse, report: HealthReport): void {
  sendJson(res, report.ok ? 200 : 503, { status: report.ok ? 'ok' : 'unavailable', ...report });
}

async function route(req: IncomingMessage, res: ServerResponse, options: ManagementOptions) {
  const path = (req.url ?? '/').split('?')[0];
  const known = path === '/livez' || path === '/readyz' || path === '/metrics';
  if (!known) {
    sendJson(res, 404, { error: { code: 'not_found', message: `no route ${path}` } });
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    sendJson(res, 405, { error: { code: 'method_not_allowed', message: `use GET on ${path}` } });
    return;
  }
  if (path === '/livez') return sendHealth(res, options.health.liveness());
  if (path === '/readyz') return sendHealth(res, options.health.readiness());
  const body = await options.registry.metrics();
  res.writeHead(200, { 'content-type': options.registry.contentType });
  res.end(body);
}

export async function startManagementServer(options: ManagementOptions): Promise<ManagementServer> {
  const server: Server = createServer((req, res) => {
    route(req, res, options).catch((error: unknown) => {
      options.logger.error({ err: error }, 'management request failed');
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal', message: 'failed' } });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  server.requestTimeout = 10_000;
  const port = await listen(server, options.port, options.host);
  options.logger.info({ port }, 'management server listening (/livez, /readyz, /metrics)');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
