/**
 * Knows whether Kafka answers and what the allowed topics look like (partitions and
 * leaders, max.message.bytes, cleanup.policy), from a small metadata request every few
 * seconds, every second while Kafka is unreachable, and at once when a send failed. Its
 * answer drives readiness and lets writes fail fast instead of waiting for their deadline.
 *
 * One failed probe does not make Kafka unreachable: a metadata client stays with the broker
 * it first reached, so with that one broker down a probe fails while the others serve. The
 * next probe, at once and with a fresh client (which starts from a random seed broker),
 * decides; Kafka is unreachable when `probesBeforeUnreachable` probes in a row failed.
 */
import type { Logger } from '../../common/logger';
import { withTimeout } from '../../common/deadline';
import { Periodic } from '../../common/periodic';
import { isUnknownTopic } from './kafkajs-errors';
import type { MetadataClient } from './kafkajs-metadata';
import type { TopicInfo } from './port';

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
  /** Failed probes in a row that make Kafka unreachable (the seed brokers, at most a few). */
  probesBeforeUnreachable: number;
  /** How often the topics' max.message.bytes and cleanup.policy are read again. */
  configRefreshMs: number;
  /** Used until the topic's configuration has been read (Kafka's default). */
  defaultMaxMessageBytes: number;
}

export interface ClusterListener {
  onReachableChange?(reachable: boolean): void;
  onProbe?(reachable: boolean): void;
}

export class ClusterMonitor {
  private client: MetadataClient | undefined;
  private readonly topics = new Map<string, TopicInfo>();
  private configReadAt = 0;
  private isReachable = false;
  private failedInARow = 0;
  private lastProblem: string | undefined = 'not yet probed';
  private readonly logger: Logger;
  private readonly missingTopicsLogged = new Set<string>();
  private readonly listeners: ClusterListener[] = [];
  private readonly schedule: Periodic;

  constructor(private readonly options: ClusterMonitorOptions) {
    this.logger = options.logger.child({ component: 'cluster-monitor' });
    this.schedule = new Periodic({
      run: () => this.probe(),
      delayAfterRunMs: () => {
        if (this.isReachable && this.failedInARow > 0) return 0;
        return this.isReachable ? options.intervalMs : options.retryIntervalMs;
      },
    });
  }

  listen(listener: ClusterListener): void {
    this.listeners.push(listener);
  }

  get reachable(): boolean {
    return this.isReachable;
  }

  /** The broker leading a partition in the last metadata seen; undefined if unknown. */
  leaderOf(topic: string, partition: number): number | undefined {
    const partitions = this.topics.get(topic)?.partitions;
    const found =
      partitions?.[partition]?.partitionId === partition
        ? partitions[partition]
        : partitions?.find((p) => p.partitionId === partition);
    return found !== undefined && found.leader >= 0 ? found.leader : undefined;
  }

  topicInfo(topic: string): TopicInfo | undefined {
    return this.topics.get(topic);
  }

  /** Allowed topics without metadata. */
  missingTopics(): string[] {
    return this.options.topics.filter((topic) => !this.topics.has(topic));
  }

  get problem(): string | undefined {
    return this.lastProblem;
  }

  start(): void {
    this.schedule.start();
  }

  /** Probes now (e.g. after a failed send); a probe already running is followed by another. */
  probeSoon(): void {
    this.schedule.requestRun();
  }

  async stop(): Promise<void> {
    await this.schedule.stop();
    const client = this.client;
    this.client = undefined;
    await client?.disconnect().catch(() => undefined);
  }

  private async probe(): Promise<void> {
    const client = (this.client ??= this.options.createClient());
    const { probeTimeoutMs } = this.options;
    try {
      await withTimeout(
        this.readMetadata(client),
        probeTimeoutMs,
        `Kafka metadata request took more than ${probeTimeoutMs} ms`,
      );
      this.lastProblem = undefined;
      this.failedInARow = 0;
      this.setReachable(true);
    } catch (error) {
      this.lastProblem = error instanceof Error ? error.message : String(error);
      this.failedInARow += 1;
      // A client that failed may hold half-open connections, or be bound to a broker that is
      // gone: the next probe starts afresh.
      this.client = undefined;
      void client.disconnect().catch(() => undefined);
      if (this.failedInARow >= this.options.probesBeforeUnreachable) this.setReachable(false);
      else this.logger.debug({ problem: this.lastProblem }, 'metadata probe failed; probing again');
    }
    for (const listener of this.listeners) listener.onProbe?.(this.isReachable);
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
    else {
      this.logger.warn(
        { problem: this.lastProblem, failedProbes: this.failedInARow },
        'Kafka is unreachable',
      );
    }
    for (const listener of this.listeners) listener.onReachableChange?.(reachable);
  }
}
