/**
 * Kafka helpers for integration tests: the cluster comes from KAFKA_BROKERS (set by the
 * integration global setup, or by you to use your own cluster).
 */
import { randomBytes } from 'node:crypto';
import { Kafka, type IHeaders, type KafkaConfig } from 'kafkajs';
import { silentLogCreator } from '../../scripts/lib/kafka-log';
import { readAtLeast } from '../../scripts/lib/topic-reader';

export function brokersFromEnv(): string[] {
  const value = process.env.KAFKA_BROKERS ?? '';
  const brokers = value
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  if (brokers.length === 0) {
    throw new Error(
      'KAFKA_BROKERS is not set: run integration tests through jest (its global setup starts Kafka) ' +
        'or set KAFKA_BROKERS=host:port,... to use your own cluster',
    );
  }
  return brokers;
}

/** A kafkajs client for tests: brokers from KAFKA_BROKERS unless given, silent logs. */
export function testKafka(config: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId: 'integration-test',
    logCreator: silentLogCreator,
    ...config,
    brokers: config.brokers ?? brokersFromEnv(),
  });
}

/** A topic name no other test (or earlier run against the same cluster) uses. */
export function uniqueTopic(prefix: string): string {
  const safe = prefix.replace(/[^a-zA-Z0-9._-]/g, '-');
  return `${safe}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export interface ClusterOption {
  /** Default: KAFKA_BROKERS. */
  brokers?: string[];
}

export async function createTopic(
  name: string,
  partitions: number,
  replicationFactor?: number,
  options: ClusterOption & { config?: Record<string, string> } = {},
): Promise<void> {
  const admin = testKafka({ brokers: options.brokers }).admin();
  await admin.connect();
  try {
    const created = await admin.createTopics({
      waitForLeaders: false, // waitForLeaders below is more patient
      topics: [
        {
          topic: name,
          numPartitions: partitions,
          replicationFactor: replicationFactor ?? -1,
          configEntries: Object.entries(options.config ?? {}).map(([n, value]) => ({
            name: n,
            value,
          })),
        },
      ],
    });
    if (!created) throw new Error(`topic ${name} already exists`);
    await waitForLeaders(admin, name, partitions);
  } finally {
    await admin.disconnect();
  }
}

/**
 * On a busy machine the broker that answers a metadata request may not know a new topic
 * yet (kafkajs then fails with "does not host this topic-partition"): poll until every
 * partition has a leader.
 */
async function waitForLeaders(
  admin: ReturnType<ReturnType<typeof testKafka>['admin']>,
  name: string,
  partitions: number,
): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [name] });
      const led = topics[0]?.partitions.filter((partition) => partition.leader >= 0) ?? [];
      if (led.length === partitions) return;
      last = `${led.length} of ${partitions} partitions have a leader`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((done) => setTimeout(done, 200));
  }
  throw new Error(`topic ${name} has no leaders after 30 s (${last})`);
}

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string | string[]>;
  timestamp: string;
}

export function decodeHeaders(headers: IHeaders | undefined): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    result[name] = Array.isArray(value) ? value.map((v) => v.toString()) : value.toString();
  }
  return result;
}

/**
 * Reads `topic` from the beginning with a fresh consumer group until at least `count`
 * messages arrived (rejects after `timeoutMs` saying how many came), then disconnects.
 * Returns everything received, in arrival order: more than `count` means duplicates or
 * extra messages, which is for the test to judge.
 */
export async function consumeAll(
  topic: string,
  count: number,
  timeoutMs = 30_000,
  options: ClusterOption = {},
): Promise<ConsumedMessage[]> {
  const records = await readAtLeast(topic, count, {
    brokers: options.brokers ?? brokersFromEnv(),
    client: { clientId: 'integration-test' },
    timeoutMs,
  });
  return records.map((record) => ({
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    key: record.key?.toString() ?? null,
    value: record.value?.toString() ?? null,
    headers: decodeHeaders(record.headers),
    timestamp: record.timestamp,
  }));
}
