/**
 * The one module that knows kafkajs is the Kafka client. Services ask it for clients
 * built from validated configuration; kafkajs' own log lines go to pino, at the levels of
 * kafka-log-levels.ts, and what they say about each broker's reachability is logged once per
 * change (broker-reachability.ts). Keeping this seam small is what would let a successor
 * client replace kafkajs.
 */
import {
  Kafka,
  logLevel,
  Partitioners,
  type ISocketFactory,
  type KafkaConfig,
  type LogEntry,
  type logCreator,
  type RetryOptions,
  type SASLOptions,
} from 'kafkajs';
import createKafkajsSocketFactory from 'kafkajs/src/network/socketFactory';
import { BrokerReachability, type BrokerChange } from './broker-reachability';
import { kafkaLogVerdict, LIMITED_RETRIES_WARNING, type KafkaLogLevel } from './kafka-log-levels';
import type { Logger } from './logger';
import type { CommonConfig } from './config';

export { Kafka, CompressionTypes, ConfigResourceTypes } from 'kafkajs';
export type {
  Producer,
  ProducerConfig,
  ConsumerConfig,
  RecordMetadata,
  Consumer,
  EachBatchPayload,
  KafkaMessage,
  RetryOptions,
  TopicMessages,
} from 'kafkajs';

const LEVELS: Record<number, KafkaLogLevel> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * Connections to a broker that still fail after this long are an error: a broker restart
 * or a leader moving takes less; a broker this service needs and cannot reach for a minute
 * is a problem for someone to look at.
 */
export const BROKER_UNREACHABLE_ERROR_AFTER_MS = 60_000;

/** What the Kafka clients of one service logger share. */
interface KafkaLogSink {
  /** kafkajs' own lines. */
  readonly kafkajs: Logger;
  /** Our lines about the brokers. */
  readonly logger: Logger;
  readonly brokers: BrokerReachability;
  limitedRetriesExplained: boolean;
}

/** One per service logger: every client of a process (producers, admin, consumer) adds evidence. */
const sinks = new WeakMap<Logger, KafkaLogSink>();

function sinkFor(logger: Logger): KafkaLogSink {
  let sink = sinks.get(logger);
  if (!sink) {
    sink = {
      kafkajs: logger.child({ component: 'kafkajs' }),
      logger,
      brokers: new BrokerReachability({ escalateAfterMs: BROKER_UNREACHABLE_ERROR_AFTER_MS }),
      limitedRetriesExplained: false,
    };
    sinks.set(logger, sink);
  }
  return sink;
}

function logBrokerChange(logger: Logger, change: BrokerChange | undefined): void {
  if (!change) return;
  switch (change.kind) {
    case 'unreachable':
      logger.warn(
        { broker: change.broker, error: change.error },
        'Kafka broker unreachable; kafkajs keeps trying (each attempt at debug)',
      );
      return;
    case 'still-unreachable':
      logger.error(
        {
          broker: change.broker,
          error: change.error,
          downForMs: change.downForMs,
          failedAttempts: change.failedAttempts,
        },
        'Kafka broker still unreachable',
      );
      return;
    case 'reachable-again':
      logger.info(
        {
          broker: change.broker,
          downForMs: change.downForMs,
          failedAttempts: change.failedAttempts,
        },
        'Kafka broker reachable again',
      );
      return;
  }
}

export interface KafkaClientOptions {
  /**
   * Why this client's idempotent producers may run out of retries. kafkajs' warning
   * LIMITED_RETRIES_WARNING (printed for every such producer) is then debug, and this reason
   * is logged once at info in its place. Without it the warning stays a warning.
   */
  limitedIdempotentRetries?: string;
}

/**
 * kafkajs' entries at the levels of kafka-log-levels.ts; the brokers' reachability they
 * reveal as one line per change. kafkajs logs only from info up here (logLevel below), so
 * this runs for rare entries, never per request.
 */
function pinoLogCreator(sink: KafkaLogSink, options: KafkaClientOptions): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _name, ...fields } = log;
      const verdict = kafkaLogVerdict({
        namespace,
        level: LEVELS[level] ?? 'debug',
        message,
        fields,
      });
      let target = verdict.level;
      if (verdict.limitedIdempotentRetries && options.limitedIdempotentRetries !== undefined) {
        target = 'debug';
        if (!sink.limitedRetriesExplained) {
          sink.limitedRetriesExplained = true;
          sink.logger.info(
            `kafkajs warns "${LIMITED_RETRIES_WARNING}"; intended here: ${options.limitedIdempotentRetries}`,
          );
        }
      }
      if (verdict.brokerFailed) {
        const { broker, error } = verdict.brokerFailed;
        logBrokerChange(sink.logger, sink.brokers.failed(broker, error));
      }
      if (verdict.brokerAnswered) {
        logBrokerChange(sink.logger, sink.brokers.answered(verdict.brokerAnswered));
      }
      sink.kafkajs[target](fields, message);
    };
}

const kafkajsSocketFactory = createKafkajsSocketFactory();

/**
 * kafkajs' own sockets, each watched for the first bytes the broker sends on it (its answer
 * to the first request): the evidence that a broker is reachable again, which kafkajs only
 * logs at debug. kafkajs adds its own 'data' listener synchronously after the factory returns,
 * so this one neither starts the flow early nor misses data; it is gone after one chunk.
 */
export function answerWatchingSocketFactory(
  onAnswer: (broker: string) => void,
  base: ISocketFactory = kafkajsSocketFactory,
): ISocketFactory {
  return (args) => {
    const socket = base(args);
    socket.once('data', () => onAnswer(`${args.host}:${args.port}`));
    return socket;
  };
}

function saslOptions(config: CommonConfig): SASLOptions | undefined {
  const { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD } = config;
  if (mechanism === 'none') return undefined;
  const username = KAFKA_SASL_USERNAME ?? '';
  const password = KAFKA_SASL_PASSWORD ?? '';
  return { mechanism, username, password };
}

export function kafkaClientConfig(
  config: CommonConfig,
  logger: Logger,
  options: KafkaClientOptions = {},
): KafkaConfig {
  const sasl = saslOptions(config);
  const sink = sinkFor(logger);
  return {
    clientId: config.KAFKA_CLIENT_ID,
    brokers: config.KAFKA_BROKERS,
    ssl: config.KAFKA_SSL,
    ...(sasl ? { sasl } : {}),
    connectionTimeout: config.KAFKA_CONNECTION_TIMEOUT_MS,
    requestTimeout: config.KAFKA_REQUEST_TIMEOUT_MS,
    logLevel: logLevel.INFO,
    logCreator: pinoLogCreator(sink, options),
    socketFactory: answerWatchingSocketFactory((broker) =>
      logBrokerChange(sink.logger, sink.brokers.answered(broker)),
    ),
  };
}

export function createKafka(
  config: CommonConfig,
  logger: Logger,
  options: KafkaClientOptions = {},
): Kafka {
  return new Kafka(kafkaClientConfig(config, logger, options));
}

/**
 * Retries of a client whose job is to notice quickly that Kafka is gone (the producer's
 * cluster monitor, the consumer's lag monitor): they probe again on their own schedule, and
 * kafkajs' default retries would hide a lost cluster for 10 s or more.
 */
export const PROBE_RETRY: RetryOptions = { retries: 1, initialRetryTime: 100, maxRetryTime: 500 };

export function createProbeKafka(config: CommonConfig, logger: Logger): Kafka {
  return new Kafka({ ...kafkaClientConfig(config, logger), retry: PROBE_RETRY });
}

/** The partitioner Java clients use (murmur2), so keys land where other clients put them. */
export const defaultPartitioner = Partitioners.DefaultPartitioner;

/**
 * Reads the timestamp of the record at an offset, without a consumer group: the
 * consumer's time lag is the age of the record at the committed offset. kafkajs has
 * no public group-less fetch, so this uses its internal cluster client (stable: 2.2.4
 * is kafkajs' final release). With a successor client this is assign + fetch of one
 * record. The fetch asks for 1 byte; the broker still returns the first whole record
 * batch (KIP-74), which holds the record.
 */
export interface RecordTimestampReader {
  /** Timestamp (ms) of the first record at or after `offset`; undefined if there is none yet. */
  timestampAt(topic: string, partition: number, offset: string): Promise<number | undefined>;
  disconnect(): Promise<void>;
}

/** The parts of kafkajs' internal cluster and broker objects that the reader uses. */
interface InternalFetchedMessage {
  offset: string;
  timestamp: string;
}
interface InternalBroker {
  fetch(request: {
    replicaId: number;
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: Array<{
      topic: string;
      partitions: Array<{ partition: number; fetchOffset: string; maxBytes: number }>;
    }>;
  }): Promise<{
    responses: Array<{ partitions: Array<{ messages: InternalFetchedMessage[] }> }>;
  }>;
}
interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  isConnected(): boolean;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadata(): Promise<void>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(options: { nodeId: string }): Promise<InternalBroker>;
}
type CreateCluster = (options: { allowAutoTopicCreation: boolean }) => InternalCluster;

const READ_COMMITTED = 1;
const CONSUMER_REPLICA_ID = -1;

export function createRecordTimestampReader(kafka: Kafka): RecordTimestampReader {
  const symbol = Object.getOwnPropertySymbols(kafka).find(
    (candidate) => candidate.description === 'private:Kafka:createCluster',
  );
  const create = symbol && (kafka as unknown as Record<symbol, CreateCluster | undefined>)[symbol];
  if (!create) throw new Error('this kafkajs version has no internal cluster factory');
  const cluster = create.call(kafka, { allowAutoTopicCreation: false });

  const fetchFirst = async (topic: string, partition: number, offset: string) => {
    if (!cluster.isConnected()) await cluster.connect();
    await cluster.addTargetTopic(topic);
    const [leader] = Object.keys(cluster.findLeaderForPartitions(topic, [partition]));
    if (leader === undefined) throw new Error(`no leader for ${topic}/${partition}`);
    const broker = await cluster.findBroker({ nodeId: leader });
    const response = await broker.fetch({
      replicaId: CONSUMER_REPLICA_ID,
      isolationLevel: READ_COMMITTED,
      maxWaitTime: 0,
      minBytes: 1,
      maxBytes: 1,
      topics: [{ topic, partitions: [{ partition, fetchOffset: offset, maxBytes: 1 }] }],
    });
    const messages = response.responses[0]?.partitions[0]?.messages ?? [];
    const wanted = BigInt(offset);
    // A batch may start before the requested offset.
    const record = messages.find((message) => BigInt(message.offset) >= wanted);
    return record === undefined ? undefined : Number(record.timestamp);
  };

  return {
    timestampAt: async (topic, partition, offset) => {
      try {
        return await fetchFirst(topic, partition, offset);
      } catch (error) {
        // A moved leader or a deleted segment: the next call starts from fresh metadata.
        await cluster.refreshMetadata().catch(() => undefined);
        throw error;
      }
    },
    disconnect: () => cluster.disconnect(),
  };
}
