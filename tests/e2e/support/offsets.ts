/**
 * A consumer group's lag from its committed offsets and the topic's end offsets, and whether
 * the commits are past every acknowledged message. Pure: tests/unit/e2e-offsets.test.ts.
 */

export interface PartitionOffsets {
  partition: number;
  /** Committed offset ("-1": none yet). */
  committed: string;
  /** Log start and end (high watermark). */
  low: string;
  high: string;
}

export interface GroupLag {
  total: bigint;
  perPartition: Array<{ partition: number; lag: bigint }>;
}

export function groupLag(partitions: readonly PartitionOffsets[]): GroupLag {
  const perPartition = partitions.map((p) => {
    const high = BigInt(p.high);
    const committed = BigInt(p.committed);
    const from = committed < 0n ? BigInt(p.low) : committed;
    return { partition: p.partition, lag: high > from ? high - from : 0n };
  });
  return { total: perPartition.reduce((sum, p) => sum + p.lag, 0n), perPartition };
}

/**
 * Partitions whose committed offset is not yet past the last acknowledged message there
 * (the consumer commits offset+1 once a message is handled or dead-lettered).
 */
export function uncommittedAcks(
  partitions: readonly PartitionOffsets[],
  lastAckedByPartition: ReadonlyMap<number, bigint>,
): Array<{ partition: number; committed: string; lastAcked: string }> {
  const committed = new Map(partitions.map((p) => [p.partition, BigInt(p.committed)]));
  const behind: Array<{ partition: number; committed: string; lastAcked: string }> = [];
  for (const [partition, last] of lastAckedByPartition) {
    const at = committed.get(partition) ?? -1n;
    if (at <= last) behind.push({ partition, committed: String(at), lastAcked: String(last) });
  }
  return behind;
}

/** Joins kafkajs' fetchOffsets and fetchTopicOffsets answers. */
export function joinOffsets(
  committed: ReadonlyArray<{ partition: number; offset: string }>,
  topicOffsets: ReadonlyArray<{ partition: number; high: string; low: string }>,
): PartitionOffsets[] {
  const byPartition = new Map(committed.map((c) => [c.partition, c.offset]));
  return topicOffsets
    .map((t) => ({
      partition: t.partition,
      committed: byPartition.get(t.partition) ?? '-1',
      low: t.low,
      high: t.high,
    }))
    .sort((a, b) => a.partition - b.partition);
}
