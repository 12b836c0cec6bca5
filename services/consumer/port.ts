/**
 * What the consumer's product modules (processor, dead letters, lag monitor) see of Kafka.
 * Nothing here is kafkajs's: the kafkajs-*.ts modules of this folder translate, and main.ts
 * wires them in. The record a handler gets, ConsumedMessage, is the handler contract
 * (message.ts).
 */

/**
 * Header values of a dead letter: ours are strings, the source message's stay the bytes they
 * were (an array where a name repeats).
 */
export type DeadLetterHeaders = Record<string, string | Buffer | Buffer[]>;

/** The record written to the dead-letter topic for a message that could not be processed. */
export interface DeadLetter {
  key: Buffer | null;
  value: Buffer | null;
  headers: DeadLetterHeaders;
}

/** The group's committed offset of one partition. */
export interface CommittedOffset {
  topic: string;
  partition: number;
  /** The next record the group will consume; undefined when it has committed nothing. */
  offset: bigint | undefined;
}

/** The retained range of one partition. */
export interface LogOffsets {
  partition: number;
  /** Offset the next produced record gets (the high watermark). */
  logEnd: bigint;
  /** Oldest retained offset. */
  logStart: bigint;
}

/** The admin calls the lag monitor makes. */
export interface LagAdmin {
  connect(): Promise<void>;
  /** Every partition of `topics` that the group has an entry for. */
  committedOffsets(groupId: string, topics: readonly string[]): Promise<CommittedOffset[]>;
  /** Every partition of `topic`. */
  logOffsets(topic: string): Promise<LogOffsets[]>;
  disconnect(): Promise<void>;
}

/** Reads the timestamp of one record, without a consumer group (common/kafka.ts has one). */
export interface RecordTimestamps {
  /** Timestamp (ms) of the first record at or after `offset`; undefined if there is none yet. */
  timestampAt(topic: string, partition: number, offset: string): Promise<number | undefined>;
  disconnect(): Promise<void>;
}
