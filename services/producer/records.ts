/**
 * Turns validated messages into Kafka records: value serialized, partition chosen here
 * (not inside kafkajs) so the batcher knows where every record goes and how many bytes
 * each partition's record batch will hold, and checked against what the broker would
 * refuse (max.message.bytes, a missing key on a compacted topic) before anything is
 * buffered: one refused record in a batch would otherwise fail every request in it.
 */
import { defaultPartitioner, type PartitionMetadata } from '../common/kafka';
import { ApiError } from './errors';
import type { ProduceMessage } from './validation';

export interface TopicInfo {
  /** Sorted by partitionId. */
  partitions: PartitionMetadata[];
  /** The topic's max.message.bytes: the largest record batch the broker accepts. */
  maxMessageBytes: number;
  /** A compacted topic refuses records without a key. */
  compacted: boolean;
}

export interface OutgoingRecord {
  key: string | null;
  value: string;
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
  value: string,
  headers: Record<string, string> | undefined,
): number {
  let bytes = RECORD_OVERHEAD_BYTES + Buffer.byteLength(value);
  if (key !== null) bytes += Buffer.byteLength(key);
  for (const [name, headerValue] of Object.entries(headers ?? {})) {
    bytes += HEADER_OVERHEAD_BYTES + Buffer.byteLength(name) + Buffer.byteLength(headerValue);
  }
  return bytes;
}

function serialize(value: unknown, index: number): string {
  try {
    // Parsed JSON always serializes to a string (no functions or undefined inside).
    return JSON.stringify(value) as string;
  } catch {
    // JSON.parse accepts nesting deeper than JSON.stringify's recursion can handle.
    const field = `/messages/${index}/value`;
    throw new ApiError('invalid_request', `${field} is nested too deeply`, {
      field,
      reason: 'is nested too deeply',
    });
  }
}

export class RecordBuilder {
  private readonly keyPartitioner = defaultPartitioner();
  private readonly nextKeyless = new Map<string, number>();

  /**
   * `isLeaderStalled`: whether a broker has had a send in flight for too long; keyless
   * messages go around it while other partitions are led elsewhere.
   */
  constructor(private readonly isLeaderStalled: (leader: number) => boolean = () => false) {}

  /**
   * Keyed messages go where Java clients would put them (murmur2 of the key); keyless
   * messages of one request share one partition, taken round-robin per request among
   * partitions that have a leader which is not stalled (like the Java client's adaptive
   * partitioning), which keeps a request's record batches few.
   */
  build(topic: string, info: TopicInfo, messages: ProduceMessage[]): OutgoingRecord[] {
    let keylessPartition: number | undefined;
    return messages.map((message, index) => {
      const key = message.key ?? null;
      if (key === null && info.compacted) {
        const field = `/messages/${index}/key`;
        throw new ApiError('record_rejected', `${field} is required: topic ${topic} is compacted`, {
          field,
          reason: 'a compacted topic refuses records without a key',
        });
      }
      const value = serialize(message.value, index);
      const headers = message.headers;
      let partition: number;
      if (message.partition !== undefined) {
        partition = this.checkPartition(info, message.partition, index);
      } else if (key !== null) {
        partition = this.keyPartitioner({
          topic,
          partitionMetadata: info.partitions,
          message: { key, value: null },
        });
      } else {
        keylessPartition ??= this.pickKeyless(topic, info);
        partition = keylessPartition;
      }
      const bytes = recordBytes(key, value, headers);
      if (RECORD_BATCH_OVERHEAD_BYTES + bytes > info.maxMessageBytes) {
        const field = `/messages/${index}`;
        throw new ApiError(
          'record_too_large',
          `${field} is ${bytes} bytes as a Kafka record; the topic accepts at most ${
            info.maxMessageBytes - RECORD_BATCH_OVERHEAD_BYTES
          } (max.message.bytes ${info.maxMessageBytes})`,
          { field, bytes, maxMessageBytes: info.maxMessageBytes },
        );
      }
      return { key, value, headers, partition, bytes };
    });
  }

  private checkPartition(info: TopicInfo, partition: number, index: number): number {
    if (info.partitions.some((candidate) => candidate.partitionId === partition)) return partition;
    const field = `/messages/${index}/partition`;
    throw new ApiError(
      'unknown_partition',
      `${field}: the topic has partitions 0 to ${info.partitions.length - 1}`,
      { field, partitions: info.partitions.length },
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
    if (!chosen) throw new ApiError('topic_unavailable', `topic ${topic} has no partitions`);
    return chosen.partitionId;
  }
}
