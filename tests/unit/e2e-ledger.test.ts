import { Ledger, seqOf } from '../e2e/support/ledger';

describe('e2e ledger', () => {
  test('counts acknowledgements, retried 503s, failures and unanswered messages', () => {
    const ledger = new Ledger('run1');
    for (const seq of [0, 1, 2, 3]) ledger.sent(seq);
    ledger.retried503(1);
    ledger.retried503(1);
    ledger.ack(0, { partition: 2, offset: '10' });
    ledger.ack(1, { partition: 2, offset: '11' });
    ledger.fail(2, 'HTTP 500');
    expect(ledger.summary()).toEqual({
      sent: 4,
      acked: 2,
      retried503: 2,
      failures: [{ seq: 2, failure: 'HTTP 500' }],
      unanswered: 1,
    });
    expect(() => ledger.ack(0, { partition: 0, offset: '1' })).toThrow(/already/);
    expect(() => ledger.fail(1, 'late')).toThrow(/already/);
  });

  test('finds acknowledged messages missing from, or different at, their offsets', () => {
    const ledger = new Ledger('run1');
    ledger.ack(0, { partition: 0, offset: '5' });
    ledger.ack(1, { partition: 1, offset: '7' });
    ledger.ack(2, { partition: 0, offset: '6' });
    expect([...ledger.ackedByPartition()]).toEqual([
      [
        0,
        [
          { offset: 5n, seq: 0 },
          { offset: 6n, seq: 2 },
        ],
      ],
      [1, [{ offset: 7n, seq: 1 }]],
    ]);
    expect(
      ledger.lost(
        new Map([
          ['0:5', 0],
          ['1:7', 1],
          ['0:6', 2],
        ]),
      ),
    ).toEqual([]);
    expect(
      ledger.lost(
        new Map([
          ['0:5', 0],
          ['1:7', 9],
        ]),
      ),
    ).toEqual([
      { seq: 1, at: '1:7', found: 9 },
      { seq: 2, at: '0:6' },
    ]);
  });

  test('messages carry the run id and seq, which seqOf reads back', () => {
    const ledger = new Ledger('run1');
    const message = ledger.message(100);
    expect(message.key).toBe('run1-3');
    expect(seqOf(JSON.stringify(message.value), 'run1')).toBe(100);
    expect(seqOf(JSON.stringify(message.value), 'run2')).toBeUndefined();
    expect(seqOf('not json', 'run1')).toBeUndefined();
    expect(seqOf(null, 'run1')).toBeUndefined();
  });
});
