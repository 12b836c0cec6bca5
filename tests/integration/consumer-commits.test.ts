/**
 * When the consumer commits: not after every batch (kafkajs' default, a coordinator round trip
 * that each partition's next fetch waits for) but when COMMIT_INTERVAL_MS has passed, also
 * while idle; and every handled offset at once on a graceful stop and before a rebalance.
 * With a 60 s interval nothing is committed by the interval during these tests, so the stop
 * and the rebalance commits are the only ones that can make them pass.
 */
import {
  committedOffsets,
  duplicates,
  handled,
  jsonMessages,
  metric,
  newConsumerSetup,
  produce,
  startConsumer,
} from './consumer-helpers';
import { waitFor } from '../../scripts/lib/poll';
import type { RunningService } from '../../scripts/lib/services';

jest.setTimeout(120_000);

const totalCommitted = async (groupId: string, topic: string) =>
  [...(await committedOffsets(groupId, topic)).values()].reduce(
    (sum, offset) => sum + Math.max(0, offset),
    0,
  );

const handledCount = (services: RunningService[]) =>
  services.reduce((sum, service) => sum + handled(service).length, 0);

test('handled offsets are committed within the commit interval, also when no further message comes', async () => {
  const setup = await newConsumerSetup('commit-interval', 1);
  const consumer = await startConsumer(setup, 'commit-interval', { COMMIT_INTERVAL_MS: '1000' });
  try {
    await produce(setup.topic, jsonMessages('first', 20));
    await waitFor(
      'the first 20 committed',
      async () => (await totalCommitted(setup.groupId, setup.topic)) === 20,
      {
        timeoutMs: 15_000,
      },
    );
    // Well inside the interval after that commit: the batch's end finds the commit not due,
    // and nothing else arrives, so only the idle check can commit these.
    await produce(setup.topic, jsonMessages('second', 5));
    await waitFor(
      'the next 5 committed while idle',
      async () => (await totalCommitted(setup.groupId, setup.topic)) === 25,
      {
        timeoutMs: 15_000,
      },
    );
    expect(handled(consumer)).toHaveLength(25);
  } finally {
    await consumer.stop('SIGKILL');
  }
});

test('a graceful stop commits every handled offset at once, however long the interval', async () => {
  const setup = await newConsumerSetup('commit-stop', 2);
  await produce(setup.topic, jsonMessages('stop', 30));
  const consumer = await startConsumer(setup, 'commit-stop', { COMMIT_INTERVAL_MS: '60000' });
  try {
    await waitFor('30 messages handled', () => handledCount([consumer]) === 30);
    expect(await totalCommitted(setup.groupId, setup.topic)).toBe(0);
    expect(await consumer.stop('SIGTERM')).toBe(0);
    expect(await totalCommitted(setup.groupId, setup.topic)).toBe(30);
  } finally {
    await consumer.stop('SIGKILL');
  }
});

test('a rebalance commits what the member handled before it rejoins: nothing is handled twice', async () => {
  const setup = await newConsumerSetup('commit-rebalance', 2);
  const env = { COMMIT_INTERVAL_MS: '60000' };
  const first = await startConsumer(setup, 'commit-rebalance-a', env);
  const services = [first];
  try {
    await produce(setup.topic, jsonMessages('before', 40));
    await waitFor('40 messages handled', () => handledCount(services) === 40);
    expect(await totalCommitted(setup.groupId, setup.topic)).toBe(0);

    services.push(await startConsumer(setup, 'commit-rebalance-b', env));
    await waitFor('each member to own one partition', async () => {
      const owned = await Promise.all(
        services.map((s) => metric(s, 'event_pipeline_consumer_assigned_partitions')),
      );
      return owned.every((n) => n === 1);
    });
    expect(await totalCommitted(setup.groupId, setup.topic)).toBe(40);

    await produce(setup.topic, jsonMessages('after', 10));
    await waitFor('50 messages handled', () => handledCount(services) >= 50);
    const keys = services.flatMap((s) => handled(s).map((entry) => entry.key));
    expect(duplicates(keys)).toEqual(new Map());
    expect(new Set(keys).size).toBe(50);
  } finally {
    await Promise.all(services.map((s) => s.stop('SIGKILL')));
  }
});
