/**
 * Jest global setup of the integration project. With KAFKA_BROKERS set, the tests use that
 * cluster and nothing is started. Otherwise one single-node Kafka is started on free ports
 * and its address exported as KAFKA_BROKERS (and its log file as KAFKA_HARNESS_LOG) before
 * any test file runs: test workers and the processes tests spawn inherit both.
 */
import { KAFKA_VERSION, startKafka, type KafkaCluster } from '../../scripts/kafka/harness';

// Jest runs the global setup and teardown in the same context: this is how the teardown
// finds the cluster to stop.
export interface HarnessGlobals {
  __KAFKA_HARNESS_CLUSTER__?: KafkaCluster;
}

export default async function globalSetup(): Promise<void> {
  const preset = process.env.KAFKA_BROKERS;
  if (preset !== undefined && preset.trim() !== '') {
    process.stdout.write(
      `\nintegration tests: using the Kafka cluster at KAFKA_BROKERS=${preset} (none started)\n`,
    );
    return;
  }
  const started = performance.now();
  const cluster = await startKafka({ nodes: 1 });
  (globalThis as HarnessGlobals).__KAFKA_HARNESS_CLUSTER__ = cluster;
  process.env.KAFKA_BROKERS = cluster.bootstrap;
  process.env.KAFKA_HARNESS_LOG = cluster.logFile;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    `\nintegration tests: Kafka ${KAFKA_VERSION} started by the harness at ${cluster.bootstrap} in ${seconds} s (logs: ${cluster.logFile})\n`,
  );
}
