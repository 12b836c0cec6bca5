/**
 * The lifecycle every small TCP server of the dev tools shares (the forwarders of the tests,
 * the e2e port-forward): listen, keep every socket of every connection, and stop() by cutting
 * them all and refusing new ones, as a network fault would. A subclass says what a connection
 * does (`accept`).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { LOOPBACK } from './ports';

export abstract class TcpServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  /** What to do with a new client connection. */
  protected abstract accept(client: Socket): void;

  /** Listens on host:port (port 0: any free one) and returns the port it got. */
  protected async listen(port: number, host: string): Promise<number> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return address.port;
  }

  /** Keeps `socket` until it closes, so that stop() cuts it; its errors end only it. */
  protected track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
  }

  /**
   * Connects to 127.0.0.1:`port` for `client`: both sockets tracked, and either one closing
   * closes the other. The caller moves the bytes.
   */
  protected upstreamFor(client: Socket, port: number): Socket {
    const upstream = connect({ host: LOOPBACK, port });
    this.track(client);
    this.track(upstream);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
    return upstream;
  }

  /** Cuts every open connection and stops listening. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
