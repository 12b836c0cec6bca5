/**
 * A TCP forwarder like `kubectl port-forward`: listens on one address and connects each
 * client to a port on 127.0.0.1. stop() cuts every open connection and refuses new ones, as
 * a network fault between a client and one broker would.
 */
import type { Socket } from 'node:net';
import { TcpServer } from '../../scripts/lib/tcp-server';

export class Forwarder extends TcpServer {
  connections = 0;

  constructor(
    readonly listenHost: string,
    readonly listenPort: number,
    readonly targetPort: number,
  ) {
    super();
  }

  async start(): Promise<void> {
    await this.listen(this.listenPort, this.listenHost);
  }

  protected accept(client: Socket): void {
    this.connections += 1;
    const upstream = this.upstreamFor(client, this.targetPort);
    client.pipe(upstream).pipe(client);
  }
}
