import { Ledger } from '../e2e/support/ledger';
import { runLoad, type Answer } from '../e2e/support/load';

const ok = (n: number, offset = 0): Answer => ({
  status: 200,
  results: Array.from({ length: n }, (_, i) => ({ partition: 0, offset: String(offset + i) })),
});

describe('e2e load', () => {
  test('sends every message once with at most `concurrency` requests in flight', async () => {
    const ledger = new Ledger('r');
    let inFlight = 0;
    let peak = 0;
    let offset = 0;
    const stats = await runLoad({
      ledger,
      concurrency: 4,
      total: 50,
      batchSize: 3,
      send: async (messages) => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 1));
        inFlight -= 1;
        const answer = ok(messages.length, offset);
        offset += messages.length;
        return answer;
      },
    });
    expect(stats.messages).toBe(50);
    expect(stats.requests).toBe(17);
    expect(peak).toBe(4);
    expect(stats.maxInFlight).toBe(4);
    expect(ledger.summary()).toMatchObject({ sent: 50, acked: 50, failures: [], unanswered: 0 });
  });

  test('retries 503s after Retry-After; other answers and transport errors are failures', async () => {
    const ledger = new Ledger('r');
    const waits: number[] = [];
    const answers = new Map<number, Answer[]>([
      [0, [{ status: 503, retryAfterSeconds: 2 }, ok(1, 10)]],
      [1, [{ status: 400, body: '{"error":{"code":"invalid_request"}}' }]],
      [3, [{ status: 503 }, { status: 503 }, { status: 503 }]],
    ]);
    await runLoad({
      ledger,
      concurrency: 1,
      total: 4,
      maxAttempts: 3,
      sleep: async (ms) => void waits.push(ms),
      send: async (messages) => {
        const seq = (messages[0]?.value as { seq: number }).seq;
        if (seq === 2) throw Object.assign(new Error('socket hang up'), { name: 'TypeError' });
        return answers.get(seq)?.shift() ?? ok(1);
      },
    });
    const summary = ledger.summary();
    expect(summary.acked).toBe(1);
    expect(summary.retried503).toBe(3);
    expect(summary.failures).toEqual([
      { seq: 1, failure: 'HTTP 400: {"error":{"code":"invalid_request"}}' },
      { seq: 2, failure: 'transport error: TypeError: socket hang up' },
      { seq: 3, failure: '503 after 3 attempts: ' },
    ]);
    expect(waits).toEqual([2000, 1000, 1000]);
  });

  test('keepGoing stops new batches; the seq numbering continues from firstSeq', async () => {
    const ledger = new Ledger('r');
    let sent = 0;
    const stats = await runLoad({
      ledger,
      concurrency: 2,
      firstSeq: 100,
      keepGoing: () => sent < 10,
      send: async (messages) => {
        sent += messages.length;
        return ok(messages.length);
      },
    });
    expect(stats.messages).toBeGreaterThanOrEqual(10);
    expect(stats.nextSeq).toBe(100 + stats.messages);
    expect(ledger.summary().unanswered).toBe(0);
    await expect(runLoad({ ledger, concurrency: 1, send: async () => ok(1) })).rejects.toThrow(
      /total or keepGoing/,
    );
  });

  test('a 200 with the wrong number of results fails the batch', async () => {
    const ledger = new Ledger('r');
    await runLoad({ ledger, concurrency: 1, total: 2, batchSize: 2, send: async () => ok(1) });
    expect(ledger.summary().failures.map((f) => f.failure)).toEqual([
      '200 with 1 results for 2 messages',
      '200 with 1 results for 2 messages',
    ]);
  });

  test('reports the longest time without an acknowledgement', async () => {
    let clock = 1_000;
    const answers: Answer[] = [ok(1, 0), { status: 503, retryAfterSeconds: 1 }, ok(1, 1), ok(1, 2)];
    const stats = await runLoad({
      ledger: new Ledger('r'),
      concurrency: 1,
      total: 3,
      now: () => clock,
      sleep: async (ms) => void (clock += ms),
      send: async () => {
        clock += 10;
        return answers.shift() ?? ok(1, 9);
      },
    });
    // 10 ms to the first ack; then a 503, 1 s of Retry-After and two requests: 1,020 ms.
    expect(stats.longestAckGapMs).toBe(1_020);
  });
});
