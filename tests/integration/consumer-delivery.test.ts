/**
 * A calm run: 10,000 messages already in the topic are all handled exactly once, the
 * committed offsets reach the log end, and the consumer shuts down cleanly.
 */
import type { RunningService } from '../../scripts/lib/services';
import {
  committedOffsets,
  duplicates,
  handled,
  jsonMessages,
  metric,
  produce,
  startConsumer,
  newConsumerSetup,
} from './consumer-helpers';
import { waitFor } from '../../scripts/lib/poll';

jest.setTimeout(180_000);

const COUNT = 10_000;
const PARTITIONS = 3;

describe('consumer: calm run', () => {
  let consumer: RunningService | undefined;

  afterEach(async () => {
    await consumer?.stop('SIGKILL');
  });

  it(`handles ${COUNT} messages exactly once and commits them all`, async () => {
    const setup = await newConsumerSetup('consumer-calm', PARTITIONS);
    const { topic } = setup;
    const messages = jsonMessages('calm', COUNT);
    await produce(topic, messages);

    consumer = await startConsumer(setup, 'calm');
    const all = await waitFor(
      `${COUNT} handled messages`,
      () => {
        const seen = handled(consumer as RunningService);
        return seen.length >= COUNT && seen;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    // A little longer: anything handled twice would show up now.
    await new Promise((done) => setTimeout(done, 1500));
    const seen = handled(consumer);
    const keys = seen.map((entry) => entry.key);
    expect(duplicates(keys).size).toBe(0);
    expect(seen).toHaveLength(COUNT);
    expect(new Set(keys)).toEqual(new Set(messages.map((m) => m.key)));

    const first = Math.min(...all.map((entry) => entry.at));
    const last = Math.max(...all.map((entry) => entry.at));
    const seconds = Math.max(0.001, (last - first) / 1000);
    process.stdout.write(
      `consumer calm run: ${COUNT} messages in ${seconds.toFixed(2)} s = ${Math.round(COUNT / seconds)} msg/s (default handler, debug logging of every message, ${PARTITIONS} partitions)\n`,
    );

    expect(
      await metric(consumer, 'event_pipeline_consumed_messages_total', { result: 'processed' }),
    ).toBe(COUNT);
    await waitFor(
      'lag 0',
      async () =>
        (await metric(consumer as RunningService, 'event_pipeline_consumer_lag_messages')) === 0,
    );
    const committed = await committedOffsets(setup.groupId, topic);
    const perPartition = new Map<number, number>();
    for (const entry of seen)
      perPartition.set(entry.partition, (perPartition.get(entry.partition) ?? 0) + 1);
    for (const [partition, count] of perPartition) expect(committed.get(partition)).toBe(count);

    expect(await consumer.stop('SIGTERM')).toBe(0);
    const logs = consumer.logs();
    expect(logs.some((line) => line['msg'] === 'stopped' && line['exitCode'] === 0)).toBe(true);
    consumer = undefined;
  });
});
