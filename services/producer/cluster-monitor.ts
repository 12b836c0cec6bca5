/**
 * Knows whether Kafka answers and what the allowed topics look like (partitions and
 * leaders, max.message.bytes, cleanup.policy), from a small metadata request every few seconds, every
 * second while Kafka is unreachable, and at once when a send failed. Its answer drives
 * readiness and lets requests fail fast with 503 instead of waiting for a timeout.
 */
import { ConfigResourceTypes, type Kafka, type PartitionMetadata } from '../common/kafka';
import type { Logger } from '../common/logger';
import { isUnknownTopic } from './kafka-errors';
import type { TopicInfo } from './records';

/** The topic settings that decide whether a record can be written. */
export interface TopicConfig {
  maxMessageBytes: number;
  /** cleanup.policy includes compact: the broker refuses records without a key. */
  compacted: boolean;
}

export interface MetadataClient {
  fetchPartitions(topic: string): Promise<PartitionMetadata[]>;
  fetchTopicConfigs(topics: string[]): Promise<Map<string, TopicConfig>>;
  disconnect(): Promise<void>;
}

/** A kafkajs admin client. `kafka` should retry little: the monitor retries on its own. */
export function adminMetadataClient(kafka: Kafka): MetadataClient {
  const admin = kafka.admin();
  let connecting: Promise<void> | undefined;
  const connected = () => (connecting ??= admin.connect());
  return {
    async fetchPartitions(topic) {
      await connected();
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const found = topics.find((candidate) => candidate.name === topic);
      if (!found) throw new Error(`no metadata for topic ${topic}`);
      return found.partitions;
    },
    async fetchTopicConfigs(topics) {
      await connected();
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: topics.map((name) => ({
          type: ConfigResourceTypes.TOPIC,
          name,
          configNames: ['max.message.bytes', 'cleanup.policy'],
        })),
      });
      const result = new Map<string, TopicConfig>();
      for (const resource of resources) {
        if (resource.errorCode !== 0) continue;
        const value = (name: string) =>
          resource.configEntries.find((entry) => entry.configName === name)?.configValue ?? '';
        const maxMessageBytes = Number(value('max.message.bytes'));
        if (!Number.isInteger(maxMessageBytes) || maxMessageBytes <= 0) continue;
        const compacted = value('cleanup.policy').split(',').includes('compact');
        result.set(resource.resourceName, { maxMessageBytes, compacted });
      }
      return result;
    },
    disconnect: () => admin.disconnect(),
  };
}

export interface ClusterMonitorOptions {
  createClient: () => MetadataClient;
  topics: string[];
  logger: Logger;
  /** Between probes while Kafka answers. */
  intervalMs: number;
  /** Between probes while it does not. */
  retryIntervalMs: number;
  /** A probe that takes longer counts as failed. */
  probeTimeoutMs: number;
  /** How often the topics' max.message.bytes and cleanup.policy are read again. */
  configRefreshMs: number;
  /** Used until the topic's configuration has been read (Kafka's default). */
  defaultMaxMessageBytes: number;
  onReachableChange?: (reachable: boolean) => void;
  onProbe?: (reachable: boolean) => void;
}

class ProbeTimeout extends Error {
  constructor(ms: number) {
    super(`Kafka metadata request took more than ${ms} ms`);
  }
}

export class ClusterMonitor {
  private client: MetadataClient | undefined;
  private readonly topics = new Map<string, TopicInfo>();
  private configReadAt = 0;
  private isReachable = false;
  private lastProblem: string | undefined = 'not yet probed';
  private timer: NodeJS.Timeout | undefined;
  private probing: Promise<void> | undefined;
  private probeAgain = false;
  private stopped = false;
  private readonly logger: Logger;
  private readonly missingTopicsLogged = new Set<string>();

  constructor(private readonly options: ClusterMonitorOptions) {
    this.logger = options.logger.child({ component: 'cluster-monitor' });
  }

  get reachable(): boolean {
    return this.isReachable;
  }

  /** The broker leading a partition in the last metadata seen; undefined if unknown. */
  leaderOf(topic: string, partition: number): number | undefined {
    const partitions = this.topicInfo(topic)?.partitions;
    const found =
      partitions?.[partition]?.partitionId === partition
        ? partitions[partition]
        : partitions?.find((p) => p.partitionId === partition);
    return found !== undefined && found.leader >= 0 ? found.leader : undefined;
  }

  topicInfo(topic: string): TopicInfo | undefined {
    return this.topics.get(topic);
  }

  /** Readiness detail: which allowed topics have no metadata, and the last problem. */
  missingTopics(): string[] {
    return this.options.topics.filter((topic) => !this.topics.has(topic));
  }

  get problem(): string | undefined {
    return this.lastProblem;
  }

  start(): void {
    this.probeSoon();
  }

  /** Probes now (e.g. after a failed send); a probe already running is followed by another. */
  probeSoon(): void {
    if (this.stopped) return;
    if (this.probing) {
      this.probeAgain = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    this.probing = this.probe().finally(() => {
      this.probing = undefined;
      if (this.stopped) return;
      if (this.probeAgain) {
        this.probeAgain = false;
        this.probeSoon();
        return;
      }
      const wait = this.isReachable ? this.options.intervalMs : this.options.retryIntervalMs;
      this.timer = setTimeout(() => this.probeSoon(), wait);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.probing?.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    await client?.disconnect().catch(() => undefined);
  }

  private async probe(): Promise<void> {
    const client = (this.client ??= this.options.createClient());
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.readMetadata(client),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new ProbeTimeout(this.options.probeTimeoutMs)),
            this.options.probeTimeoutMs,
          );
        }),
      ]);
      this.lastProblem = undefined;
      this.setReachable(true);
    } catch (error) {
      this.lastProblem = error instanceof Error ? error.message : String(error);
      // A client that failed may hold half-open connections: start the next probe afresh.
      this.client = undefined;
      void client.disconnect().catch(() => undefined);
      this.setReachable(false);
    } finally {
      clearTimeout(timer);
    }
    this.options.onProbe?.(this.isReachable);
  }

  private async readMetadata(client: MetadataClient): Promise<void> {
    const outcomes = await Promise.allSettled(
      this.options.topics.map((topic) => client.fetchPartitions(topic)),
    );
    let answered = false;
    let failure: unknown;
    outcomes.forEach((outcome, index) => {
      const topic = this.options.topics[index] as string;
      if (outcome.status === 'fulfilled') {
        answered = true;
        const partitions = [...outcome.value].sort((a, b) => a.partitionId - b.partitionId);
        const known = this.topics.get(topic);
        this.topics.set(topic, {
          partitions,
          maxMessageBytes: known?.maxMessageBytes ?? this.options.defaultMaxMessageBytes,
          compacted: known?.compacted ?? false,
        });
        this.missingTopicsLogged.delete(topic);
      } else if (isUnknownTopic(outcome.reason)) {
        answered = true;
        this.topics.delete(topic);
        if (!this.missingTopicsLogged.has(topic)) {
          this.missingTopicsLogged.add(topic);
          this.logger.warn({ topic }, 'allowed topic does not exist in Kafka');
        }
      } else {
        failure = outcome.reason;
      }
    });
    if (!answered) throw failure;
    if (Date.now() - this.configReadAt >= this.options.configRefreshMs) {
      await this.readConfigs(client);
    }
  }

  private async readConfigs(client: MetadataClient): Promise<void> {
    const known = [...this.topics.keys()];
    if (known.length === 0) return;
    try {
      const configs = await client.fetchTopicConfigs(known);
      for (const [topic, config] of configs) {
        const info = this.topics.get(topic);
        if (info) this.topics.set(topic, { ...info, ...config });
      }
      this.configReadAt = Date.now();
    } catch (error) {
      this.configReadAt = Date.now();
      // Not fatal: the broker default stands in, and the batcher isolates a record the
      // broker refuses.
      this.logger.warn({ err: error }, 'could not read the configuration of the topics');
    }
  }

  private setReachable(reachable: boolean): void {
    if (reachable === this.isReachable) return;
    this.isReachable = reachable;
    if (reachable) this.logger.info('Kafka is reachable');
    else this.logger.warn({ problem: this.lastProblem }, 'Kafka is unreachable');
    this.options.onReachableChange?.(reachable);
  }
}
