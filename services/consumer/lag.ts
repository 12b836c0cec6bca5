/**
 * Lag arithmetic, free of I/O (the lag monitor feeds it offsets and timestamps).
 *
 * Messages: log-end offset − committed offset, as Kafka's kafka-consumer-groups tool
 * reports it; without a committed offset the group starts at the log start, so every
 * retained message counts.
 *
 * Seconds: the age of the oldest message the group has not consumed, i.e. now − the
 * timestamp of the record at the committed offset (or at the log start, if retention
 * deleted the committed one). 0 when nothing is unconsumed. Because it only needs the
 * committed offset and one record, it is right when the consumer is idle (0), stuck
 * (grows by one second per second, whether or not new messages arrive) or just
 * restarted far behind (the record tells its own age; no history is needed).
 *
 * When the record cannot be read, an estimate takes over: the log end is sampled at
 * every refresh, and the time at which the log end passed the committed offset is
 * interpolated between the two samples around it; that is kafka-lag-exporter's method.
 * Before the first sample it can only give a lower bound.
 */

export interface PartitionOffsets {
  /** Offset the next produced record gets (the high watermark). */
  logEnd: bigint;
  /** Oldest retained offset. */
  logStart: bigint;
  /** The group's committed offset: the next record it will consume; undefined if none. */
  committed: bigint | undefined;
}

export interface PartitionLag {
  messages: bigint;
  /** Offset of the oldest unconsumed record that still exists (when messages > 0). */
  oldestUnconsumed: bigint;
}

export function partitionLag({ logEnd, logStart, committed }: PartitionOffsets): PartitionLag {
  const position = committed ?? logStart;
  const messages = logEnd > position ? logEnd - position : 0n;
  const oldestUnconsumed = position > logStart ? position : logStart;
  return { messages, oldestUnconsumed };
}

/** Seconds since `timestampMs`, never negative (producers' clocks may run ahead). */
export function ageSeconds(nowMs: number, timestampMs: number): number {
  return Math.max(0, nowMs - timestampMs) / 1000;
}

interface Sample {
  logEnd: bigint;
  firstSeen: number;
  lastSeen: number;
}

/**
 * Log-end offsets over time for one partition. Keeps one entry per distinct log end
 * (when it was first and last seen), so a quiet hour costs one entry.
 */
export class LogEndTimeline {
  private samples: Sample[] = [];

  constructor(private readonly maxSamples = 1000) {}

  record(logEnd: bigint, atMs: number): void {
    const last = this.samples[this.samples.length - 1];
    if (last && last.logEnd === logEnd) {
      last.lastSeen = atMs;
      return;
    }
    // A smaller log end means the topic was re-created: the history no longer applies.
    if (last && logEnd < last.logEnd) this.samples = [];
    this.samples.push({ logEnd, firstSeen: atMs, lastSeen: atMs });
    if (this.samples.length > this.maxSamples) this.samples.shift();
  }

  /**
   * Estimated time (ms) at which the record at `offset` was appended, i.e. when the log
   * end first went past it; undefined if no sample has seen it yet. `lowerBound` says
   * the record is older than every sample, so the true time is at or before the answer.
   */
  appendedAt(offset: bigint): { atMs: number; lowerBound: boolean } | undefined {
    const after = this.samples.findIndex((sample) => sample.logEnd > offset);
    if (after === -1) return undefined;
    const next = this.samples[after] as Sample;
    const previous = this.samples[after - 1];
    if (!previous) return { atMs: next.firstSeen, lowerBound: true };
    // Records arrived between previous.lastSeen and next.firstSeen; assume evenly.
    const fraction = Number(offset + 1n - previous.logEnd) / Number(next.logEnd - previous.logEnd);
    return {
      atMs: previous.lastSeen + fraction * (next.firstSeen - previous.lastSeen),
      lowerBound: false,
    };
  }
}
