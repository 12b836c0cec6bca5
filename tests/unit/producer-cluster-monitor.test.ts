import pino from 'pino';
import type { PartitionMetadata } from 'kafkajs';
import { ClusterMonitor } from '../../services/producer/kafka/cluster-monitor';
import type { MetadataClient } from '../../services/producer/kafka/kafkajs-metadata';

const logger = pino({ level: 'silent' });

function partitions(count: number): PartitionMetadata[] {
  return Array.from({ length: count }, (_, i) => ({
    partitionId: count - 1 - i, // unsorted on purpose
    leader: 1,
    partitionErrorCode: 0,
    replicas: [1],
    isr: [1],
  }));
}

const unknownTopic = () =>
  Object.assign(new Error('unknown'), { type: 'UNKNOWN_TOPIC_OR_PARTITION' });

class FakeCluster {
  up = true;
  hang = false;
  topics = new Map<string, number>([['events', 3]]);
  maxBytes = new Map<string, number>([['events', 5000]]);
  clients = 0;
  disconnected = 0;

  client = (): MetadataClient => {
    this.clients += 1;
    return {
      fetchPartitions: async (topic) => {
        if (this.hang) return new Promise<never>(() => undefined);
        if (!this.up) throw new Error('Connection error: ECONNREFUSED');
        const count = this.topics.get(topic);
        if (count === undefined) throw unknownTopic();
        return partitions(count);
      },
      fetchTopicConfigs: async (topics) =>
        new Map(
          topics.flatMap((t) =>
            this.maxBytes.has(t)
              ? [[t, { maxMessageBytes: this.maxBytes.get(t) ?? 0, compacted: t === 'events' }]]
              : [],
          ),
        ),
      disconnect: async () => {
        this.disconnected += 1;
      },
    };
  };
}

function monitor(
  cluster: FakeCluster,
  changes: boolean[],
  topics = ['events'],
  probesBeforeUnreachable = 1,
): ClusterMonitor {
  const m = new ClusterMonitor({
    createClient: cluster.client,
    topics,
    logger,
    intervalMs: 50,
    retryIntervalMs: 20,
    probeTimeoutMs: 200,
    configRefreshMs: 60_000,
    defaultMaxMessageBytes: 1_048_588,
    probesBeforeUnreachable,
  });
  m.listen({ onReachableChange: (reachable) => changes.push(reachable) });
  return m;
}

async function until(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('cluster monitor', () => {
  test('learns partitions (sorted) and max.message.bytes, follows outages and recovery', async () => {
    const cluster = new FakeCluster();
    const changes: boolean[] = [];
    const m = monitor(cluster, changes);
    expect(m.reachable).toBe(false);
    m.start();
    await until(() => m.reachable);
    expect(m.topicInfo('events')).toEqual({
      partitions: [...partitions(3)].sort((a, b) => a.partitionId - b.partitionId),
      maxMessageBytes: 5000,
      compacted: true,
    });
    cluster.up = false;
    await until(() => !m.reachable);
    // The last known metadata stays: it is still the best guess when Kafka returns.
    expect(m.topicInfo('events')?.partitions).toHaveLength(3);
    expect(m.problem).toMatch(/ECONNREFUSED/);
    cluster.up = true;
    await until(() => m.reachable);
    expect(changes).toEqual([true, false, true]);
    // A failed probe's client was dropped and disconnected; the next probe used a new one.
    expect(cluster.clients).toBeGreaterThan(1);
    expect(cluster.disconnected).toBeGreaterThan(0);
    await m.stop();
  });

  test('a missing topic is reported, Kafka itself still counts as reachable', async () => {
    const cluster = new FakeCluster();
    const m = monitor(cluster, [], ['events', 'later']);
    m.start();
    await until(() => m.reachable);
    expect(m.missingTopics()).toEqual(['later']);
    expect(m.topicInfo('later')).toBeUndefined();
    cluster.topics.set('later', 2);
    await until(() => m.missingTopics().length === 0);
    expect(m.topicInfo('later')).toMatchObject({ maxMessageBytes: 1_048_588, compacted: false });
    await m.stop();
  });

  test('a probe that hangs counts as unreachable', async () => {
    const cluster = new FakeCluster();
    const m = monitor(cluster, []);
    m.start();
    await until(() => m.reachable);
    cluster.hang = true;
    const started = Date.now();
    m.probeSoon();
    await until(() => !m.reachable);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(m.problem).toMatch(/took more than 200 ms/);
    cluster.hang = false;
    await until(() => m.reachable);
    await m.stop();
  });
});

describe('cluster monitor with several seed brokers', () => {
  test('one failed probe (its client bound to a broker that died) does not make Kafka unreachable', async () => {
    // The first client's broker dies; every fresh client reaches a live broker.
    const cluster = new FakeCluster();
    const base = cluster.client;
    let first = true;
    cluster.client = () => {
      const client = base();
      if (!first) return client;
      first = false;
      let answered = 0;
      return {
        ...client,
        fetchPartitions: async (topic) => {
          answered += 1;
          if (answered > 1) throw new Error('Connection error: ECONNREFUSED (its broker died)');
          return client.fetchPartitions(topic);
        },
      };
    };
    const changes: boolean[] = [];
    const m = monitor(cluster, changes, ['events'], 3);
    m.start();
    await until(() => m.reachable);
    m.probeSoon();
    await until(() => cluster.clients >= 2);
    await until(() => cluster.disconnected >= 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(changes).toEqual([true]);
    expect(m.reachable).toBe(true);
    await m.stop();
  });

  test('Kafka is unreachable once as many probes in a row failed as asked, each with a fresh client', async () => {
    const cluster = new FakeCluster();
    const changes: boolean[] = [];
    const m = monitor(cluster, changes, ['events'], 3);
    m.start();
    await until(() => m.reachable);
    const clientsBefore = cluster.clients;
    cluster.up = false;
    m.probeSoon();
    await until(() => !m.reachable);
    // The first failed probe used the client that had worked; the next two were fresh.
    expect(cluster.clients - clientsBefore).toBe(2);
    expect(changes).toEqual([true, false]);
    await m.stop();
  });
});
