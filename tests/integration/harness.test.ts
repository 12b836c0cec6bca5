/**
 * Proves the broker that the integration run uses (the harness's single node, or
 * KAFKA_BROKERS): kafkajs 2.2.4 can produce to it and consume back from it, keys, headers
 * and per-partition order intact.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Partitioners, type RecordMetadata } from 'kafkajs';
import { consumeAll, createTopic, testKafka, uniqueTopic } from '../support/kafka';

describe('the Kafka of the integration run', () => {
  test('serves, and is the one the harness started unless KAFKA_BROKERS was given', async () => {
    const admin = testKafka().admin();
    await admin.connect();
    try {
      const { brokers } = await admin.describeCluster();
      expect(brokers.length).toBeGreaterThanOrEqual(1);
      const log = process.env.KAFKA_HARNESS_LOG;
      if (log !== undefined) {
        const text = readFileSync(log, 'utf8');
        expect(text).toContain('Kafka Server started');
        const [first] = brokers;
        expect(text).toContain(`PLAINTEXT://127.0.0.1:${first?.port}`);
      }
    } finally {
      await admin.disconnect();
    }
  });

  test('processes that tests start see the same KAFKA_BROKERS', () => {
    const child = spawnSync(
      process.execPath,
      ['-e', 'process.stdout.write(process.env.KAFKA_BROKERS ?? "")'],
      {
        encoding: 'utf8',
      },
    );
    expect(child.stdout).toBe(process.env.KAFKA_BROKERS);
    expect(child.stdout).toMatch(/^[\w.-]+:\d+(,[\w.-]+:\d+)*$/);
  });

  test('1,000 keyed messages with headers come back complete, in order per partition', async () => {
    const topic = uniqueTopic('harness-roundtrip');
    await createTopic(topic, 3);
    const keys = Array.from({ length: 37 }, (_, k) => `customer-${k}`);
    const nextSeq = new Map<string, number>();
    const sent = Array.from({ length: 1_000 }, (_, i) => {
      const key = keys[i % keys.length] ?? 'none';
      const seq = nextSeq.get(key) ?? 0;
      nextSeq.set(key, seq + 1);
      return {
        key,
        value: JSON.stringify({ i, key, seq, text: `message ${i} ✓` }),
        headers: { 'x-index': String(i), 'x-key': key, 'content-type': 'application/json' },
      };
    });

    const producer = testKafka().producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    const acks: RecordMetadata[][] = [];
    try {
      for (let at = 0; at < sent.length; at += 100) {
        acks.push(await producer.send({ topic, acks: -1, messages: sent.slice(at, at + 100) }));
      }
    } finally {
      await producer.disconnect();
    }

    const received = await consumeAll(topic, sent.length, 60_000);
    expect(received).toHaveLength(sent.length);

    // Each key lives in one partition, and the three partitions are all used.
    const partitionOf = new Map<string, number>();
    for (const m of received) {
      expect(m.key).not.toBeNull();
      const key = m.key ?? '';
      expect(partitionOf.get(key) ?? m.partition).toBe(m.partition);
      partitionOf.set(key, m.partition);
    }
    expect(partitionOf.size).toBe(keys.length);
    expect(new Set(partitionOf.values())).toEqual(new Set([0, 1, 2]));

    // Per partition: offsets 0..n-1 in arrival order, and exactly the messages sent to it,
    // in the order they were sent (so per-key order holds too): key, value and headers.
    for (const partition of [0, 1, 2]) {
      const got = received.filter((m) => m.partition === partition);
      const expected = sent.filter((m) => partitionOf.get(m.key) === partition);
      expect(got.map((m) => Number(m.offset))).toEqual(expected.map((_, i) => i));
      expect(got.map(({ key, value, headers }) => ({ key, value, headers }))).toEqual(expected);
      const seqs = got.map((m) => JSON.parse(m.value ?? '{}') as { key: string; seq: number });
      for (const key of new Set(seqs.map((s) => s.key))) {
        const ofKey = seqs.filter((s) => s.key === key).map((s) => s.seq);
        expect(ofKey).toEqual(ofKey.map((_, i) => i));
      }
    }

    // The acks told the truth: each batch's base offset per partition counts what came before.
    const before = new Map<number, number>();
    acks.forEach((batch, b) => {
      const batchMessages = sent.slice(b * 100, b * 100 + 100);
      for (const ack of batch) {
        expect(ack.errorCode).toBe(0);
        expect(ack.baseOffset).toBe(String(before.get(ack.partition) ?? 0));
      }
      for (const m of batchMessages) {
        const p = partitionOf.get(m.key) ?? -1;
        before.set(p, (before.get(p) ?? 0) + 1);
      }
    });
  });
});
