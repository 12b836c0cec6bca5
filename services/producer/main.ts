// Placeholder entry point; the producer service is being built in issue 3.
import { createLogger } from '../common/logger';
import { Health } from '../common/health';
import { Lifecycle, runMain } from '../common/lifecycle';
import { loadProducerConfig } from '../common/config';
import { createMetricsRegistry } from '../common/metrics';
import { startManagementServer } from '../common/management';

runMain('producer', async () => {
  const config = loadProducerConfig();
  const logger = createLogger({ service: 'producer', level: config.LOG_LEVEL });
  const health = new Health();
  const lifecycle = new Lifecycle({ logger, health, timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
  lifecycle.installSignalHandlers();
  lifecycle.installCrashHandlers();
  const management = await startManagementServer({
    port: config.MANAGEMENT_PORT,
    health,
    registry: createMetricsRegistry('producer'),
    logger,
  });
  lifecycle.onShutdown('management server', () => management.close());
  logger.info('producer started');
});
