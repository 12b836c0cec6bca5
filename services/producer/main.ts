/**
 * The producer API process: configuration, the Kafka writer, the HTTP and management
 * servers, readiness, and the graceful shutdown of DESIGN.md.
 */
import { loadProducerConfig } from '../common/config';
import { Health } from '../common/health';
import { createProbeKafka, Kafka, kafkaClientConfig } from '../common/kafka';
import { Lifecycle, runMain } from '../common/lifecycle';
import { createLogger } from '../common/logger';
import { startManagementServer } from '../common/management';
import { createMetricsRegistry } from '../common/metrics';
import { retriesWithin } from '../common/safe-idempotent-writer';
import { createApp } from './app';
import { loadApiKeys } from './auth';
import { KafkaWriter } from './kafka';
import { createProducerMetrics } from './metrics';
import { ProduceService } from './produce-service';
import { startHttpServer } from './server';
import { finishRequests } from './shutdown';
import { openApiDocument, RequestValidator } from './validation';

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
  const metrics = createProducerMetrics(registry, { topics: config.TOPICS });

  const clientConfig = kafkaClientConfig(config, logger, {
    limitedIdempotentRetries: LIMITED_RETRIES_REASON,
  });
  // Backoff 100 ms doubling to 1 s, as many retries as fit in PRODUCE_TIMEOUT_MS: a send gives
  // up about when its requests time out, and the next send uses a fresh producer.
  const retry = retriesWithin(config.PRODUCE_TIMEOUT_MS);
  const writer = new KafkaWriter({
    kafka: new Kafka({ ...clientConfig, retry }),
    probeKafka: createProbeKafka(config, logger),
    seedBrokers: config.KAFKA_BROKERS.length,
    topics: config.TOPICS,
    logger,
    compression: config.PRODUCER_COMPRESSION,
    retry,
    sendTimeoutMs: config.PRODUCE_TIMEOUT_MS,
    ackTimeoutMs: Math.min(config.PRODUCE_TIMEOUT_MS, config.KAFKA_REQUEST_TIMEOUT_MS),
    probeTimeoutMs: Math.min(config.PRODUCE_TIMEOUT_MS, config.KAFKA_CONNECTION_TIMEOUT_MS + 2000),
    lingerMs: config.BATCH_LINGER_MS,
    maxBatchMessages: config.BATCH_MAX_MESSAGES,
    maxBatchBytes: config.BATCH_MAX_BYTES,
    bufferMaxMessages: config.BUFFER_MAX_MESSAGES,
    bufferMaxBytes: config.BUFFER_MAX_BYTES,
    onBatchSent: (topic, messages) => metrics.observeBatch(topic, messages),
  });
  metrics.watchBuffer(() => writer.bufferedMessages);

  health
    .addReadinessCheck('kafka', () => {
      const status = writer.status();
      return {
        ok: status.reachable && status.producerHasConnected,
        detail: !status.reachable
          ? `unreachable: ${status.problem ?? 'unknown'}`
          : status.producerConnected
            ? 'connected'
            : 'producer connecting',
      };
    })
    .addReadinessCheck('topics', () => {
      const missing = writer.status().missingTopics;
      return {
        ok: missing.length === 0,
        detail: missing.length === 0 ? 'metadata known' : `no metadata for ${missing.join(', ')}`,
      };
    });

  const document = openApiDocument({ maxMessagesPerRequest: config.MAX_MESSAGES_PER_REQUEST });
  const app = createApp({
    producer: new ProduceService({
      topics: config.TOPICS,
      writer,
      metrics,
      requestTimeoutMs: config.PRODUCE_TIMEOUT_MS,
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
  writer.start();

  // Answers to abandoned requests and disconnecting need a little time before the hard deadline.
  const reserveMs = Math.min(3000, Math.floor(config.SHUTDOWN_TIMEOUT_MS / 4));
  lifecycle.onShutdown('http requests in flight', () =>
    finishRequests(http, writer, config.SHUTDOWN_TIMEOUT_MS - reserveMs, logger),
  );
  lifecycle.onShutdown('kafka writer', () => writer.close());
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
