/**
 * The producer API's way to Kafka, as one piece: the cluster monitor (is Kafka there, what do
 * the topics look like), the placer (each record's partition, checked), the batcher (coalescing,
 * order, the bounded buffer) and the per-leader senders (kafkajs). The HTTP layer sees
 * port.ts and WriteError; it builds records, writes them, and answers.
 */
import type { Kafka, RetryOptions } from '../../common/kafka';
import { runDetached } from '../../common/detached';
import type { Logger } from '../../common/logger';
import { Batcher } from './batcher';
import { ClusterMonitor } from './cluster-monitor';
import { sendFailure } from './kafkajs-errors';
import { adminMetadataClient } from './kafkajs-metadata';
import { murmur2KeyPartitioner } from './kafkajs-partitioner';
import { LeaderSenders } from './leader-senders';
import { RecordPlacer } from './placement';
import type {
  KafkaWriterPort,
  RecordResult,
  TopicInfo,
  WriteOptions,
  WriteRecord,
  WriterLoad,
  WriterStatus,
} from './port';
import { WriteError } from './write-error';

/** Kafka's default max.message.bytes, used until a topic's own value has been read. */
export const KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;
const PROBE_INTERVAL_MS = 5_000;
const PROBE_RETRY_INTERVAL_MS = 1_000;
const CONFIG_REFRESH_MS = 60_000;
/** Failed metadata probes in a row that make Kafka unreachable, at most (see cluster-monitor.ts). */
const MAX_PROBES_BEFORE_UNREACHABLE = 3;
/**
 * Keyless records avoid a broker whose send has waited this long (healthy sends take
 * milliseconds; a broker this service cannot reach holds its send until the timeout).
 */
const KEYLESS_AVOIDS_LEADER_AFTER_MS = 1_000;

export interface KafkaWriterOptions {
  /** The producers' client: retries as `retry` says. */
  kafka: Kafka;
  /** The cluster monitor's client: few retries, it probes again on its own. */
  probeKafka: Kafka;
  /** How many seed brokers the clients know. */
  seedBrokers: number;
  topics: string[];
  logger: Logger;
  compression: 'none' | 'gzip';
  /** kafkajs' retries within one send. */
  retry: RetryOptions;
  /** Hard bound of one Kafka send, and how long the brokers may wait for replicas. */
  sendTimeoutMs: number;
  ackTimeoutMs: number;
  probeTimeoutMs: number;
  lingerMs: number;
  maxBatchMessages: number;
  maxBatchBytes: number;
  bufferMaxMessages: number;
  bufferMaxBytes: number;
  onBatchSent?: (topic: string, messages: number) => void;
}

export class KafkaWriter implements KafkaWriterPort {
  private readonly monitor: ClusterMonitor;
  private readonly senders: LeaderSenders;
  private readonly batcher: Batcher;
  private readonly placer: RecordPlacer;
  private readonly logger: Logger;

  constructor(options: KafkaWriterOptions) {
    this.logger = options.logger;
    this.monitor = new ClusterMonitor({
      createClient: () => adminMetadataClient(options.probeKafka),
      topics: options.topics,
      logger: options.logger,
      intervalMs: PROBE_INTERVAL_MS,
      retryIntervalMs: PROBE_RETRY_INTERVAL_MS,
      probeTimeoutMs: options.probeTimeoutMs,
      probesBeforeUnreachable: Math.min(MAX_PROBES_BEFORE_UNREACHABLE, options.seedBrokers),
      configRefreshMs: CONFIG_REFRESH_MS,
      defaultMaxMessageBytes: KAFKA_DEFAULT_MAX_MESSAGE_BYTES,
    });
    this.senders = new LeaderSenders({
      kafka: options.kafka,
      logger: options.logger,
      compression: options.compression,
      ackTimeoutMs: options.ackTimeoutMs,
      sendTimeoutMs: options.sendTimeoutMs,
      retry: options.retry,
    });
    const monitor = this.monitor;
    this.batcher = new Batcher({
      send: (batches, leader) => this.senders.send(batches, leader),
      sendFailure,
      lingerMs: options.lingerMs,
      maxBatchMessages: options.maxBatchMessages,
      maxBatchBytes: options.maxBatchBytes,
      bufferMaxMessages: options.bufferMaxMessages,
      bufferMaxBytes: options.bufferMaxBytes,
      maxRecordBatchBytes: (topic) =>
        monitor.topicInfo(topic)?.maxMessageBytes ?? KAFKA_DEFAULT_MAX_MESSAGE_BYTES,
      leaderOf: (topic, partition) => monitor.leaderOf(topic, partition),
      ...(options.onBatchSent ? { onBatchSent: options.onBatchSent } : {}),
      onSendFailure: (failure) => {
        // Request-specific failures say nothing about the cluster.
        if (!failure.requestSpecific) monitor.probeSoon();
      },
    });
    const batcher = this.batcher;
    this.placer = new RecordPlacer(murmur2KeyPartitioner(), (leader) =>
      batcher.isLeaderStalled(leader, KEYLESS_AVOIDS_LEADER_AFTER_MS),
    );
    const senders = this.senders;
    monitor.listen({
      onReachableChange: (reachable) => {
        // Nothing waits for a cluster that is gone: the waiting writes fail now.
        if (reachable) return;
        batcher.failAll(
          new WriteError(
            'unavailable',
            'Kafka became unreachable; the messages may have been written',
            true,
          ),
        );
      },
      onProbe: (reachable) => {
        if (reachable && !senders.connected) {
          runDetached(senders.connect(), options.logger, 'connecting a Kafka producer');
        }
      },
    });
  }

  /** Starts watching the cluster and connects the first producer. */
  start(): void {
    this.monitor.start();
    runDetached(this.senders.connect(), this.logger, 'connecting a Kafka producer');
  }

  get reachable(): boolean {
    return this.monitor.reachable;
  }

  topicInfo(topic: string): TopicInfo | undefined {
    return this.monitor.topicInfo(topic);
  }

  get bufferedMessages(): number {
    return this.batcher.bufferedMessages;
  }

  status(): WriterStatus {
    return {
      reachable: this.monitor.reachable,
      problem: this.monitor.problem,
      producerConnected: this.senders.connected,
      producerHasConnected: this.senders.hasConnected,
      missingTopics: this.monitor.missingTopics(),
    };
  }

  load(): WriterLoad {
    return this.batcher.load();
  }

  write(topic: string, records: WriteRecord[], options: WriteOptions): Promise<RecordResult[]> {
    try {
      if (!this.monitor.reachable) {
        throw new WriteError('unavailable', 'Kafka is unreachable; retry later', false);
      }
      const info = this.monitor.topicInfo(topic);
      if (!info) {
        throw new WriteError(
          'topic_unavailable',
          `the metadata of topic ${topic} is not known yet`,
          false,
        );
      }
      return this.batcher.submit(topic, this.placer.place(topic, info, records), options.signal);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /** Sends what is queued at once from now on; resolves when nothing waits for Kafka. */
  drain(): Promise<void> {
    return this.batcher.drain();
  }

  /** Fails every write still waiting, and every later one, with `closed`. */
  abandon(message: string): void {
    this.batcher.close(new WriteError('closed', message, true));
  }

  /** Disconnects from Kafka. */
  async close(): Promise<void> {
    await this.senders.disconnect();
    await this.monitor.stop();
  }
}
