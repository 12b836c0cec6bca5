/**
 * The API's HTTP server with explicit timeouts, and a close that stops accepting
 * connections, lets requests in progress finish, and can cut the rest off.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

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

export async function startHttpServer(
  handler: RequestListener,
  options: HttpServerOptions,
): Promise<HttpServer> {
  const server = createServer(
    {
      requestTimeout: options.requestTimeoutMs,
      headersTimeout: options.headersTimeoutMs,
      keepAliveTimeout: options.keepAliveTimeoutMs,
    },
    handler,
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
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
