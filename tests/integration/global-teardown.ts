/** Stops the Kafka the global setup started (none when KAFKA_BROKERS named a cluster). */
import type { HarnessGlobals } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const globals = globalThis as HarnessGlobals;
  const cluster = globals.__KAFKA_HARNESS_CLUSTER__;
  if (cluster === undefined) return;
  const started = performance.now();
  await cluster.stop();
  delete globals.__KAFKA_HARNESS_CLUSTER__;
  // The variables described a cluster that is gone; a later jest project must not use them.
  delete process.env.KAFKA_BROKERS;
  delete process.env.KAFKA_HARNESS_LOG;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    `integration tests: Kafka stopped in ${seconds} s (logs: ${cluster.logFile})\n`,
  );
}
