/**
 * The consumer service: reads the configured topics in consumer group CONSUMER_GROUP_ID,
 * hands each message to the handler (at least once, in order per partition), dead-letters
 * what cannot be processed, and reports lag and health on the management port.
 *
 * The composition root: the product modules (processor, dead-letter, lag monitor) see only
 * the types of port.ts and message.ts; the kafkajs clients are built here and handed to the
 * kafkajs-*.ts adapters.
 */
import { loadConsumerConfig } from '../common/config';
import { Health } from '../common/health';
import { createKafka, createProbeKafka, createRecordTimestampReader } from '../common/kafka';
import { Lifecycle, runMain } from '../common/lifecycle';
import { createLogger } from '../common/logger';
import { startManagementServer } from '../common/management';
import { createMetricsRegistry } from '../common/metrics';
import { retriesWithin, SafeIdempotentWriter } from '../common/safe-idempotent-writer';
import { loadHandler } from './handler-loader';
import { DeadLetterPublisher } from './kafkajs-dead-letters';
import { kafkajsLagAdmin } from './kafkajs-lag-admin';
import { ConsumerRunner } from './kafkajs-runner';
import { LagMonitor } from './lag-monitor';
import { createConsumerMetrics } from './metrics';
import { MessageProcessor } from './processor';
import { backoffDelay, sleep } from './retry';

/**
 * Said once at start in place of kafkajs' warning about the dead-letter writer's limited
 * retries (retriesWithin), which kafkajs prints for every producer, each replacement too.
 * The setting is right: a write must end within DLQ_WRITE_TIMEOUT_MS so that the partition
 * can pause and try again; with unlimited retries kafkajs would go on retrying a write the
 * processor already gave up on.
 */
const DEAD_LETTER_RETRIES_REASON =
  'a dead-letter write retries for about DLQ_WRITE_TIMEOUT_MS, then fails and its producer is ' +
  'replaced by one with a new producer id, so no sequence number is reused; the partition ' +
  'pauses and the letter is written again, and nothing behind it is committed meanwhile';

runMain('consumer', async () => {
  const config = loadConsumerConfig();
  const handler = await loadHandler(config.HANDLER_MODULE);
  const logger = createLogger({ service: 'consumer', level: config.LOG_LEVEL });
  const health = new Health();
  const lifecycle = new Lifecycle({ logger, health, timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
  const stopping = new AbortController();
  lifecycle.onShutdown('stop starting', async () => stopping.abort());
  lifecycle.installSignalHandlers();
  lifecycle.installCrashHandlers();

  const registry = createMetricsRegistry('consumer');
  const metrics = createConsumerMetrics(registry, config.TOPICS);
  const kafka = createKafka(config, logger, {
    limitedIdempotentRetries: DEAD_LETTER_RETRIES_REASON,
  });
  const probeKafka = createProbeKafka(config, logger);
  const backoff = {
    initialMs: config.HANDLER_RETRY_BACKOFF_MS,
    maxMs: config.HANDLER_RETRY_BACKOFF_MAX_MS,
  };

  // A write that outlives DLQ_WRITE_TIMEOUT_MS fails and its producer is replaced; the
  // processor then pauses the partition and writes the letter again.
  const deadLetterWriter = new SafeIdempotentWriter({
    kafka,
    logger: logger.child({ component: 'dead-letter-writer' }),
    retry: retriesWithin(config.DLQ_WRITE_TIMEOUT_MS),
    sendTimeoutMs: config.DLQ_WRITE_TIMEOUT_MS,
  });
  const processor = new MessageProcessor({
    handler,
    deadLetters: new DeadLetterPublisher({
      writer: deadLetterWriter,
      topic: config.DLQ_TOPIC,
      consumerGroup: config.CONSUMER_GROUP_ID,
      ackTimeoutMs: Math.min(config.DLQ_WRITE_TIMEOUT_MS, config.KAFKA_REQUEST_TIMEOUT_MS),
    }),
    metrics,
    logger,
    maxRetries: config.HANDLER_MAX_RETRIES,
    backoff,
    deadLetterTimeoutMs: config.DLQ_WRITE_TIMEOUT_MS,
  });
  const lagMonitor = new LagMonitor({
    // Its own client retries little: a failed refresh is tried again at the next interval,
    // and failing fast is what lets readiness follow a lost cluster within seconds.
    admin: kafkajsLagAdmin(probeKafka),
    reader: createRecordTimestampReader(probeKafka),
    groupId: config.CONSUMER_GROUP_ID,
    topics: config.TOPICS,
    intervalMs: config.LAG_REFRESH_INTERVAL_MS,
    metrics,
    logger,
  });
  const runner = new ConsumerRunner({
    kafka,
    logger,
    metrics,
    processor,
    groupId: config.CONSUMER_GROUP_ID,
    topics: config.TOPICS,
    partitionsConsumedConcurrently: config.PARTITIONS_CONSUMED_CONCURRENTLY,
    sessionTimeoutMs: config.SESSION_TIMEOUT_MS,
    heartbeatIntervalMs: config.HEARTBEAT_INTERVAL_MS,
    commitIntervalMs: config.COMMIT_INTERVAL_MS,
    // At least 1 s between attempts: a write that fails at once must not spin.
    blockedBackoff: {
      initialMs: Math.max(backoff.initialMs, 1000),
      maxMs: Math.max(backoff.maxMs, 1000),
    },
    onOffsetsCommitted: () => lagMonitor.refreshSoon(),
  });
  health.addReadinessCheck('kafka-consumer', () => runner.readiness());
  health.addReadinessCheck('kafka-reachable', () => lagMonitor.readiness());
  health.addLivenessCheck('kafka-consumer', () => runner.liveness());

  // Shutdown order: stop consuming (commit, leave the group), then the clients it used.
  lifecycle.onShutdown('consumer', () => runner.stop());
  lifecycle.onShutdown('lag monitor', () => lagMonitor.stop());
  lifecycle.onShutdown('dead-letter producer', () => deadLetterWriter.disconnect());
  const management = await startManagementServer({
    port: config.MANAGEMENT_PORT,
    health,
    registry,
    logger,
  });
  lifecycle.onShutdown('management server', () => management.close());

  lagMonitor.start();
  // Kafka may not be reachable yet: keep trying (not ready meanwhile) instead of exiting.
  for (let attempt = 1; !stopping.signal.aborted; attempt += 1) {
    try {
      await deadLetterWriter.connect();
      await runner.start();
      logger.info(
        {
          topics: config.TOPICS,
          groupId: config.CONSUMER_GROUP_ID,
          deadLetterTopic: config.DLQ_TOPIC,
        },
        'consumer started',
      );
      return;
    } catch (error) {
      const retryInMs = backoffDelay(attempt, { initialMs: 1000, maxMs: 30_000 });
      logger.warn({ err: error, attempt, retryInMs }, 'could not start consuming; retrying');
      await sleep(retryInMs, stopping.signal);
    }
  }
});
