/**
 * The system a demo runs on: the harness Kafka with the topics of `npm run local`, the
 * producer API, and consumer instances in the group `event-consumer` whose handler records
 * what it processed. The services log to files under reports/demo-logs/, so that the
 * terminal shows only the story. stop() stops the services (SIGTERM), then Kafka.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type KafkaCluster } from '../kafka/harness';
import { startLocalKafka } from '../system/local-system';
import { startService, waitUntilReady, type RunningService } from '../lib/services';
import { freePorts } from '../lib/ports';
import { repoRoot } from '../lib/root';

export interface DemoSystemOptions {
  demo: string;
  brokers: 1 | 3;
  port: number | undefined;
  apiPort: number | undefined;
  /** Consumer instances the demo may start; each gets a management port now. */
  maxConsumers: number;
}

export class DemoSystem {
  readonly consumers = new Map<string, RunningService>();
  private producer: RunningService | undefined;
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly cluster: KafkaCluster,
    readonly logDir: string,
    private readonly ports: number[],
  ) {}

  static async start(options: DemoSystemOptions): Promise<DemoSystem> {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const logDir = join(
      repoRoot(),
      'reports',
      'demo-logs',
      `${options.demo}-${stamp}-${process.pid}`,
    );
    mkdirSync(logDir, { recursive: true });
    const portCount = 2 + options.maxConsumers;
    const ports =
      options.apiPort === undefined
        ? await freePorts(portCount)
        : Array.from({ length: portCount }, (_, i) => (options.apiPort ?? 0) + i);
    const cluster = await startLocalKafka({
      brokers: options.brokers,
      port: options.port,
      avoidPorts: ports,
      log: () => undefined,
    });
    return new DemoSystem(cluster, logDir, ports);
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.ports[0]}`;
  }

  /** Addresses of the brokers that run now (a client given a dead one first wastes a timeout). */
  liveBrokers(): string[] {
    return this.cluster
      .nodes()
      .filter((n) => n.running)
      .map((n) => `127.0.0.1:${n.port}`);
  }

  async startProducer(): Promise<RunningService> {
    const producer = startService('producer', {
      env: {
        KAFKA_BROKERS: this.cluster.bootstrap,
        KAFKA_CLIENT_ID: 'producer-api',
        HTTP_PORT: String(this.ports[0]),
      },
      managementPort: this.ports[1] ?? 0,
      output: join(this.logDir, 'producer.log'),
      baseEnv: 'inherit',
      detached: true,
      label: 'producer API',
    });
    this.producer = producer;
    await waitUntilReady(producer);
    return producer;
  }

  /** Starts instance `label` (its Kafka client id too) and waits until it is in the group. */
  async startConsumer(label: string, env: Record<string, string> = {}): Promise<RunningService> {
    const index = this.consumers.size;
    const port = this.ports[2 + index];
    if (port === undefined) throw new Error(`no port left for consumer ${label}`);
    const consumer = startService('consumer', {
      env: {
        KAFKA_BROKERS: this.cluster.bootstrap,
        KAFKA_CLIENT_ID: label,
        HANDLER_MODULE: join(__dirname, 'recording-handler.js'),
        DEMO_PROCESSED_FILE: this.processedFile(label),
        ...env,
      },
      managementPort: port,
      output: join(this.logDir, `${label}.log`),
      baseEnv: 'inherit',
      detached: true,
      label,
    });
    this.consumers.set(label, consumer);
    await waitUntilReady(consumer);
    return consumer;
  }

  processedFile(label: string): string {
    return join(this.logDir, `processed-${label}.tsv`);
  }

  processedFiles(): string[] {
    return [...this.consumers.keys()].map((label) => this.processedFile(label));
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const services = [...this.consumers.values(), ...(this.producer ? [this.producer] : [])];
      await Promise.all(services.map((service) => service.stop('SIGTERM')));
      await this.cluster.stop();
    })();
    return this.stopping;
  }
}
