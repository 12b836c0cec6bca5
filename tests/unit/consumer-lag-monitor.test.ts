import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { Registry } from 'prom-client';
import { LagMonitor } from '../../services/consumer/lag-monitor';
import { createConsumerMetrics } from '../../services/consumer/metrics';
import type { LagAdmin, RecordTimestamps } from '../../services/consumer/port';

interface State {
  committed: number;
  high: number;
  low: number;
  /** Every admin request fails, as with no broker reachable. */
  down?: boolean;
  /** The monitor's clock throws: a bug outside the refresh's own error handling. */
  clockFails?: boolean;
  /** Refreshes wait for this before reading the committed offsets. */
  gate?: Promise<void>;
}

// A refresh schedules the next one: every monitor is stopped after its test.
const monitors: LagMonitor[] = [];
afterEach(async () => {
  await Promise.all(monitors.splice(0).map((monitor) => monitor.stop()));
});

function setup(
  state: State,
  timestamps: (offset: string) => number | undefined | Error,
  logger: Logger = pino({ level: 'silent' }),
  intervalMs = 1000,
) {
  let now = 100_000;
  let refreshes = 0;
  const reads: string[] = [];
  const admin: LagAdmin = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    committedOffsets: async () => {
      refreshes += 1;
      await state.gate;
      if (state.down) throw new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092');
      return [{ topic: 'events', partition: 0, offset: BigInt(state.committed) }];
    },
    logOffsets: async () => [
      { partition: 0, logEnd: BigInt(state.high), logStart: BigInt(state.low) },
    ],
  };
  const reader: RecordTimestamps = {
    timestampAt: async (_topic, _partition, offset) => {
      reads.push(offset);
      const result = timestamps(offset);
      if (result instanceof Error) throw result;
      return result;
    },
    disconnect: async () => undefined,
  };
  const registry = new Registry();
  const metrics = createConsumerMetrics(registry, ['events']);
  const monitor = new LagMonitor({
    admin,
    reader,
    groupId: 'g',
    topics: ['events'],
    intervalMs,
    metrics,
    logger,
    now: () => {
      if (state.clockFails) throw new Error('the clock failed');
      return now;
    },
  });
  monitors.push(monitor);
  const read = async (name: string) => {
    const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
    return (metric as { values: Array<{ value: number }> } | undefined)?.values[0]?.value;
  };
  return {
    monitor,
    reads,
    refreshes: () => refreshes,
    advance: (ms: number) => (now += ms),
    lagMessages: () => read('event_pipeline_consumer_lag_messages'),
    lagSeconds: () => read('event_pipeline_consumer_lag_seconds'),
  };
}

describe('LagMonitor', () => {
  it('reports Kafka unreachable when refreshes failed for an interval, and ready at the first that works', async () => {
    const state: State = { committed: 50, high: 50, low: 0 };
    const t = setup(state, () => 1);
    await t.monitor.refreshOnce();
    expect(t.monitor.readiness()).toEqual({ ok: true });
    state.down = true;
    await t.monitor.refreshOnce();
    // One failure can be a blip; so can two in quick succession.
    expect(t.monitor.readiness()).toEqual({ ok: true });
    t.advance(300);
    await t.monitor.refreshOnce();
    expect(t.monitor.readiness()).toEqual({ ok: true });
    // Still failing a whole interval (1 s here) after the first failure.
    t.advance(700);
    await t.monitor.refreshOnce();
    expect(t.monitor.readiness()).toEqual({
      ok: false,
      detail: expect.stringMatching(/last 3 lag refreshes failed over 1000 ms \(.*ECONNREFUSED/),
    });
    state.down = false;
    await t.monitor.refreshOnce();
    expect(t.monitor.readiness()).toEqual({ ok: true });
  });

  it('reports 0 and 0 when the group is caught up', async () => {
    const t = setup({ committed: 50, high: 50, low: 0 }, () => 1);
    await t.monitor.refreshOnce();
    expect(await t.lagMessages()).toBe(0);
    expect(await t.lagSeconds()).toBe(0);
    expect(t.reads).toEqual([]);
  });

  it('ages the record at the committed offset at scrape time, reading it only once', async () => {
    const t = setup({ committed: 40, high: 50, low: 0 }, () => 100_000 - 7_000);
    await t.monitor.refreshOnce();
    expect(await t.lagMessages()).toBe(10);
    expect(await t.lagSeconds()).toBe(7);
    t.advance(3_000); // stuck: no refresh, the scrape alone sees it older
    expect(await t.lagSeconds()).toBe(10);
    await t.monitor.refreshOnce();
    expect(t.reads).toEqual(['40']);
  });

  it('reads again when the committed offset moved', async () => {
    const state = { committed: 40, high: 50, low: 0 };
    const t = setup(state, (offset) => (offset === '40' ? 90_000 : 99_000));
    await t.monitor.refreshOnce();
    state.committed = 45;
    await t.monitor.refreshOnce();
    expect(t.reads).toEqual(['40', '45']);
    expect(await t.lagSeconds()).toBe(1);
  });

  it('falls back to interpolating sampled log ends when the record cannot be read', async () => {
    const state = { committed: 0, high: 0, low: 0 };
    const t = setup(state, () => new Error('fetch failed'));
    await t.monitor.refreshOnce(); // log end 0 at t=100 s
    t.advance(10_000);
    state.high = 100; // 100 records appended during those 10 s
    await t.monitor.refreshOnce();
    // Offset 0 was appended when the log end first passed it: about t=100.1 s, 9.9 s ago.
    expect(await t.lagSeconds()).toBeCloseTo(9.9, 5);
    expect(await t.lagMessages()).toBe(100);
  });

  it('logs a failure that readiness calls a blip at debug, then one warning and one recovery line', async () => {
    const levels: Array<[string, string]> = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        const line = JSON.parse(chunk.toString()) as { level: number; msg: string };
        levels.push([pino.levels.labels[line.level] ?? String(line.level), line.msg]);
        done();
      },
    });
    const state: State = { committed: 50, high: 50, low: 0 };
    const t = setup(state, () => 1, pino({ level: 'debug' }, destination));
    await t.monitor.refreshOnce();
    // At start, or a blip: the next refresh works.
    state.down = true;
    await t.monitor.refreshOnce();
    state.down = false;
    await t.monitor.refreshOnce();
    expect(levels).toEqual([['debug', 'consumer lag refresh failed; trying again']]);
    // Failing for a whole interval: readiness says Kafka is unreachable, and so does the log, once.
    levels.length = 0;
    state.down = true;
    for (let refresh = 0; refresh < 5; refresh += 1) {
      await t.monitor.refreshOnce();
      t.advance(500);
    }
    state.down = false;
    await t.monitor.refreshOnce();
    expect(levels).toEqual([
      ['debug', 'consumer lag refresh failed; trying again'],
      ['debug', 'consumer lag refresh failed; trying again'],
      ['warn', 'consumer lag refresh failed; metrics keep the last values'],
      ['info', 'consumer lag refresh works again'],
    ]);
  });

  it('logs an unexpected error of a scheduled refresh instead of leaving its rejection unhandled', async () => {
    // Before, the timer did `void this.refreshOnce()`: in the consumer an unhandled rejection
    // runs the crash handler, which shuts the whole service down for one lag refresh (here
    // jest reports it as a second failure of this test).
    const lines: Array<{ level: string; msg: string; task?: string }> = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        const line = JSON.parse(chunk.toString()) as { level: number; msg: string; task?: string };
        lines.push({ ...line, level: pino.levels.labels[line.level] ?? String(line.level) });
        done();
      },
    });
    const state: State = { committed: 50, high: 50, low: 0, clockFails: true };
    const t = setup(state, () => 1, pino({ level: 'debug' }, destination));
    try {
      t.monitor.start(); // the first refresh runs on a timer, at once
      await new Promise((done) => setTimeout(done, 100));
      expect(lines).toContainEqual(
        expect.objectContaining({
          level: 'error',
          task: 'consumer lag refresh',
          msg: 'consumer lag refresh failed unexpectedly',
        }),
      );
    } finally {
      state.clockFails = false;
      await t.monitor.stop();
    }
  });

  it('refreshes soon after a batch: once for many requests, spaced, never back to back', async () => {
    jest.useFakeTimers();
    const state: State = { committed: 50, high: 50, low: 0 };
    const t = setup(state, () => 1, pino({ level: 'silent' }), 10_000);
    const tick = async (ms: number) => {
      t.advance(ms);
      await jest.advanceTimersByTimeAsync(ms);
    };
    try {
      t.monitor.start();
      await tick(0);
      expect(t.refreshes()).toBe(1);
      // Not sooner than 1 s after the last refresh began, however often it is asked for.
      for (let batch = 0; batch < 5; batch += 1) t.monitor.refreshSoon();
      await tick(999);
      expect(t.refreshes()).toBe(1);
      await tick(1);
      expect(t.refreshes()).toBe(2);
      // 250 ms after the request, once the last refresh is a second old.
      await tick(2_000);
      t.monitor.refreshSoon();
      await tick(249);
      expect(t.refreshes()).toBe(2);
      await tick(1);
      expect(t.refreshes()).toBe(3);
      // Asked for during a refresh: the spacing counts from that refresh, no run right after it.
      let release: () => void = () => undefined;
      state.gate = new Promise<void>((resolve) => (release = resolve));
      await tick(10_000); // the interval's refresh
      expect(t.refreshes()).toBe(4);
      t.monitor.refreshSoon();
      t.monitor.refreshSoon();
      await tick(100);
      release();
      state.gate = undefined;
      await tick(0);
      expect(t.refreshes()).toBe(4);
      await tick(899);
      expect(t.refreshes()).toBe(4);
      await tick(1);
      expect(t.refreshes()).toBe(5);
    } finally {
      await t.monitor.stop();
      jest.useRealTimers();
    }
  });
});
