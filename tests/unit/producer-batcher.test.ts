import { Batcher, type BatcherOptions } from '../../services/producer/kafka/batcher';
import { sendFailure } from '../../services/producer/kafka/kafkajs-errors';
import type { PartitionAck, TopicBatch } from '../../services/producer/kafka/leader-senders';
import type { PlacedRecord } from '../../services/producer/kafka/placement';
import type { RecordResult } from '../../services/producer/kafka/port';
import { WriteError, type WriteErrorCode } from '../../services/producer/kafka/write-error';

/** A fake Kafka: keeps a log per topic-partition, assigns offsets like a broker. */
class FakeKafka {
  readonly log = new Map<string, PlacedRecord[]>();
  readonly sends: TopicBatch[][] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** Resolves pending sends when set to manual. */
  private gates: Array<() => void> = [];
  manual = false;
  /** With `manual` off, holds only the sends this says yes to. */
  hold: ((batches: TopicBatch[]) => boolean) | undefined;
  failWith: ((batches: TopicBatch[]) => unknown) | undefined;
  /** Sends in flight per topic/partition, and the most ever seen at once. */
  private readonly partitionsInFlight = new Map<string, number>();
  maxPartitionInFlight = 0;

  send = async (batches: TopicBatch[]): Promise<PartitionAck[]> => {
    this.sends.push(batches);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const partitions = new Set(
      batches.flatMap(({ topic, records }) => records.map((r) => `${topic}/${r.partition}`)),
    );
    for (const key of partitions) {
      const count = (this.partitionsInFlight.get(key) ?? 0) + 1;
      this.partitionsInFlight.set(key, count);
      this.maxPartitionInFlight = Math.max(this.maxPartitionInFlight, count);
    }
    try {
      if (this.manual || this.hold?.(batches)) {
        await new Promise<void>((resolve) => this.gates.push(resolve));
      } else await Promise.resolve();
      const failure = this.failWith?.(batches);
      if (failure) throw failure;
      const acks: PartitionAck[] = [];
      for (const { topic, records } of batches) {
        const byPartition = new Map<number, PlacedRecord[]>();
        for (const record of records) {
          byPartition.set(record.partition, [...(byPartition.get(record.partition) ?? []), record]);
        }
        for (const [partition, list] of byPartition) {
          const key = `${topic}/${partition}`;
          const existing = this.log.get(key) ?? [];
          acks.push({ topic, partition, baseOffset: String(existing.length) });
          this.log.set(key, [...existing, ...list]);
        }
      }
      return acks;
    } finally {
      this.inFlight -= 1;
      for (const key of partitions) {
        this.partitionsInFlight.set(key, (this.partitionsInFlight.get(key) ?? 1) - 1);
      }
    }
  };

  release(): void {
    const gates = this.gates;
    this.gates = [];
    gates.forEach((open) => open());
  }
}

function record(
  value: string,
  partition: number,
  key: string | null = null,
  bytes = 100,
): PlacedRecord {
  return { key, value, headers: undefined, partition, bytes };
}

/** A request's deadline, as the HTTP layer gives one (fake timers can run it). */
function deadline(ms: number): AbortSignal {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), ms).unref();
  return controller.signal;
}

/** The batcher, each request given a deadline of `requestTimeoutMs` (5 s unless said). */
class TestBatcher extends Batcher {
  constructor(
    options: BatcherOptions,
    private readonly requestTimeoutMs: number,
  ) {
    super(options);
  }

  override submit(
    topic: string,
    records: PlacedRecord[],
    signal: AbortSignal = deadline(this.requestTimeoutMs),
  ): Promise<RecordResult[]> {
    return super.submit(topic, records, signal);
  }
}

function batcher(
  kafka: FakeKafka,
  {
    requestTimeoutMs = 5_000,
    ...overrides
  }: Partial<BatcherOptions> & { requestTimeoutMs?: number } = {},
): TestBatcher {
  return new TestBatcher(
    {
      send: kafka.send,
      sendFailure,
      lingerMs: 5,
      maxBatchMessages: 1000,
      maxBatchBytes: 1_000_000,
      bufferMaxMessages: 10_000,
      bufferMaxBytes: 10_000_000,
      maxRecordBatchBytes: () => 1_000_000,
      ...overrides,
    },
    requestTimeoutMs,
  );
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

async function expectWriteError(
  promise: Promise<unknown>,
  code: WriteErrorCode,
): Promise<WriteError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WriteError);
  expect((error as WriteError).code).toBe(code);
  return error as WriteError;
}

/** The partitions of each send, as topic/partition. */
const partitionsOf = (send: TopicBatch[]) =>
  [...new Set(send.flatMap((b) => b.records.map((r) => `${b.topic}/${r.partition}`)))].sort();

const settledYet = async (promise: Promise<unknown>) => {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await tick();
  return done;
};

describe('batcher with leaders: a broker that stops answering holds up only its partitions', () => {
  test('sends one request per leader; a stuck leader does not hold the others', async () => {
    const kafka = new FakeKafka();
    // Partition 0 is led by broker 1, which does not answer; 1 and 2 by broker 2.
    const leaders: Record<number, number> = { 0: 1, 1: 2, 2: 2 };
    kafka.hold = (batches) => partitionsOf(batches).includes('t/0');
    const b = batcher(kafka, { lingerMs: 0, leaderOf: (_topic, p) => leaders[p] });
    const stuck = b.submit('t', [record('a1', 0, 'a')]);
    const other = b.submit('t', [record('b1', 1, 'b'), record('c1', 2, 'c')]);
    expect(await other).toEqual([
      { partition: 1, offset: '0' },
      { partition: 2, offset: '0' },
    ]);
    expect(kafka.sends.map(partitionsOf)).toEqual([['t/0'], ['t/1', 't/2']]);
    // More for the stuck partition waits behind it; more for the others goes at once.
    const behind = b.submit('t', [record('a2', 0, 'a')]);
    expect(await b.submit('t', [record('b2', 1, 'b')])).toEqual([{ partition: 1, offset: '1' }]);
    expect(await settledYet(stuck)).toBe(false);
    expect(await settledYet(behind)).toBe(false);
    expect(kafka.sends.filter((send) => partitionsOf(send).includes('t/0'))).toHaveLength(1);
    kafka.hold = undefined;
    kafka.release();
    expect(await stuck).toEqual([{ partition: 0, offset: '0' }]);
    expect(await behind).toEqual([{ partition: 0, offset: '1' }]);
    expect(kafka.log.get('t/0')?.map((r) => r.value)).toEqual(['a1', 'a2']);
  });

  test('a leader counts as stalled once its send has been in flight longer than asked', async () => {
    const kafka = new FakeKafka();
    kafka.hold = (batches) => partitionsOf(batches).includes('t/0');
    const b = batcher(kafka, { lingerMs: 0, leaderOf: (_topic, p) => (p === 0 ? 1 : 2) });
    const stuck = b.submit('t', [record('a1', 0, 'a')]);
    await b.submit('t', [record('b1', 1, 'b')]);
    // Not yet stalled by a bound no pause of this machine reaches; then past a short one.
    expect(b.isLeaderStalled(1, 60_000)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(b.isLeaderStalled(1, 50)).toBe(true);
    expect(b.isLeaderStalled(2, 50)).toBe(false); // its send is done
    kafka.hold = undefined;
    kafka.release();
    await stuck;
    await tick(); // the send's bookkeeping ends just after its requests are answered
    expect(b.isLeaderStalled(1, 50)).toBe(false);
  });

  test('a partition whose leader moved still waits for its send in flight', async () => {
    const kafka = new FakeKafka();
    const leaders: Record<number, number> = { 0: 1, 1: 2 };
    kafka.hold = (batches) => partitionsOf(batches).includes('t/0');
    const b = batcher(kafka, { lingerMs: 0, leaderOf: (_topic, p) => leaders[p] });
    const first = b.submit('t', [record('a1', 0, 'a')]);
    await tick();
    leaders[0] = 2; // broker 2 is free, but partition 0 is still in a send
    const second = b.submit('t', [record('a2', 0, 'a')]);
    await b.submit('t', [record('b1', 1, 'b')]);
    expect(await settledYet(second)).toBe(false);
    expect(kafka.maxPartitionInFlight).toBe(1);
    kafka.hold = undefined;
    kafka.release();
    await Promise.all([first, second]);
    expect(kafka.log.get('t/0')?.map((r) => r.value)).toEqual(['a1', 'a2']);
  });

  test('under random delays: per-partition order holds, one send per partition and leader', async () => {
    const kafka = new FakeKafka();
    const leaders: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 3 };
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    kafka.hold = () => random() < 0.5;
    const leadersInFlight = new Map<number, number>();
    let maxLeaderInFlight = 0;
    const send = kafka.send;
    const b = batcher(kafka, {
      lingerMs: 0,
      maxBatchMessages: 7,
      leaderOf: (_topic, p) => leaders[p],
      send: async (batches) => {
        const sendLeaders = new Set(
          batches.flatMap((x) => x.records.map((r) => leaders[r.partition] ?? -1)),
        );
        expect(sendLeaders.size).toBe(1);
        const [leader] = [...sendLeaders] as [number];
        leadersInFlight.set(leader, (leadersInFlight.get(leader) ?? 0) + 1);
        maxLeaderInFlight = Math.max(maxLeaderInFlight, leadersInFlight.get(leader) ?? 0);
        try {
          return await send(batches);
        } finally {
          leadersInFlight.set(leader, (leadersInFlight.get(leader) ?? 1) - 1);
        }
      },
    });
    const pending: Array<Promise<unknown>> = [];
    for (let i = 0; i < 200; i += 1) {
      const p = Math.floor(random() * 4);
      pending.push(b.submit('t', [record(`${p}-${i}`, p, `k${p}`)]));
      if (random() < 0.3) await tick();
      if (random() < 0.3) kafka.release();
    }
    kafka.hold = undefined;
    while (b.bufferedMessages > 0) {
      kafka.release();
      await tick();
    }
    await Promise.all(pending);
    expect(kafka.maxPartitionInFlight).toBe(1);
    expect(maxLeaderInFlight).toBe(1);
    expect(kafka.maxInFlight).toBeGreaterThan(1);
    let total = 0;
    for (let p = 0; p < 4; p += 1) {
      const order =
        kafka.log.get(`t/${p}`)?.map((r) => Number(String(r.value).split('-')[1])) ?? [];
      expect(order).toEqual([...order].sort((x, y) => x - y));
      total += order.length;
    }
    expect(total).toBe(200);
  });
});

describe('batcher', () => {
  test('coalesces concurrent requests into one send and gives each its own offsets in order', async () => {
    const kafka = new FakeKafka();
    const b = batcher(kafka);
    const first = b.submit('t', [record('a1', 0, 'a'), record('b1', 1, 'b'), record('a2', 0, 'a')]);
    const second = b.submit('t', [record('b2', 1, 'b'), record('c1', 2, 'c')]);
    const third = b.submit('u', [record('x', 0)]);
    const results = await Promise.all([first, second, third]);
    expect(kafka.sends).toHaveLength(1);
    expect(results[0]).toEqual([
      { partition: 0, offset: '0' },
      { partition: 1, offset: '0' },
      { partition: 0, offset: '1' },
    ]);
    expect(results[1]).toEqual([
      { partition: 1, offset: '1' },
      { partition: 2, offset: '0' },
    ]);
    expect(results[2]).toEqual([{ partition: 0, offset: '0' }]);
    // The offsets the requests got are where the fake broker put exactly those records.
    expect(kafka.log.get('t/0')?.map((r) => r.value)).toEqual(['a1', 'a2']);
    expect(kafka.log.get('t/1')?.map((r) => r.value)).toEqual(['b1', 'b2']);
    await tick();
    expect(b.bufferedMessages).toBe(0);
  });

  test('keeps one send in flight; later requests wait and keep their order per key', async () => {
    const kafka = new FakeKafka();
    kafka.manual = true;
    const b = batcher(kafka, { lingerMs: 0 });
    const pending: Array<Promise<unknown>> = [];
    for (let i = 0; i < 30; i += 1) {
      pending.push(b.submit('t', [record(`k${i % 3}-${i}`, i % 3, `k${i % 3}`)]));
      if (i % 7 === 0) await tick();
      kafka.release();
    }
    while (b.bufferedMessages > 0) {
      kafka.release();
      await tick();
    }
    await Promise.all(pending);
    expect(kafka.maxInFlight).toBe(1);
    expect(kafka.sends.length).toBeGreaterThan(1);
    for (let p = 0; p < 3; p += 1) {
      const values = kafka.log.get(`t/${p}`)?.map((r) => Number(String(r.value).split('-')[1]));
      expect(values).toEqual([...(values ?? [])].sort((x, y) => x - y));
      expect(values).toHaveLength(10);
    }
  });

  test("a send takes the oldest records across partitions, not one partition's newest first", async () => {
    const kafka = new FakeKafka();
    const b = batcher(kafka, { maxBatchMessages: 2, lingerMs: 20 });
    const requests = [
      b.submit('t', [record('a1', 0)]),
      b.submit('t', [record('b1', 1)]),
      b.submit('t', [record('a2', 0)]),
      b.submit('t', [record('b2', 1)]),
    ];
    await Promise.all(requests);
    expect(kafka.sends.map((s) => s.flatMap((t) => t.records.map((r) => r.value)))).toEqual([
      ['a1', 'b1'],
      ['a2', 'b2'],
    ]);
  });

  test('a batch holds at most maxBatchMessages, maxBatchBytes and a partition max.message.bytes', async () => {
    const kafka = new FakeKafka();
    const byCount = batcher(kafka, { maxBatchMessages: 4 });
    await byCount.submit(
      't',
      Array.from({ length: 10 }, (_, i) => record(String(i), i % 2)),
    );
    expect(kafka.sends.map((s) => s[0]?.records.length)).toEqual([4, 4, 2]);

    const kafka2 = new FakeKafka();
    const byBytes = batcher(kafka2, { maxBatchBytes: 250 });
    await byBytes.submit(
      't',
      Array.from({ length: 5 }, (_, i) => record(String(i), i)),
    );
    expect(kafka2.sends.map((s) => s[0]?.records.length)).toEqual([2, 2, 1]);

    // Two partitions, 61 bytes of batch header + 100 per record, limit 300 per partition.
    const kafka3 = new FakeKafka();
    const byPartition = batcher(kafka3, { maxRecordBatchBytes: () => 300 });
    const results = await byPartition.submit('t', [
      record('p0-1', 0),
      record('p1-1', 1),
      record('p0-2', 0),
      record('p0-3', 0),
      record('p1-2', 1),
    ]);
    // A partition at its limit leaves the rest of the send to the other partitions.
    expect(kafka3.sends.map((s) => s[0]?.records.map((r) => r.value))).toEqual([
      ['p0-1', 'p1-1', 'p0-2', 'p1-2'],
      ['p0-3'],
    ]);
    expect(results).toEqual([
      { partition: 0, offset: '0' },
      { partition: 1, offset: '0' },
      { partition: 0, offset: '1' },
      { partition: 0, offset: '2' },
      { partition: 1, offset: '1' },
    ]);
  });

  describe('with fake timers', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    test('lingers before sending a batch that is not full', async () => {
      const kafka = new FakeKafka();
      const b = batcher(kafka, { lingerMs: 50 });
      const done = b.submit('t', [record('a', 0)]);
      await jest.advanceTimersByTimeAsync(30);
      const later = b.submit('t', [record('b', 0)]);
      await jest.advanceTimersByTimeAsync(10);
      expect(kafka.sends).toHaveLength(0);
      await jest.advanceTimersByTimeAsync(15);
      await Promise.all([done, later]);
      expect(kafka.sends).toHaveLength(1);
      expect(kafka.sends[0]?.[0]?.records).toHaveLength(2);
    });

    test('a full batch leaves without lingering', async () => {
      const kafka = new FakeKafka();
      const b = batcher(kafka, { lingerMs: 10_000, maxBatchMessages: 3 });
      const done = b.submit('t', [record('a', 0), record('b', 0), record('c', 0)]);
      await jest.advanceTimersByTimeAsync(1);
      await done;
      expect(kafka.sends).toHaveLength(1);
    });

    test('a request not acknowledged in time gets produce_timeout and its queued records are dropped', async () => {
      const kafka = new FakeKafka();
      kafka.manual = true;
      const b = batcher(kafka, { lingerMs: 0, requestTimeoutMs: 1000 });
      const first = b.submit('t', [record('a', 0)]);
      await jest.advanceTimersByTimeAsync(1);
      const second = b.submit('t', [record('b', 0)]);
      const firstError = expectWriteError(first, 'timeout');
      const secondError = expectWriteError(second, 'timeout');
      await jest.advanceTimersByTimeAsync(1000);
      const error = await firstError;
      await secondError;
      expect(error).toMatchObject({ retriable: true, buffered: true });
      kafka.release();
      await jest.advanceTimersByTimeAsync(10);
      // "b" timed out while queued: it was never sent.
      expect(kafka.sends).toHaveLength(1);
      expect(b.bufferedMessages).toBe(0);
    });
  });

  test('refuses a request that does not fit in the buffer, at once, and accepts again after', async () => {
    const kafka = new FakeKafka();
    kafka.manual = true;
    const b = batcher(kafka, { lingerMs: 0, bufferMaxMessages: 5, bufferMaxBytes: 100_000 });
    const first = b.submit('t', [record('a', 0), record('b', 0), record('c', 0)]);
    await expectWriteError(
      b.submit('t', [record('d', 0), record('e', 0), record('f', 0)]),
      'buffer_full',
    );
    const fits = b.submit('t', [record('g', 0), record('h', 0)]);
    expect(b.bufferedMessages).toBe(5);
    while (b.bufferedMessages > 0) {
      kafka.release();
      await tick();
    }
    await Promise.all([first, fits]);
    const again = b.submit('t', [record('i', 0)]);
    await tick();
    kafka.release();
    await expect(again).resolves.toHaveLength(1);

    const bytes = new FakeKafka();
    bytes.manual = true;
    const byBytes = batcher(bytes, { lingerMs: 0, bufferMaxBytes: 250 });
    const held = byBytes.submit('t', [record('a', 0), record('b', 0)]);
    await expectWriteError(byBytes.submit('t', [record('c', 0)]), 'buffer_full');
    await tick();
    bytes.release();
    await held;
  });

  test('an empty buffer takes a request larger than the buffer limits', async () => {
    const kafka = new FakeKafka();
    const b = batcher(kafka, { bufferMaxMessages: 2 });
    await expect(
      b.submit('t', [record('a', 0), record('b', 0), record('c', 0)]),
    ).resolves.toHaveLength(3);
  });

  test('a record Kafka refuses fails only the request holding it', async () => {
    const kafka = new FakeKafka();
    kafka.failWith = (batches) =>
      batches.some((batch) => batch.records.some((r) => r.value === 'huge'))
        ? Object.assign(new Error('too large'), { type: 'MESSAGE_TOO_LARGE' })
        : undefined;
    const b = batcher(kafka);
    const good1 = b.submit('t', [record('g1', 0)]);
    const bad = b.submit('t', [record('ok', 1), record('huge', 0)]);
    const good2 = b.submit('t', [record('g2', 0)]);
    const error = await expectWriteError(bad, 'record_too_large');
    expect(error).toMatchObject({ requestSpecific: true, retriable: false });
    await expect(good1).resolves.toEqual([{ partition: 0, offset: '0' }]);
    await expect(good2).resolves.toEqual([{ partition: 0, offset: '1' }]);
    // One combined attempt, then one per request in their order.
    expect(kafka.sends.map((s) => s.flatMap((t) => t.records.map((r) => r.value)))).toEqual([
      ['g1', 'ok', 'huge', 'g2'],
      ['g1'],
      ['ok', 'huge'],
      ['g2'],
    ]);
  });

  test('an unavailable Kafka fails every request of the batch (retriable) and reports it', async () => {
    const kafka = new FakeKafka();
    kafka.failWith = () =>
      Object.assign(new Error('Connection error'), { name: 'KafkaJSConnectionError' });
    const failures: string[] = [];
    const b = batcher(kafka, { onSendFailure: (failure) => failures.push(failure.code) });
    const results = await Promise.allSettled([
      b.submit('t', [record('a', 0)]),
      b.submit('t', [record('b', 1)]),
    ]);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason).toMatchObject({
        code: 'unavailable',
        retriable: true,
        buffered: true,
      });
    }
    expect(kafka.sends).toHaveLength(1);
    expect(failures).toEqual(['unavailable']);
    await tick();
    expect(b.bufferedMessages).toBe(0);
  });

  test('a partition missing from the acknowledgement fails its requests', async () => {
    const b = batcher(new FakeKafka(), {
      send: async () => [{ topic: 't', partition: 0, baseOffset: '7' }],
    });
    const [ok, missing] = await Promise.allSettled([
      b.submit('t', [record('a', 0)]),
      b.submit('t', [record('b', 1)]),
    ]);
    expect(ok).toEqual({ status: 'fulfilled', value: [{ partition: 0, offset: '7' }] });
    expect((missing as PromiseRejectedResult).reason).toMatchObject({ code: 'unavailable' });
  });

  test('offsets beyond 2^53 stay exact', async () => {
    const b = batcher(new FakeKafka(), {
      send: async () => [{ topic: 't', partition: 0, baseOffset: '9007199254740993' }],
    });
    await expect(b.submit('t', [record('a', 0), record('b', 0)])).resolves.toEqual([
      { partition: 0, offset: '9007199254740993' },
      { partition: 0, offset: '9007199254740994' },
    ]);
  });

  test('failAll answers queued and in-flight requests; close refuses new ones; drain waits', async () => {
    const kafka = new FakeKafka();
    kafka.manual = true;
    const b = batcher(kafka, { lingerMs: 0 });
    const inFlight = b.submit('t', [record('a', 0)]);
    await tick();
    const queued = b.submit('t', [record('b', 0)]);
    b.failAll(new WriteError('unavailable', 'gone', true));
    await expectWriteError(inFlight, 'unavailable');
    await expectWriteError(queued, 'unavailable');
    let drained = false;
    const draining = b.drain().then(() => (drained = true));
    await tick();
    expect(drained).toBe(false); // the send is still in flight
    kafka.release();
    await draining;
    b.close(new WriteError('closed', 'bye', true));
    await expectWriteError(b.submit('t', [record('c', 0)]), 'closed');
    expect(kafka.sends).toHaveLength(1);
  });

  test('drain flushes at once instead of lingering', async () => {
    const kafka = new FakeKafka();
    const b = batcher(kafka, { lingerMs: 60_000 });
    const pending = b.submit('t', [record('a', 0)]);
    const started = Date.now();
    await b.drain();
    await pending;
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
