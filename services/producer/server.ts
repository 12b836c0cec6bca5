/**
 * The API's HTTP server with explicit timeouts, and a close that stops accepting
 * connections, lets requests in progress finish, and can cut the rest off.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import { listen } from '../common/listen';

export interface HttpServerOptions {
  port: number;
  host?: string;
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

export interface HttpServer {
  readonly port: number;
  readonly server: Server;
  /** Stops accepting; resolves when every connection has ended. */
  close(): Promise<void>;
  /** Ends the connections that have no request in progress. */
  closeIdle(): void;
  /** Ends every remaining connection now. */
  closeAll(): void;
}

/** How often Node checks the request and headers timeouts: a tenth of the shorter, 100 ms to 1 s. */
export function connectionsCheckingInterval(options: {
  requestTimeoutMs: number;
  headersTimeoutMs: number;
}): number {
  const shorter = Math.min(options.requestTimeoutMs, options.headersTimeoutMs);
  return Math.max(100, Math.min(1000, Math.floor(shorter / 10)));
}

export async function startHttpServer(
  handler: RequestListener,
  options: HttpServerOptions,
): Promise<HttpServer> {
  const server = createServer(
    {
      requestTimeout: options.requestTimeoutMs,
      headersTimeout: options.headersTimeoutMs,
      keepAliveTimeout: options.keepAliveTimeoutMs,
      // Node enforces both timeouts only when it sweeps its connections, every 30 s by
      // default: a client trickling its body would hold on for up to 30 s past the timeout.
      connectionsCheckingInterval: connectionsCheckingInterval(options),
    },
    handler,
  );
  const port = await listen(server, options.port, options.host);
  let closing: Promise<void> | undefined;
  return {
    port,
    server,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        // Node ≥ 19 closes the connections idle at this moment; see closeIdle for the rest.
        server.close(() => resolve());
      })),
    closeIdle: () => server.closeIdleConnections(),
    closeAll: () => server.closeAllConnections(),
  };
}
