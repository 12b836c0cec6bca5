/**
 * The Kafka stand-in image (scripts/docker/kafka-stand-in) on the parts of the official
 * apache/kafka image's contract that compose.yaml does not exercise: a plain `docker run` with no
 * variable gives a one-node cluster from the default configuration, and KAFKA_* variables become
 * server.properties by the official naming rule (KAFKA_ dropped, lower case, _ → .) while the
 * JVM's variables (KAFKA_HEAP_OPTS) stay out, and CLUSTER_ID formats the log directory.
 * compose.test.ts runs the rest (three nodes from KAFKA_* variables, CLUSTER_ID, a restarted
 * broker keeping its formatted storage).
 *
 * Column of DESIGN.md's table: "compose" (an image built here on the official image's contract);
 * the official image itself only runs on a user's machine.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { docker, dockerOk } from '../../scripts/docker/images';
import { ensureKafkaStandIn } from '../../scripts/docker/kafka-stand-in';
import { describeDocker } from './support/skip';

jest.setTimeout(180_000);

const started: string[] = [];

afterAll(() => {
  if (started.length > 0) docker(['rm', '--force', '--volumes', ...started]);
});

async function waitForLog(id: string, text: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const logs = docker(['logs', id]);
    if (`${logs.stdout}${logs.stderr}`.includes(text)) return;
    if (dockerOk(['inspect', '--format', '{{.State.Running}}', id]).trim() !== 'true') {
      throw new Error(`the container stopped before "${text}":\n${logs.stdout}\n${logs.stderr}`);
    }
    if (Date.now() > deadline) throw new Error(`no "${text}" in the log after ${timeoutMs} ms`);
    await sleep(500);
  }
}

describeDocker('Kafka stand-in image, on the official image contract', () => {
  test('docker run with no variable: one broker and controller from the default configuration', async () => {
    const { image } = await ensureKafkaStandIn();
    const id = dockerOk(['run', '--detach', image]).trim();
    started.push(id);
    await waitForLog(id, 'Kafka Server started', 90_000);
    const created = dockerOk([
      'exec',
      id,
      'kafka-topics.sh',
      '--bootstrap-server',
      'localhost:9092',
      '--create',
      '--topic',
      'stand-in',
    ]);
    expect(created).toContain('Created topic stand-in.');
    expect(dockerOk(['exec', id, 'id', '-u']).trim()).toBe('1000');
  });

  test('KAFKA_* variables become server.properties by the official naming rule', async () => {
    const { image } = await ensureKafkaStandIn();
    const id = dockerOk([
      'run',
      '--detach',
      '--env',
      'KAFKA_NODE_ID=4',
      '--env',
      'KAFKA_PROCESS_ROLES=broker,controller',
      '--env',
      'KAFKA_CONTROLLER_QUORUM_VOTERS=4@localhost:9093',
      '--env',
      'KAFKA_LISTENERS=PLAINTEXT://:9092,CONTROLLER://:9093',
      '--env',
      'KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://localhost:9092',
      '--env',
      'KAFKA_CONTROLLER_LISTENER_NAMES=CONTROLLER',
      '--env',
      'KAFKA_LISTENER_SECURITY_PROTOCOL_MAP=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      '--env',
      'KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR=1',
      '--env',
      'KAFKA_LOG_DIRS=/tmp/stand-in-logs',
      '--env',
      'KAFKA_LOG_RETENTION_CHECK_INTERVAL_MS=123456',
      '--env',
      'KAFKA_HEAP_OPTS=-Xmx256m',
      '--env',
      'CLUSTER_ID=c3RhbmQtaW4tY2x1c3Rlcg',
      image,
    ]).trim();
    started.push(id);
    await waitForLog(id, 'Kafka Server started', 90_000);
    const properties = dockerOk(['exec', id, 'cat', '/opt/kafka/config/server.properties']);
    expect(properties).toContain('node.id=4');
    expect(properties).toContain('log.retention.check.interval.ms=123456');
    expect(properties).toContain('log.dirs=/tmp/stand-in-logs');
    // Variables of the JVM, not of the broker, stay out of it.
    expect(properties).not.toContain('heap');
    const meta = dockerOk(['exec', id, 'cat', '/tmp/stand-in-logs/meta.properties']);
    expect(meta).toContain('cluster.id=c3RhbmQtaW4tY2x1c3Rlcg');
    expect(meta).toContain('node.id=4');
  });
});
