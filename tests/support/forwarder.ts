/**
 * A TCP forwarder like `kubectl port-forward`: listens on one address and connects each
 * client to a port on 127.0.0.1. stop() cuts every open connection and refuses new ones, as
 * a network fault between a client and one broker would.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export class Forwarder {
  connections = 0;
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;

  constructor(
    readonly listenHost: string,
    readonly listenPort: number,
    readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    const server = createServer((client) => {
      this.connections += 1;
      const upstream = connect({ host: '127.0.0.1', port: this.targetPort });
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.once('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listenPort, this.listenHost, () => resolve());
    });
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
