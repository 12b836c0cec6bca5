import {
  chunkedPartition,
  measureSends,
  MeasureWindow,
  parsesToObject,
  type RawProducerConfig,
} from '../../bench/lib/raw-client';

const producerConfig = (over: Partial<RawProducerConfig> = {}): RawProducerConfig => ({
  kind: 'producer',
  brokers: [],
  topic: 't',
  partitions: 3,
  batchMessages: 4,
  valueBytes: 10,
  chunk: 2,
  warmupMessages: 6,
  messages: 10,
  ...over,
});

describe('the raw producer rows', () => {
  it('place keyless messages in runs of `chunk` per partition, in turn', () => {
    const config = producerConfig();
    expect(Array.from({ length: 8 }, (_, i) => chunkedPartition(config, i))).toEqual([
      0, 0, 1, 1, 2, 2, 0, 0,
    ]);
  });

  it('send the warm-up, then the measured messages, in batches no larger than asked', async () => {
    const sizes: number[] = [];
    const result = await measureSends(producerConfig(), async (count) => {
      sizes.push(count);
    });
    // 6 warm-up messages as 4 + 2, then 10 measured as 4 + 4 + 2.
    expect(sizes).toEqual([4, 2, 4, 4, 2]);
    expect(result.messages).toBe(10);
    expect(result.messagesPerSec).toBeCloseTo(10 / result.seconds);
    expect(result.sendMs).toBeDefined();
  });

  it('time each measured send', async () => {
    // The clock is the test's, so a pause of the machine cannot lengthen the short sends.
    jest.useFakeTimers();
    try {
      const measuring = measureSends(producerConfig({ warmupMessages: 0 }), async (count) => {
        await new Promise((done) => setTimeout(done, count === 2 ? 40 : 1));
      });
      await jest.advanceTimersByTimeAsync(100);
      const result = await measuring;
      // Three sends: 1, 1 and 40 ms (the last holds the 2 left over).
      expect(result.sendMs?.p99).toBeGreaterThanOrEqual(40);
      expect(result.sendMs?.p50).toBeLessThan(2);
    } finally {
      jest.useRealTimers();
    }
  });

  it('fail with the send that failed', async () => {
    await expect(
      measureSends(producerConfig(), () => Promise.reject(new Error('broker said no'))),
    ).rejects.toThrow('broker said no');
  });
});

describe('the raw consumer rows', () => {
  const window = (warmupMessages: number, messages: number, timeoutMs = 10_000) =>
    new MeasureWindow({ warmupMessages, messages, timeoutMs });

  it('measure from the delivery that crosses the warm-up to the one that reaches the target', async () => {
    const measuring = window(10, 20);
    let settled = false;
    measuring.measured.then(
      () => (settled = true),
      () => undefined,
    );
    // Counts 4, 8, 12 (this one crossed the warm-up of 10: the window opens), 20, 26.
    for (const delivered of [4, 4, 4, 8, 6]) measuring.add(delivered);
    await new Promise((done) => setImmediate(done));
    expect(settled).toBe(false);
    measuring.add(4); // 30: the target
    const measured = await measuring.measured;
    expect(measured.messages).toBe(30 - 12);
    expect(measured.seconds).toBeGreaterThanOrEqual(0);
    expect(measured.cpuSec).toBeGreaterThanOrEqual(0);
  });

  it('refuse a window that one delivery held whole', async () => {
    const measuring = window(5, 5);
    measuring.add(10);
    await expect(measuring.measured).rejects.toThrow('raise the count');
  });

  it('give up after the timeout, saying how far it got', async () => {
    const measuring = window(5, 5, 50);
    measuring.add(3);
    await expect(measuring.measured).rejects.toThrow('3 of 10 messages after 50 ms');
  });

  it('fail with the client', async () => {
    const measuring = window(5, 5);
    measuring.fail(new Error('coordinator gone'));
    await expect(measuring.measured).rejects.toThrow('coordinator gone');
  });

  it('count a value that parses to an object, and nothing else', () => {
    expect(parsesToObject(Buffer.from('{"a":1}'))).toBe(1);
    expect(parsesToObject(Buffer.from('3'))).toBe(0);
    expect(parsesToObject(null)).toBe(0);
    expect(() => parsesToObject(Buffer.from('{'))).toThrow(SyntaxError);
  });
});
