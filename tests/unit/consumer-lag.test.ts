import { ageSeconds, LogEndTimeline, partitionLag } from '../../services/consumer/lag';

describe('partitionLag', () => {
  it('is log end minus committed offset', () => {
    expect(partitionLag({ logEnd: 1500n, logStart: 0n, committed: 500n })).toEqual({
      messages: 1000n,
      oldestUnconsumed: 500n,
    });
  });

  it('is 0 when caught up', () => {
    expect(partitionLag({ logEnd: 42n, logStart: 0n, committed: 42n }).messages).toBe(0n);
  });

  it('counts every retained message when the group never committed', () => {
    expect(partitionLag({ logEnd: 300n, logStart: 100n, committed: undefined })).toEqual({
      messages: 200n,
      oldestUnconsumed: 100n,
    });
  });

  it('counts messages deleted by retention like Kafka does, but dates lag from the oldest one left', () => {
    expect(partitionLag({ logEnd: 300n, logStart: 100n, committed: 50n })).toEqual({
      messages: 250n,
      oldestUnconsumed: 100n,
    });
  });

  it('handles 64-bit offsets exactly', () => {
    const logEnd = 2n ** 62n;
    expect(partitionLag({ logEnd, logStart: 0n, committed: logEnd - 1n }).messages).toBe(1n);
  });
});

describe('ageSeconds', () => {
  it('is now minus the timestamp, in seconds', () => {
    expect(ageSeconds(10_500, 10_000)).toBe(0.5);
  });

  it('is never negative (a producer clock ahead of ours)', () => {
    expect(ageSeconds(10_000, 12_000)).toBe(0);
  });
});

describe('LogEndTimeline', () => {
  it('interpolates the append time of an offset between the samples around it', () => {
    const timeline = new LogEndTimeline();
    timeline.record(100n, 1_000);
    timeline.record(200n, 2_000);
    // Offset 149 was appended when the log end went past it: halfway through 100→200.
    expect(timeline.appendedAt(149n)).toEqual({ atMs: 1_500, lowerBound: false });
    expect(timeline.appendedAt(100n)).toEqual({ atMs: 1_010, lowerBound: false });
    expect(timeline.appendedAt(199n)).toEqual({ atMs: 2_000, lowerBound: false });
  });

  it('uses the last time a quiet log end was seen, not the first', () => {
    const timeline = new LogEndTimeline();
    timeline.record(100n, 1_000);
    timeline.record(100n, 9_000); // nothing produced for 8 s
    timeline.record(110n, 10_000);
    expect(timeline.appendedAt(104n)?.atMs).toBe(9_500);
  });

  it('knows nothing about offsets the log end has not passed', () => {
    const timeline = new LogEndTimeline();
    timeline.record(100n, 1_000);
    expect(timeline.appendedAt(100n)).toBeUndefined();
  });

  it('gives a lower bound for records older than the first sample', () => {
    const timeline = new LogEndTimeline();
    timeline.record(100n, 5_000);
    expect(timeline.appendedAt(10n)).toEqual({ atMs: 5_000, lowerBound: true });
  });

  it('forgets the oldest samples beyond its size, and history when the log end shrinks', () => {
    const timeline = new LogEndTimeline(2);
    timeline.record(10n, 1_000);
    timeline.record(20n, 2_000);
    timeline.record(30n, 3_000);
    expect(timeline.appendedAt(15n)).toEqual({ atMs: 2_000, lowerBound: true });
    timeline.record(5n, 4_000); // topic re-created
    expect(timeline.appendedAt(25n)).toBeUndefined();
    expect(timeline.appendedAt(0n)).toEqual({ atMs: 4_000, lowerBound: true });
  });
});
