/** kafkajs clients for the bench's own bookkeeping (topics, offsets), silent. */
import { Kafka, logLevel, type Admin } from 'kafkajs';

export const PARTITIONS = 6;

export function benchKafka(brokers: string[], clientId = 'bench'): Kafka {
  return new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5_000,
    requestTimeout: 30_000,
    retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2_000 },
  });
}

/** kafkajs with its own defaults (the raw reference rows' client), silent. */
export function rawKafka(brokers: string[], clientId: string): Kafka {
  return new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING });
}

export async function withAdmin<T>(
  brokers: string[],
  use: (admin: Admin) => Promise<T>,
): Promise<T> {
  const admin = benchKafka(brokers, 'bench-admin').admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Creates topics (6 partitions unless told) and waits until every partition has a leader. */
export async function createTopics(
  brokers: string[],
  names: string[],
  partitions = PARTITIONS,
): Promise<void> {
  await withAdmin(brokers, async (admin) => {
    // The leaders are waited for below: kafkajs' own wait gives up with
    // UNKNOWN_TOPIC_OR_PARTITION when a busy broker takes longer than its retries.
    await admin.createTopics({
      waitForLeaders: false,
      topics: names.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: -1 })),
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      // Right after creation the broker may still answer UNKNOWN_TOPIC_OR_PARTITION.
      const ready = await admin
        .fetchTopicMetadata({ topics: names })
        .then(({ topics }) =>
          topics.every((t) => t.partitions.length >= 1 && t.partitions.every((p) => p.leader >= 0)),
        )
        .catch(() => false);
      if (ready) return;
      if (Date.now() > deadline)
        throw new Error(`topics ${names.join(', ')} got no leaders in time`);
      await new Promise((done) => setTimeout(done, 200));
    }
  });
}

/** Creates a topic for one scenario run, hands it to `use`, and deletes it afterwards. */
export async function withTopic<T>(
  brokers: string[],
  topic: string,
  use: (topic: string) => Promise<T>,
): Promise<T> {
  await createTopics(brokers, [topic]);
  try {
    return await use(topic);
  } finally {
    await deleteTopics(brokers, [topic]);
  }
}

/** Deletes topics to give their disk space back; failures are ignored (it is only tidying). */
export async function deleteTopics(brokers: string[], names: string[]): Promise<void> {
  if (names.length === 0) return;
  await withAdmin(brokers, (admin) => admin.deleteTopics({ topics: names, timeout: 30_000 })).catch(
    () => undefined,
  );
}

/** Messages in a topic: the sum over partitions of the log-end offset (nothing is deleted). */
export async function messagesIn(brokers: string[], topic: string): Promise<number> {
  return withAdmin(brokers, async (admin) => {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  });
}
