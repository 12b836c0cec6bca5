import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { ApiError, apiErrorFromWriteError } from '../../services/producer/errors';
import { isWriteError, type TopicInfo } from '../../services/producer/kafka';
import { murmur2KeyPartitioner } from '../../services/producer/kafka/kafkajs-partitioner';
import {
  RECORD_BATCH_OVERHEAD_BYTES,
  RecordPlacer,
  recordBytes,
} from '../../services/producer/kafka/placement';
import { toWriteRecords } from '../../services/producer/records';
import type { ProduceMessage } from '../../services/producer/validation';

/**
 * A request's messages as the service turns them into Kafka records: values serialized
 * (records.ts), then placed by the writer; an error as the client gets it (errors.ts).
 */
class RecordBuilder {
  private readonly placer: RecordPlacer;

  constructor(isLeaderStalled?: (leader: number) => boolean) {
    this.placer = new RecordPlacer(murmur2KeyPartitioner(), isLeaderStalled);
  }

  build(topic: string, info: TopicInfo, messages: ProduceMessage[]) {
    try {
      const text = Buffer.from(JSON.stringify({ messages }));
      return this.placer.place(topic, info, toWriteRecords({ messages }, text));
    } catch (error) {
      if (isWriteError(error)) throw apiErrorFromWriteError(error, { requestTimeoutMs: 1 });
      throw error;
    }
  }
}

function partitions(count: number, withoutLeader: number[] = []): PartitionMetadata[] {
  return Array.from({ length: count }, (_, partitionId) => ({
    partitionId,
    leader: withoutLeader.includes(partitionId) ? -1 : 1,
    partitionErrorCode: 0,
    replicas: [1],
    isr: [1],
  }));
}

const info: TopicInfo = { partitions: partitions(6), maxMessageBytes: 1_048_588, compacted: false };

function thrown(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('no error');
}

describe('records', () => {
  test('keys go where the Java-compatible kafkajs partitioner puts them', () => {
    const reference = Partitioners.DefaultPartitioner();
    const builder = new RecordBuilder();
    const keys = Array.from({ length: 50 }, (_, i) => `key-${i}`);
    const records = builder.build(
      't',
      info,
      keys.map((key) => ({ key, value: 1 })),
    );
    records.forEach((record, i) => {
      expect(record.partition).toBe(
        reference({
          topic: 't',
          partitionMetadata: partitions(6),
          message: { key: keys[i] ?? '', value: null },
        }),
      );
    });
    expect(new Set(records.map((r) => r.partition)).size).toBeGreaterThan(1);
  });

  test('keyless messages go around a stalled leader, and anywhere when every leader is stalled', () => {
    // Partitions 0, 2, 4 are led by broker 1; 1, 3, 5 by broker 2.
    const topic: TopicInfo = {
      partitions: partitions(6).map((p) => ({ ...p, leader: (p.partitionId % 2) + 1 })),
      maxMessageBytes: 1_048_588,
      compacted: false,
    };
    const stalled = new Set<number>([1]);
    const builder = new RecordBuilder((leader) => stalled.has(leader));
    const chosen = Array.from(
      { length: 30 },
      () => builder.build('t', topic, [{ value: 1 }])[0]?.partition,
    );
    expect(new Set(chosen)).toEqual(new Set([1, 3, 5]));
    // Keyed messages still go where their key says.
    const keyed = builder.build('t', topic, [{ key: 'k', value: 1 }])[0]?.partition;
    expect(keyed).toBe(
      new RecordBuilder().build('t', topic, [{ key: 'k', value: 1 }])[0]?.partition,
    );
    stalled.add(2);
    const anywhere = Array.from(
      { length: 30 },
      () => builder.build('t', topic, [{ value: 1 }])[0]?.partition,
    );
    expect(new Set(anywhere).size).toBe(6);
  });

  test('keyless messages of one request share a partition with a leader; requests rotate', () => {
    const builder = new RecordBuilder();
    const topic: TopicInfo = {
      partitions: partitions(4, [1, 3]),
      maxMessageBytes: 1_048_588,
      compacted: false,
    };
    const chosen = new Set<number>();
    for (let i = 0; i < 10; i += 1) {
      const records = builder.build('t', topic, [
        { value: 1 },
        { value: 2, key: null },
        { value: 3 },
      ]);
      expect(new Set(records.map((r) => r.partition)).size).toBe(1);
      chosen.add(records[0]?.partition ?? -1);
    }
    expect([...chosen].sort()).toEqual([0, 2]);
  });

  test('an explicit partition is used when it exists, else 400 unknown_partition naming the field', () => {
    const builder = new RecordBuilder();
    expect(builder.build('t', info, [{ value: 1, key: 'k', partition: 5 }])[0]?.partition).toBe(5);
    const error = thrown(() =>
      builder.build('t', info, [{ value: 1 }, { value: 1, partition: 6 }]),
    );
    expect(error.status).toBe(400);
    expect(error.code).toBe('unknown_partition');
    expect(error.details).toMatchObject({ field: '/messages/1/partition', partitions: 6 });
  });

  test("values are their JSON text's bytes in the body; key and headers are kept", () => {
    const [record] = new RecordBuilder().build('t', info, [
      { key: 'k', value: { a: [1, 'é'] }, headers: { h: 'v' } },
    ]);
    expect(record).toMatchObject({ key: 'k', headers: { h: 'v' } });
    expect(record?.value).toEqual(Buffer.from('{"a":[1,"é"]}'));
    expect(String(new RecordBuilder().build('t', info, [{ value: null }])[0]?.value)).toBe('null');
  });

  test('a value does not keep the rest of its body in memory', () => {
    const padding = ' '.repeat(200_000);
    const text = Buffer.from(`{"messages":[{"value":1}${padding},{"value":[2]}],"x":"${padding}"}`);
    const records = toWriteRecords({ messages: [{ value: 1 }, { value: [2] }] }, text);
    expect(records.map((record) => String(record.value))).toEqual(['1', '[2]']);
    for (const record of records) {
      expect((record.value as Buffer).buffer.byteLength).toBeLessThan(10_000);
    }
  });

  test('a body whose values the scan does not find as parsed is refused, not stored shifted', () => {
    const text = Buffer.from('{"messages":[{"value":1}]}');
    expect(() => toWriteRecords({ messages: [{ value: 1 }, { value: 2 }] }, text)).toThrow(
      /found 1 values in a body of 2 messages/,
    );
  });

  test('record size is an upper bound counting UTF-8 bytes of key, value and headers', () => {
    const small = recordBytes(null, '1', undefined);
    expect(recordBytes('é', '1', undefined)).toBe(small + 2);
    expect(recordBytes(null, '1', { ab: 'cd' })).toBeGreaterThan(small + 4);
  });

  test('a record larger than max.message.bytes is 422 record_too_large before anything is sent', () => {
    const limit = 1000;
    const topic: TopicInfo = {
      partitions: partitions(1),
      maxMessageBytes: limit,
      compacted: false,
    };
    const builder = new RecordBuilder();
    const fits = limit - RECORD_BATCH_OVERHEAD_BYTES - recordBytes(null, '""', undefined);
    expect(builder.build('t', topic, [{ value: 'x'.repeat(fits) }])).toHaveLength(1);
    const error = thrown(() =>
      builder.build('t', topic, [{ value: 1 }, { value: 'x'.repeat(fits + 1) }]),
    );
    expect(error.status).toBe(422);
    expect(error.code).toBe('record_too_large');
    expect(error.details).toMatchObject({ field: '/messages/1', maxMessageBytes: limit });
  });

  test('a keyless message for a compacted topic is 422 record_rejected naming the key', () => {
    const topic: TopicInfo = {
      partitions: partitions(2),
      maxMessageBytes: 1_048_588,
      compacted: true,
    };
    const builder = new RecordBuilder();
    expect(builder.build('t', topic, [{ key: 'k', value: 1 }])).toHaveLength(1);
    const error = thrown(() => builder.build('t', topic, [{ key: 'k', value: 1 }, { value: 2 }]));
    expect(error.status).toBe(422);
    expect(error.code).toBe('record_rejected');
    expect(error.details).toMatchObject({ field: '/messages/1/key' });
  });

  test('a value nested deeper than JSON.stringify can go is kept as sent, not refused', () => {
    const deepText = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const text = Buffer.from(`{"messages":[{"value":${deepText}}]}`);
    const [record] = toWriteRecords(
      { messages: [{ value: JSON.parse(deepText) as unknown }] },
      text,
    );
    expect(String(record?.value)).toBe(deepText);
  });
});
