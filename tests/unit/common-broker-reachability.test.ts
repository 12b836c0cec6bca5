import { BrokerReachability } from '../../services/common/broker-reachability';

const A = '127.0.0.1:9093';
const B = '127.0.0.1:9094';
const REFUSED = `Connection error: connect ECONNREFUSED ${A}`;

function tracker(escalateAfterMs = 60_000) {
  let now = 1_000_000;
  const brokers = new BrokerReachability({ escalateAfterMs, now: () => now });
  return { brokers, advance: (ms: number) => (now += ms) };
}

describe('broker reachability', () => {
  it('says "unreachable" at the first failure only, and "reachable again" at the first answer', () => {
    const { brokers, advance } = tracker();
    expect(brokers.answered(A)).toBeUndefined(); // answering brokers are not news
    expect(brokers.failed(A, REFUSED)).toEqual({ kind: 'unreachable', broker: A, error: REFUSED });
    for (let attempt = 0; attempt < 47; attempt += 1) {
      advance(1_000);
      expect(brokers.failed(A, REFUSED)).toBeUndefined();
    }
    expect(brokers.unreachable()).toEqual([A]);
    advance(500);
    expect(brokers.answered(A)).toEqual({
      kind: 'reachable-again',
      broker: A,
      downForMs: 47_500,
      failedAttempts: 48,
    });
    expect(brokers.answered(A)).toBeUndefined();
    expect(brokers.unreachable()).toEqual([]);
  });

  it('a new outage after an answer is a new change', () => {
    const { brokers, advance } = tracker();
    brokers.failed(A, REFUSED);
    brokers.answered(A);
    advance(10);
    expect(brokers.failed(A, 'Connection timeout')).toMatchObject({ kind: 'unreachable' });
  });

  it('escalates once when attempts still fail after the threshold, and not without attempts', () => {
    const { brokers, advance } = tracker(60_000);
    brokers.failed(A, REFUSED);
    advance(59_999);
    expect(brokers.failed(A, REFUSED)).toBeUndefined();
    advance(1);
    expect(brokers.failed(A, REFUSED)).toEqual({
      kind: 'still-unreachable',
      broker: A,
      error: REFUSED,
      downForMs: 60_000,
      failedAttempts: 3,
    });
    advance(120_000);
    expect(brokers.failed(A, REFUSED)).toBeUndefined();
    expect(brokers.answered(A)).toMatchObject({ kind: 'reachable-again', failedAttempts: 4 });
  });

  it('keeps each broker apart', () => {
    const { brokers } = tracker();
    expect(brokers.failed(A, REFUSED)).toMatchObject({ kind: 'unreachable', broker: A });
    expect(brokers.failed(B, 'Connection timeout')).toMatchObject({
      kind: 'unreachable',
      broker: B,
    });
    expect(brokers.answered(B)).toMatchObject({ kind: 'reachable-again', broker: B });
    expect(brokers.unreachable()).toEqual([A]);
  });
});
