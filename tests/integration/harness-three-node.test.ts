/**
 * The three-node harness cluster (its own, not the run's shared broker): with replication
 * factor 3 and min.insync.replicas 2, acks=all produces keep succeeding while a broker is
 * dead, nothing acknowledged is lost, and stop() leaves no process and no port behind.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { Partitioners, type Admin } from 'kafkajs';
import { withAdmin as withKafkaAdmin } from '../../scripts/kafka/admin';
import { startKafka, type KafkaCluster } from '../../scripts/kafka/harness';
import { consumeAll, testKafka, uniqueTopic } from '../support/kafka';
import { isPortOpen } from '../../scripts/lib/ports';

jest.setTimeout(240_000);

let cluster: KafkaCluster | undefined;

beforeAll(async () => {
  cluster = await startKafka({ nodes: 3 });
}, 240_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

function started(): KafkaCluster {
  if (cluster === undefined) throw new Error('the three-node cluster did not start');
  return cluster;
}

function withAdmin<T>(brokers: string[], use: (admin: Admin) => Promise<T>): Promise<T> {
  // kafkajs' default retries (5, up to 30 s): a new topic takes a moment to reach every broker.
  return withKafkaAdmin(brokers, use, { retry: { retries: 5 }, requestTimeoutMs: 30_000 });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('acks=all produces succeed while a broker is down, and nothing acknowledged is lost', async () => {
  const kafka = started();
  const topic = uniqueTopic('three-node');
  await kafka.createTopics([
    { name: topic, partitions: 3, replicationFactor: 3, config: { 'min.insync.replicas': '2' } },
  ]);

  const layout = await withAdmin(kafka.brokers, async (admin) => {
    const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 2 /* TOPIC */, name: topic, configNames: ['min.insync.replicas'] }],
    });
    return {
      partitions: meta?.partitions ?? [],
      minIsr: configs.resources[0]?.configEntries[0]?.configValue,
    };
  });
  expect(layout.minIsr).toBe('2');
  expect(layout.partitions).toHaveLength(3);
  for (const p of layout.partitions) {
    expect(p.replicas).toHaveLength(3);
    expect(p.isr).toHaveLength(3);
  }

  const producer = testKafka({
    brokers: kafka.brokers,
    retry: { retries: 12, initialRetryTime: 200, maxRetryTime: 3_000 },
  }).producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const acked: Array<{ partition: number; offset: string; value: string }> = [];
  let sequence = 0;
  // Ten messages per send, spread over the partitions explicitly so that each message's
  // offset follows from the ack: base offset + its place among the batch's messages for that partition.
  const produce = async (phase: string, sends: number) => {
    for (let s = 0; s < sends; s += 1) {
      const messages = Array.from({ length: 10 }, () => {
        const n = sequence++;
        return { partition: n % 3, key: `k${n % 3}`, value: `${phase}-${n}` };
      });
      const acks = await producer.send({ topic, acks: -1, messages });
      for (const ack of acks) {
        expect(ack.errorCode).toBe(0);
        messages
          .filter((m) => m.partition === ack.partition)
          .forEach((m, i) =>
            acked.push({
              partition: m.partition,
              offset: String(BigInt(ack.baseOffset ?? '-1') + BigInt(i)),
              value: m.value,
            }),
          );
      }
    }
  };

  await producer.connect();
  try {
    await produce('before', 20);

    // Kill the leader of partition 0 without warning, so leadership has to move.
    const victim = layout.partitions.find((p) => p.partitionId === 0)?.leader ?? 1;
    const survivors = kafka
      .nodes()
      .filter((n) => n.id !== victim)
      .map((n) => `127.0.0.1:${n.port}`);
    await kafka.stopNode(victim, 'SIGKILL');
    expect(kafka.nodes().find((n) => n.id === victim)?.running).toBe(false);

    await produce('broker-down', 20);
    // The acks above came with one replica missing: the ISR has shrunk to the two survivors.
    const shrunk = await withAdmin(survivors, async (admin) => {
      const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
      return meta?.partitions ?? [];
    });
    for (const p of shrunk) {
      expect(p.leader).not.toBe(victim);
      expect(p.isr).not.toContain(victim);
      expect(p.isr.length).toBeGreaterThanOrEqual(2);
    }

    await kafka.startNode(victim);
    await produce('after-restart', 10);
    // The restarted broker catches up and rejoins every ISR (waitInSync says when).
    await kafka.waitInSync([topic], 60_000);
    const rejoined = await withAdmin(kafka.brokers, async (admin) => {
      const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
      return meta?.partitions ?? [];
    });
    expect(rejoined.length).toBeGreaterThan(0);
    for (const p of rejoined) expect(p.isr).toContain(victim);
  } finally {
    await producer.disconnect();
  }

  expect(acked).toHaveLength(500);
  const received = await consumeAll(topic, acked.length, 90_000, { brokers: kafka.brokers });
  const byPosition = new Map(received.map((m) => [`${m.partition}@${m.offset}`, m.value]));
  const lost = acked.filter((a) => byPosition.get(`${a.partition}@${a.offset}`) !== a.value);
  expect(lost).toEqual([]);
  // And nothing else: no duplicates from the producer's retries (it is idempotent).
  expect(received).toHaveLength(acked.length);
});

test('stop() leaves no Kafka process and no open port behind', async () => {
  const kafka = started();
  const nodes = kafka.nodes();
  expect(nodes.map((n) => n.running)).toEqual([true, true, true]);
  const pids = nodes.map((n) => n.pid ?? -1);
  const ports = nodes.flatMap((n) => [n.port, n.controllerPort]);
  for (const pid of pids) expect(processAlive(pid)).toBe(true);

  await kafka.stop();

  for (const pid of pids) expect(processAlive(pid)).toBe(false);
  for (const port of ports) expect(await isPortOpen(port)).toBe(false);
  expect(existsSync(kafka.dataDir)).toBe(false);
  // No JVM anywhere on this machine still runs with this cluster's data folder.
  const leftovers = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(kafka.dataDir);
      } catch {
        return false;
      }
    });
  expect(leftovers).toEqual([]);
  await expect(kafka.stop()).resolves.toBeUndefined();
  expect(kafka.nodes().every((n) => !n.running && n.pid === undefined)).toBe(true);
});
