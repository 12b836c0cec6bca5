/**
 * Lag you can trust: with the consumer stuck in its handler (longer than the session
 * timeout, without losing its partitions), 1,000 new messages show as lag 1,000 within
 * one refresh interval, and lag seconds keeps rising while nothing moves; once the
 * handler is released, both return to 0.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RunningService } from '../../scripts/lib/services';
import {
  handled,
  jsonMessages,
  metric,
  produce,
  startConsumer,
  writeHandlerModule,
  newConsumerSetup,
} from './consumer-helpers';
import { waitFor } from '../../scripts/lib/poll';
import { repoRoot } from '../../scripts/lib/root';

jest.setTimeout(120_000);

const REFRESH_MS = 1000;
const SESSION_TIMEOUT_MS = 6000;

describe('consumer: lag metrics', () => {
  let consumer: RunningService | undefined;
  const gate = join(repoRoot(), 'reports', `consumer-lag-gate-${process.pid}`);

  afterEach(async () => {
    rmSync(gate, { force: true });
    await consumer?.stop('SIGKILL');
    consumer = undefined;
  });

  it('shows 1,000 behind within one refresh while stuck, lag seconds rising, and 0 after resuming', async () => {
    const setup = await newConsumerSetup('consumer-lag', 1);
    const { topic } = setup;
    mkdirSync(resolve(gate, '..'), { recursive: true });
    // While the gate file exists the handler waits: a consumer stuck on one message.
    const gated = writeHandlerModule(
      'gated',
      `const { existsSync } = require('node:fs');
       while (existsSync(${JSON.stringify(gate)})) await new Promise((done) => setTimeout(done, 50));
       return defaultHandle(message, context);`,
    );
    consumer = await startConsumer(setup, 'lag', {
      HANDLER_MODULE: gated,
      LAG_REFRESH_INTERVAL_MS: String(REFRESH_MS),
      SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
      HEARTBEAT_INTERVAL_MS: '1000',
    });
    const lag = () =>
      metric(consumer as RunningService, 'event_pipeline_consumer_lag_messages', {
        topic,
        partition: '0',
      });
    const lagSeconds = () =>
      metric(consumer as RunningService, 'event_pipeline_consumer_lag_seconds', {
        topic,
        partition: '0',
      });

    await produce(topic, jsonMessages('warm', 10));
    await waitFor(
      'the warm-up handled and committed',
      async () => (await lag()) === 0 && handled(consumer as RunningService).length === 10,
    );
    expect(await lagSeconds()).toBe(0);

    writeFileSync(gate, '');
    const stuckSince = Date.now();
    await produce(topic, jsonMessages('behind', 1000));
    const produced = Date.now();
    await waitFor('lag 1000', async () => (await lag()) === 1000, {
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    const seenAfterMs = Date.now() - produced;
    // One refresh interval, plus the time a refresh and a scrape take on a busy machine.
    expect(seenAfterMs).toBeLessThanOrEqual(REFRESH_MS + 1000);

    // Lag seconds is the age of the oldest unconsumed message, computed at scrape time:
    // about the time since it was produced, growing second by second while nothing
    // moves and nothing new arrives.
    // Each scrape is bracketed by clock reads: the gauge was computed between them, so the
    // growth between two scrapes lies between the brackets' inner and outer spans (plus the
    // milliseconds of the record timestamps' resolution), however slow a scrape is.
    const firstAsked = Date.now();
    const first = (await lagSeconds()) ?? -1;
    const firstAt = Date.now();
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual((firstAt - stuckSince) / 1000 + 0.5);
    await new Promise((done) => setTimeout(done, 2500));
    const secondAsked = Date.now();
    const second = (await lagSeconds()) ?? -1;
    const secondAt = Date.now();
    const resolution = 0.002;
    expect(second - first).toBeGreaterThanOrEqual((secondAsked - firstAt) / 1000 - resolution);
    expect(second - first).toBeLessThanOrEqual((secondAt - firstAsked) / 1000 + resolution);

    // Stay stuck past the session timeout: heartbeats keep the partition.
    const stuckFor = Date.now() - stuckSince;
    if (stuckFor < SESSION_TIMEOUT_MS + 2000) {
      await new Promise((done) => setTimeout(done, SESSION_TIMEOUT_MS + 2000 - stuckFor));
    }
    expect(await lag()).toBe(1000);
    expect(await metric(consumer, 'event_pipeline_consumer_rebalances_total')).toBe(1);
    expect(await metric(consumer, 'event_pipeline_consumer_assigned_partitions')).toBe(1);
    process.stdout.write(
      `consumer lag: 1000 behind visible ${seenAfterMs} ms after producing (refresh ${REFRESH_MS} ms); ` +
        `lag seconds ${first.toFixed(2)} → ${second.toFixed(2)} over 2.5 s while stuck\n`,
    );

    rmSync(gate);
    expect(existsSync(gate)).toBe(false);
    await waitFor('lag back to 0', async () => (await lag()) === 0 && (await lagSeconds()) === 0, {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    expect(handled(consumer)).toHaveLength(1010);
    expect(await consumer.stop('SIGTERM')).toBe(0);
  });
});
