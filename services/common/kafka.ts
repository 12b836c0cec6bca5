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

/** The partitioner Java clients use (murmur2), so keys land where other clients put them. */
export const defaultPartitioner = Partitioners.DefaultPartitioner;
