/**
 * Two instances share a 6-partition topic while messages stream in; one of them is
 * stopped mid-stream. SIGTERM: it commits and leaves the group, so the other owns all
 * partitions within a few seconds. SIGKILL: the other takes over after the session
 * timeout. Either way every message is handled; duplicates are counted and may only be
 * messages the stopped instance handled (its in-flight, uncommitted work).
 */
import {
  duplicates,
  handled,
  jsonMessages,
  logLines,
  metric,
  produce,
  startConsumer,
  writeHandlerModule,
  newConsumerSetup,
} from './consumer-helpers';
import { waitFor } from '../../scripts/lib/poll';

jest.setTimeout(180_000);

const PARTITIONS = 6;
const ROUNDS = 30;
const PER_ROUND = 200;
const STOP_AFTER_ROUND = 10;
const SESSION_TIMEOUT_MS = 6000;
const HANDLER_DELAY_MS = 3;

async function scenario(signal: 'SIGTERM' | 'SIGKILL') {
  const setup = await newConsumerSetup(`consumer-${signal.toLowerCase()}`, PARTITIONS);
  const { topic } = setup;
  // A few milliseconds per message, so that work is in flight when an instance stops.
  const slow = writeHandlerModule(
    'slow',
    `await new Promise((done) => setTimeout(done, ${HANDLER_DELAY_MS})); return defaultHandle(message, context);`,
  );
  const env = {
    SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
    HEARTBEAT_INTERVAL_MS: '1000',
    HANDLER_MODULE: slow,
  };
  const a = await startConsumer(setup, `${signal}-a`, env);
  const b = await startConsumer(setup, `${signal}-b`, env);
  const services = [a, b];
  try {
    await waitFor('both instances to own partitions', async () => {
      const counts = await Promise.all(
        services.map((s) => metric(s, 'event_pipeline_consumer_assigned_partitions')),
      );
      return (
        counts.every((n) => n !== undefined && n > 0) && counts[0]! + counts[1]! === PARTITIONS
      );
    });

    let stoppedAt = 0;
    let exit: Promise<number | string> | undefined;
    for (let round = 0; round < ROUNDS; round += 1) {
      await produce(topic, jsonMessages(signal, PER_ROUND, round * PER_ROUND));
      if (round === STOP_AFTER_ROUND) {
        stoppedAt = Date.now();
        exit = a.stop(signal);
      }
      await new Promise((done) => setTimeout(done, 100));
    }
    const total = ROUNDS * PER_ROUND;

    const takeover = await waitFor(
      'the survivor to own all partitions',
      () =>
        logLines(b, 'joined consumer group').find(
          (line) =>
            line['partitions'] === PARTITIONS && Date.parse(String(line['time'])) >= stoppedAt,
        ),
      { timeoutMs: 60_000 },
    );
    const takeoverMs = Date.parse(String(takeover['time'])) - stoppedAt;

    const allKeys = () => [...handled(a), ...handled(b)].map((entry) => entry.key);
    await waitFor(`all ${total} messages handled`, () => new Set(allKeys()).size >= total, {
      timeoutMs: 60_000,
      intervalMs: 500,
    });
    await waitFor(
      'lag 0',
      async () => (await metric(b, 'event_pipeline_consumer_lag_messages')) === 0,
    );

    const keysA = handled(a).map((entry) => entry.key);
    const keysB = handled(b).map((entry) => entry.key);
    const dupes = duplicates([...keysA, ...keysB]);
    const setA = new Set(keysA);
    const expected = new Set(jsonMessages(signal, total).map((m) => m.key));
    expect(new Set([...keysA, ...keysB])).toEqual(expected);
    // Neither instance handled a message twice by itself: duplicates are the stopped
    // instance's work that it could not commit, handled once more by the survivor.
    expect(duplicates(keysA).size).toBe(0);
    expect(duplicates(keysB).size).toBe(0);
    for (const key of dupes.keys()) expect(setA.has(key)).toBe(true);

    const exitCode = await exit;
    process.stdout.write(
      `consumer ${signal}: survivor owned all ${PARTITIONS} partitions ${takeoverMs} ms after the signal; ` +
        `${total} messages, instance A handled ${keysA.length}, B ${keysB.length}, duplicates ${dupes.size}; A exited with ${exitCode}\n`,
    );
    return { takeoverMs, duplicates: dupes.size, exitCode };
  } finally {
    await Promise.all(services.map((s) => s.stop('SIGKILL')));
  }
}

describe('consumer: rebalancing when an instance stops mid-stream', () => {
  it('SIGTERM: the instance commits and leaves, the other owns all partitions within seconds', async () => {
    const result = await scenario('SIGTERM');
    expect(result.exitCode).toBe(0);
    expect(result.takeoverMs).toBeLessThan(5000);
    // A graceful stop commits everything it handled before leaving the group.
    expect(result.duplicates).toBe(0);
  });

  it('SIGKILL: after the session timeout the other instance takes over and nothing is lost', async () => {
    const result = await scenario('SIGKILL');
    expect(result.exitCode).toBe('SIGKILL');
    expect(result.takeoverMs).toBeGreaterThanOrEqual(SESSION_TIMEOUT_MS - 1000);
    expect(result.takeoverMs).toBeLessThan(SESSION_TIMEOUT_MS + 10_000);
  });
});
