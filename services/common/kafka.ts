/**
 * The one module that knows kafkajs is the Kafka client. Services ask it for clients
 * built from validated configuration; kafkajs' own log lines go to pino. Keeping this
 * seam small is what would let a successor client replace kafkajs.
 */
import {
  Kafka,
  logLevel,
  Partitioners,
  type KafkaConfig,
  type LogEntry,
  type RetryOptions,
  type SASLOptions,
} from 'kafkajs';
import type { Logger } from './logger';
import type { CommonConfig } from './config';

export {
  Kafka,
  Partitioners,
  CompressionTypes,
  KafkaJSError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSNonRetriableError,
  KafkaJSProtocolError,
  KafkaJSConnectionError,
  KafkaJSRequestTimeoutError,
  ConfigResourceTypes,
} from 'kafkajs';
export type {
  Producer,
  Consumer,
  Admin,
  Message,
  RecordMetadata,
  EachBatchPayload,
  KafkaMessage,
  IHeaders,
  PartitionMetadata,
  RetryOptions,
  TopicMessages,
} from 'kafkajs';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** kafkajs logs at info about every (re)connection; those are debug for us. */
function pinoLogCreator(logger: Logger) {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _name, ...extra } = log;
      const target = LEVELS[level] ?? 'debug';
      kafkaLogger[target === 'info' ? 'debug' : target](extra, message);
    };
}

function saslOptions(config: CommonConfig): SASLOptions | undefined {
  const { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD } = config;
  if (mechanism === 'none') return undefined;
  const username = KAFKA_SASL_USERNAME ?? '';
  const password = KAFKA_SASL_PASSWORD ?? '';
  return { mechanism, username, password };
}

export function kafkaClientConfig(config: CommonConfig, logger: Logger): KafkaConfig {
  const sasl = saslOptions(config);
  return {
    clientId: config.KAFKA_CLIENT_ID,
    brokers: config.KAFKA_BROKERS,
    ssl: config.KAFKA_SSL,
    ...(sasl ? { sasl } : {}),
    connectionTimeout: config.KAFKA_CONNECTION_TIMEOUT_MS,
    requestTimeout: config.KAFKA_REQUEST_TIMEOUT_MS,
    logLevel: logLevel.INFO,
    logCreator: pinoLogCreator(logger),
  };
}

export function createKafka(config: CommonConfig, logger: Logger): Kafka {
  return new Kafka(kafkaClientConfig(config, logger));
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
