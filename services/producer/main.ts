/**
 * The producer API process: configuration, Kafka clients, batcher, HTTP and management
 * servers, readiness, and the graceful shutdown of DESIGN.md.
 */
import { loadProducerConfig, type ProducerConfig } from '../common/config';
import { Health } from '../common/health';
import { createProbeKafka, Kafka, kafkaClientConfig, type RetryOptions } from '../common/kafka';
import { Lifecycle, runMain } from '../common/lifecycle';
import { createLogger } from '../common/logger';
import { startManagementServer } from '../common/management';
import { createMetricsRegistry } from '../common/metrics';
import { createApp } from './app';
import { loadApiKeys } from './auth';
import { Batcher } from './batcher';
import { adminMetadataClient, ClusterMonitor } from './cluster-monitor';
import { ApiError } from './errors';
import { mapSendError } from './kafka-errors';
import { KafkaSender } from './kafka-producer';
import { createProducerMetrics } from './metrics';
import { ProduceService } from './produce-service';
import { RecordBuilder } from './records';
import { startHttpServer } from './server';
import { finishRequests } from './shutdown';
import { openApiDocument, RequestValidator } from './validation';

/** Kafka's default max.message.bytes, used until a topic's own value has been read. */
const KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;
const PROBE_INTERVAL_MS = 5_000;
const PROBE_RETRY_INTERVAL_MS = 1_000;
const CONFIG_REFRESH_MS = 60_000;
/**
 * Keyless messages avoid a broker whose send has waited this long (healthy sends take
 * milliseconds; a broker this service cannot reach holds its send until the timeout).
 */
const KEYLESS_AVOIDS_LEADER_AFTER_MS = 1_000;

/**
 * Backoff 100 ms doubling to 1 s, as many retries as fit in PRODUCE_TIMEOUT_MS: a send
 * gives up about when its requests time out, and the next send uses a fresh producer.
 * (kafkajs warns that limited retries weaken idempotence; replacing the producer after
 * a failed send is what keeps that from mattering, see kafka-producer.ts.)
 */
function producerRetry(config: ProducerConfig): RetryOptions {
  const retries = Math.min(60, Math.max(2, Math.ceil(config.PRODUCE_TIMEOUT_MS / 1000)));
  return { retries, initialRetryTime: 100, maxRetryTime: 1000, factor: 0.2, multiplier: 2 };
}

/**
 * Said once at start in place of kafkajs' warning, which it prints for every producer (each
 * leader's, and each replacement). The setting is right: unlimited retries would keep a send
 * retrying long after its request got 503, and its records could then land behind newer ones
 * of the same key.
 */
const LIMITED_RETRIES_REASON =
  'a send retries for about PRODUCE_TIMEOUT_MS, then fails (503, its messages may have been ' +
  'written) and its producer is replaced by one with a new producer id, so no sequence ' +
  'number is reused; within a send the broker still drops duplicates';

runMain('producer', async () => {
  const config = loadProducerConfig();
  const apiKeys = loadApiKeys(config);
  const logger = createLogger({ service: 'producer', level: config.LOG_LEVEL });
  const health = new Health();
  const lifecycle = new Lifecycle({ logger, health, timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
  lifecycle.installSignalHandlers();
  lifecycle.installCrashHandlers();
  const registry = createMetricsRegistry('producer');

  const clientConfig = kafkaClientConfig(config, logger, {
    limitedIdempotentRetries: LIMITED_RETRIES_REASON,
  });
  const sender = new KafkaSender({
    kafka: new Kafka({ ...clientConfig, retry: producerRetry(config) }),
    logger,
    compression: config.PRODUCER_COMPRESSION,
    ackTimeoutMs: Math.min(config.PRODUCE_TIMEOUT_MS, config.KAFKA_REQUEST_TIMEOUT_MS),
    sendTimeoutMs: config.PRODUCE_TIMEOUT_MS,
    retry: producerRetry(config),
  });
  const adminKafka = createProbeKafka(config, logger);

  // The batcher and the monitor refer to each other only in callbacks that run after start-up.
  const batcher: Batcher = new Batcher({
    send: (batches, leader) => sender.send(batches, leader),
    mapError: mapSendError,
    lingerMs: config.BATCH_LINGER_MS,
    maxBatchMessages: config.BATCH_MAX_MESSAGES,
    maxBatchBytes: config.BATCH_MAX_BYTES,
    bufferMaxMessages: config.BUFFER_MAX_MESSAGES,
    bufferMaxBytes: config.BUFFER_MAX_BYTES,
    maxRecordBatchBytes: (topic) =>
      monitor.topicInfo(topic)?.maxMessageBytes ?? KAFKA_DEFAULT_MAX_MESSAGE_BYTES,
    leaderOf: (topic, partition) => monitor.leaderOf(topic, partition),
    requestTimeoutMs: config.PRODUCE_TIMEOUT_MS,
    onBatchSent: (topic, messages) => metrics.observeBatch(topic, messages),
    onSendFailure: (_error, mapped) => {
      // Request-specific failures (422) say nothing about the cluster.
      if (mapped.status >= 500) monitor.probeSoon();
    },
  });
  const metrics = createProducerMetrics(registry, {
    topics: config.TOPICS,
    bufferedMessages: () => batcher.bufferedMessages,
  });
  const monitor: ClusterMonitor = new ClusterMonitor({
    createClient: () => adminMetadataClient(adminKafka),
    topics: config.TOPICS,
    logger,
    intervalMs: PROBE_INTERVAL_MS,
    retryIntervalMs: PROBE_RETRY_INTERVAL_MS,
    probeTimeoutMs: Math.min(config.PRODUCE_TIMEOUT_MS, config.KAFKA_CONNECTION_TIMEOUT_MS + 2000),
    configRefreshMs: CONFIG_REFRESH_MS,
    defaultMaxMessageBytes: KAFKA_DEFAULT_MAX_MESSAGE_BYTES,
    onReachableChange: (reachable) => {
      // Nothing waits for a cluster that is gone: the waiting requests get 503 now.
      if (reachable) return;
      batcher.failAll(
        new ApiError(
          'kafka_unavailable',
          'Kafka became unreachable; the messages may have been written',
        ),
      );
    },
    onProbe: (reachable) => {
      if (reachable && !sender.connected) void sender.connect();
    },
  });

  health
    .addReadinessCheck('kafka', () => ({
      ok: monitor.reachable && sender.hasConnected,
      detail: !monitor.reachable
        ? `unreachable: ${monitor.problem ?? 'unknown'}`
        : sender.connected
          ? 'connected'
          : 'producer connecting',
    }))
    .addReadinessCheck('topics', () => {
      const missing = monitor.missingTopics();
      return {
        ok: missing.length === 0,
        detail: missing.length === 0 ? 'metadata known' : `no metadata for ${missing.join(', ')}`,
      };
    });

  const document = openApiDocument({ maxMessagesPerRequest: config.MAX_MESSAGES_PER_REQUEST });
  const app = createApp({
    producer: new ProduceService({
      topics: config.TOPICS,
      cluster: monitor,
      batcher,
      builder: new RecordBuilder((leader) =>
        batcher.isLeaderStalled(leader, KEYLESS_AVOIDS_LEADER_AFTER_MS),
      ),
      metrics,
    }),
    validator: new RequestValidator(document, config.MAX_MESSAGES_PER_REQUEST),
    openApiDocument: document,
    apiKeys,
    maxBodyBytes: config.MAX_BODY_BYTES,
    metrics,
    logger,
    isShuttingDown: () => health.isShuttingDown,
  });

  const management = await startManagementServer({
    port: config.MANAGEMENT_PORT,
    health,
    registry,
    logger,
  });
  const http = await startHttpServer(app, {
    port: config.HTTP_PORT,
    requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
    headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_MS,
    keepAliveTimeoutMs: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
  });
  monitor.start();
  void sender.connect();

  // Answers to abandoned requests and disconnecting need a little time before the hard deadline.
  const reserveMs = Math.min(3000, Math.floor(config.SHUTDOWN_TIMEOUT_MS / 4));
  lifecycle.onShutdown('http requests in flight', () =>
    finishRequests(http, batcher, config.SHUTDOWN_TIMEOUT_MS - reserveMs, logger),
  );
  lifecycle.onShutdown('kafka producer', () => sender.disconnect());
  lifecycle.onShutdown('cluster monitor', () => monitor.stop());
  lifecycle.onShutdown('management server', () => management.close());

  logger.info(
    {
      port: http.port,
      topics: config.TOPICS,
      authentication: apiKeys ? 'bearer' : 'none',
      compression: config.PRODUCER_COMPRESSION,
      lingerMs: config.BATCH_LINGER_MS,
    },
    'producer API listening',
  );
});
