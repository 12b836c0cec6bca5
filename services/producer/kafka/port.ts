/**
 * What the HTTP layer sees of Kafka: records in, per-record results or a WriteError out.
 * Nothing here is kafkajs's; kafkajs stays behind the adapters of this folder.
 */

/** One message to write; the writer chooses the partition unless the client did. */
export interface WriteRecord {
  key: string | null;
  /** The JSON text, as bytes (a client's own) or as a string. */
  value: Buffer | string;
  headers: Record<string, string> | undefined;
  /** Asked for by the client; checked against the topic's partitions. */
  partition?: number;
}

/** Where a record was written. */
export interface RecordResult {
  partition: number;
  offset: string;
}

export interface PartitionInfo {
  partitionId: number;
  /** -1 while the partition has no leader. */
  leader: number;
}

export interface TopicInfo {
  /** Sorted by partitionId. */
  partitions: PartitionInfo[];
  /** The topic's max.message.bytes: the largest record batch the broker accepts. */
  maxMessageBytes: number;
  /** A compacted topic refuses records without a key. */
  compacted: boolean;
}

export interface WriteOptions {
  /** The request's one deadline: when it aborts, the write fails with `timeout`. */
  signal: AbortSignal;
}

/** What readiness reports about the writer. */
export interface WriterStatus {
  reachable: boolean;
  /** Why Kafka counts as unreachable, while it does. */
  problem: string | undefined;
  /** A producer is connected now. */
  producerConnected: boolean;
  /** A producer has connected once (one replaced after a failed send does not count against it). */
  producerHasConnected: boolean;
  /** Allowed topics without metadata. */
  missingTopics: string[];
}

export interface WriterLoad {
  requests: number;
  queuedMessages: number;
  inFlightMessages: number;
}

export interface KafkaWriterPort {
  readonly reachable: boolean;
  topicInfo(topic: string): TopicInfo | undefined;
  /** Resolves with one result per record, in order, once Kafka acknowledged all of them. */
  write(topic: string, records: WriteRecord[], options: WriteOptions): Promise<RecordResult[]>;
}
