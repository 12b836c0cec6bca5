/**
 * Gives every record its partition (here, not inside kafkajs, so the batcher knows where each
 * record goes and how many bytes each partition's record batch will hold) and checks it
 * against what the broker would refuse (max.message.bytes, a missing key on a compacted
 * topic, a partition the topic lacks) before anything is buffered: one refused record in a
 * batch would otherwise fail every request in it.
 */
import type { KeyPartitioner } from './kafkajs-partitioner';
import type { TopicInfo, WriteRecord } from './port';
import { WriteError } from './write-error';

/** A record with its partition and its size, ready for the batcher. */
export interface PlacedRecord {
  key: string | null;
  value: Buffer | string;
  headers: Record<string, string> | undefined;
  partition: number;
  /** Upper bound of the record's encoded size. */
  bytes: number;
}

/** Size of a v2 record batch header, which every partition's batch in a request carries. */
export const RECORD_BATCH_OVERHEAD_BYTES = 61;
// Per record: length, attributes, timestamp and offset deltas, key and value lengths,
// header count, at their largest varint sizes. Per header: two length varints.
const RECORD_OVERHEAD_BYTES = 5 + 1 + 10 + 5 + 5 + 5 + 5;
const HEADER_OVERHEAD_BYTES = 10;

export function recordBytes(
  key: string | null,
  value: Buffer | string,
  headers: Record<string, string> | undefined,
): number {
  let bytes = RECORD_OVERHEAD_BYTES + Buffer.byteLength(value);
  if (key !== null) bytes += Buffer.byteLength(key);
  for (const [name, headerValue] of Object.entries(headers ?? {})) {
    bytes += HEADER_OVERHEAD_BYTES + Buffer.byteLength(name) + Buffer.byteLength(headerValue);
  }
  return bytes;
}

export class RecordPlacer {
  private readonly nextKeyless = new Map<string, number>();

  /**
   * `isLeaderStalled`: whether a broker has had a send in flight for too long; keyless
   * records go around it while other partitions are led elsewhere.
   */
  constructor(
    private readonly keyPartitioner: KeyPartitioner,
    private readonly isLeaderStalled: (leader: number) => boolean = () => false,
  ) {}

  /**
   * Keyed records go where Java clients would put them (murmur2 of the key); keyless
   * records of one request share one partition, taken round-robin per request among
   * partitions that have a leader which is not stalled (like the Java client's adaptive
   * partitioning), which keeps a request's record batches few.
   */
  place(topic: string, info: TopicInfo, records: WriteRecord[]): PlacedRecord[] {
    let keylessPartition: number | undefined;
    return records.map((record, index) => {
      const { key, value, headers } = record;
      if (key === null && info.compacted) {
        throw new WriteError('record_rejected', `is required: topic ${topic} is compacted`, false, {
          recordIndex: index,
          recordField: 'key',
          reason: 'a compacted topic refuses records without a key',
        });
      }
      let partition: number;
      if (record.partition !== undefined) {
        partition = this.checkPartition(info, record.partition, index);
      } else if (key !== null) {
        partition = this.keyPartitioner(topic, info.partitions, key);
      } else {
        keylessPartition ??= this.pickKeyless(topic, info);
        partition = keylessPartition;
      }
      const bytes = recordBytes(key, value, headers);
      if (RECORD_BATCH_OVERHEAD_BYTES + bytes > info.maxMessageBytes) {
        throw new WriteError(
          'record_too_large',
          `is ${bytes} bytes as a Kafka record; the topic accepts at most ${
            info.maxMessageBytes - RECORD_BATCH_OVERHEAD_BYTES
          } (max.message.bytes ${info.maxMessageBytes})`,
          false,
          { recordIndex: index, bytes, maxMessageBytes: info.maxMessageBytes },
        );
      }
      return { key, value, headers, partition, bytes };
    });
  }

  private checkPartition(info: TopicInfo, partition: number, index: number): number {
    if (info.partitions.some((candidate) => candidate.partitionId === partition)) return partition;
    throw new WriteError(
      'unknown_partition',
      `the topic has partitions 0 to ${info.partitions.length - 1}`,
      false,
      { recordIndex: index, recordField: 'partition', partitions: info.partitions.length },
    );
  }

  private pickKeyless(topic: string, info: TopicInfo): number {
    const withLeader = info.partitions.filter((candidate) => candidate.leader >= 0);
    const flowing = withLeader.filter((candidate) => !this.isLeaderStalled(candidate.leader));
    const choices =
      flowing.length > 0 ? flowing : withLeader.length > 0 ? withLeader : info.partitions;
    const counter = this.nextKeyless.get(topic) ?? Math.floor(Math.random() * choices.length);
    this.nextKeyless.set(topic, (counter + 1) % 1_000_000_007);
    const chosen = choices[counter % choices.length];
    if (!chosen) {
      throw new WriteError('topic_unavailable', `topic ${topic} has no partitions`, false);
    }
    return chosen.partitionId;
  }
}
