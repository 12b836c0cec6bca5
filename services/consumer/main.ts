// Placeholder entry point; the consumer service is being built in issue 4.
import { createLogger } from '../common/logger';
import { Health } from '../common/health';
import { Lifecycle, runMain } from '../common/lifecycle';
import { loadConsumerConfig } from '../common/config';
import { createMetricsRegistry } from '../common/metrics';
import { startManagementServer } from '../common/management';

runMain('consumer', async () => {
  const config = loadConsumerConfig();
  const logger = createLogger({ service: 'consumer', level: config.LOG_LEVEL });
  const health = new Health();
  const lifecycle = new Lifecycle({ logger, health, timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
  lifecycle.installSignalHandlers();
  lifecycle.installCrashHandlers();
  const management = await startManagementServer({
    port: config.MANAGEMENT_PORT,
    health,
    registry: createMetricsRegistry('consumer'),
    logger,
  });
  lifecycle.onShutdown('management server', () => management.close());
  logger.info('consumer started');
});
