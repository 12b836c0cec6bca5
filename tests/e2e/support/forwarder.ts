/**
 * A local TCP port whose every connection is tunnelled to a pod port: what `kubectl
 * port-forward` does, but choosing the pod per connection (a ready endpoint of a Service, so
 * that a rolling update moves new connections to the new pods as kube-proxy would).
 * The tunnel itself is given (kube.ts opens it with @kubernetes/client-node's PortForward);
 * tests/unit/e2e-forwarder.test.ts uses plain TCP tunnels.
 */
import type { Socket } from 'node:net';
import { TcpServer } from '../../../scripts/lib/tcp-server';

export interface Tunnel {
  close(): void;
  onClose(listener: () => void): void;
}

/** Opens a tunnel carrying `socket` to `pod:port`; `onError` gets the far side's error text. */
export type OpenTunnel = (
  pod: string,
  port: number,
  socket: Socket,
  onError: (message: string) => void,
) => Promise<Tunnel>;

export interface ForwarderOptions {
  open: OpenTunnel;
  /** The pod for a new connection; undefined: none is ready (the connection is refused). */
  pickPod: () => string | undefined;
  podPort: number;
  host?: string;
  /** 0 (default): any free port. */
  port?: number;
}

export class LocalForwarder extends TcpServer {
  readonly perPod = new Map<string, number>();
  readonly errors: string[] = [];
  connections = 0;
  failures = 0;

  constructor(private readonly options: ForwarderOptions) {
    super();
  }

  start(): Promise<number> {
    return this.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1');
  }

  protected accept(socket: Socket): void {
    this.connections += 1;
    this.track(socket);
    const pod = this.options.pickPod();
    if (pod === undefined) {
      this.fail('no ready pod to forward to');
      socket.destroy();
      return;
    }
    this.perPod.set(pod, (this.perPod.get(pod) ?? 0) + 1);
    this.options
      .open(pod, this.options.podPort, socket, (message) => {
        this.fail(`${pod}: ${message.trim()}`);
        socket.destroy();
      })
      .then((tunnel) => {
        tunnel.onClose(() => socket.end());
        if (socket.destroyed) tunnel.close();
        else socket.once('close', () => tunnel.close());
      })
      .catch((error: unknown) => {
        this.fail(`${pod}: ${error instanceof Error ? error.message : String(error)}`);
        socket.destroy();
      });
  }

  private fail(message: string): void {
    this.failures += 1;
    if (this.errors.length < 50) this.errors.push(message);
  }
}

/**
 * The ready pods of a Service, refreshed every `intervalMs`, handed out round-robin. A failed
 * refresh keeps the last list (the API server may blink while the cluster is busy).
 */
export class ReadyPods {
  private pods: string[] = [];
  private turn = 0;
  private timer: NodeJS.Timeout | undefined;
  refreshErrors = 0;

  constructor(
    private readonly fetch: () => Promise<string[]>,
    private readonly intervalMs = 500,
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    // refresh() counts its own failures: only a bug in it reaches this catch.
    this.timer = setInterval(() => {
      this.refresh().catch((error: unknown) => console.error('ReadyPods: refresh failed', error));
    }, this.intervalMs);
    this.timer.unref();
  }

  async refresh(): Promise<void> {
    try {
      this.pods = await this.fetch();
    } catch {
      this.refreshErrors += 1;
    }
  }

  current(): readonly string[] {
    return this.pods;
  }

  pick(): string | undefined {
    if (this.pods.length === 0) return undefined;
    this.turn = (this.turn + 1) % this.pods.length;
    return this.pods[this.turn];
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
