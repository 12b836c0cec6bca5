import { groupLag, joinOffsets, uncommittedAcks } from '../e2e/support/offsets';

describe('e2e offsets', () => {
  const offsets = joinOffsets(
    [
      { partition: 1, offset: '40' },
      { partition: 0, offset: '100' },
    ],
    [
      { partition: 0, low: '0', high: '100' },
      { partition: 1, low: '0', high: '45' },
      { partition: 2, low: '7', high: '9' },
    ],
  );

  test('joins committed and end offsets; a partition without a commit counts from its start', () => {
    expect(offsets).toEqual([
      { partition: 0, committed: '100', low: '0', high: '100' },
      { partition: 1, committed: '40', low: '0', high: '45' },
      { partition: 2, committed: '-1', low: '7', high: '9' },
    ]);
    expect(groupLag(offsets)).toEqual({
      total: 7n,
      perPartition: [
        { partition: 0, lag: 0n },
        { partition: 1, lag: 5n },
        { partition: 2, lag: 2n },
      ],
    });
  });

  test('a partition is done when its commit is past its last acknowledged message', () => {
    const last = new Map([
      [0, 99n],
      [1, 40n],
      [2, 3n],
    ]);
    expect(uncommittedAcks(offsets, last)).toEqual([
      { partition: 1, committed: '40', lastAcked: '40' },
      { partition: 2, committed: '-1', lastAcked: '3' },
    ]);
  });
});
