/** TCP ports on 127.0.0.1: free ones to bind, and whether one is taken. */
import { connect, createServer, type Server } from 'node:net';

export const LOOPBACK = '127.0.0.1';

/** One port the OS says is free on 127.0.0.1 (for services, brokers, load generators, tests). */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  if (port === undefined) throw new Error('the OS gave no free port');
  return port;
}

/** Ports the OS says are free, all held open at once so they differ; never one of `avoid`. */
export async function freePorts(count: number, avoid: readonly number[] = []): Promise<number[]> {
  const servers: Server[] = [];
  const ports: number[] = [];
  try {
    while (ports.length < count) {
      const server = createServer();
      servers.push(server);
      const port = await new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, LOOPBACK, () => {
          const address = server.address();
          resolve(typeof address === 'object' && address !== null ? address.port : 0);
        });
      });
      if (port > 0 && !avoid.includes(port)) ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

/**
 * True when something holds 127.0.0.1:port: it accepts a connection, or (with `silentIsOpen`,
 * the default) it neither accepts nor refuses one within a second.
 */
export function isPortOpen(
  port: number,
  options: { silentIsOpen?: boolean } = {},
): Promise<boolean> {
  const silentIsOpen = options.silentIsOpen ?? true;
  return new Promise((resolve) => {
    const socket = connect({ host: LOOPBACK, port });
    socket.setTimeout(1_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(silentIsOpen);
    });
    socket.once('error', () => resolve(false));
  });
}
