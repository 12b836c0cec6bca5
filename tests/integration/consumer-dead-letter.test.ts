/**
 * Poison messages: a message the handler keeps rejecting is retried, then written to
 * the dead-letter topic; a value that is not JSON goes there at once. Both carry their
 * origin and the reason in headers, and the messages behind them are still processed.
 * When the dead-letter write itself fails, nothing behind the poison message is
 * committed until the write succeeds, and it is written once.
 */
import { consumeAll, createTopic } from '../support/kafka';
import type { RunningService } from '../../scripts/lib/services';
import {
  committedOffsets,
  handled,
  logLines,
  metric,
  produce,
  startConsumer,
  writeHandlerModule,
  newConsumerSetup,
} from './consumer-helpers';
import { waitFor } from '../../scripts/lib/poll';

jest.setTimeout(120_000);

const MAX_RETRIES = 2;

describe('consumer: poison messages', () => {
  let consumer: RunningService | undefined;

  afterEach(async () => {
    await consumer?.stop('SIGKILL');
    consumer = undefined;
  });

  it('dead-letters them with their origin and reason, and processes the messages behind them', async () => {
    const setup = await newConsumerSetup('consumer-poison', 1);
    const { topic } = setup;
    const rejecting = writeHandlerModule(
      'rejecting',
      `const value = parseJsonValue(message);
       if (value.reject) throw new Error('handler rejects ' + message.key.toString());
       return defaultHandle(message, context);`,
    );
    // Offsets: 0 ok, 1 rejected by the handler, 2 ok, 3 not JSON, 4..7 ok.
    await produce(topic, [
      { key: 'ok-0', value: '{"n":0}' },
      { key: 'rejected-1', value: '{"reject":true}', headers: { 'trace-id': 'trace-1' } },
      { key: 'ok-2', value: '{"n":2}' },
      { key: 'garbage-3', value: 'not { json', headers: { 'trace-id': 'trace-3' } },
      ...[4, 5, 6, 7].map((n) => ({ key: `ok-${n}`, value: `{"n":${n}}` })),
    ]);

    consumer = await startConsumer(setup, 'poison', {
      HANDLER_MODULE: rejecting,
      HANDLER_MAX_RETRIES: String(MAX_RETRIES),
    });
    const letters = await consumeAll(setup.deadLetterTopic, 2, 30_000);
    await waitFor('the last message handled', () =>
      handled(consumer as RunningService).some((entry) => entry.key === 'ok-7'),
    );

    expect(handled(consumer).map((entry) => entry.key)).toEqual([
      'ok-0',
      'ok-2',
      'ok-4',
      'ok-5',
      'ok-6',
      'ok-7',
    ]);
    expect(letters).toHaveLength(2);
    const [rejected, garbage] = letters;
    expect(rejected).toMatchObject({
      key: 'rejected-1',
      value: '{"reject":true}',
      headers: {
        'trace-id': 'trace-1',
        'x-dlq-source-topic': topic,
        'x-dlq-source-partition': '0',
        'x-dlq-source-offset': '1',
        'x-dlq-consumer-group': setup.groupId,
        'x-dlq-reason': 'retries-exhausted',
        'x-dlq-error': 'Error: handler rejects rejected-1',
        'x-dlq-attempts': String(MAX_RETRIES + 1),
      },
    });
    expect(garbage).toMatchObject({
      key: 'garbage-3',
      value: 'not { json',
      headers: {
        'trace-id': 'trace-3',
        'x-dlq-source-offset': '3',
        'x-dlq-reason': 'unprocessable',
        'x-dlq-error': 'UnprocessableMessageError: value is not valid JSON',
        'x-dlq-attempts': '1',
      },
    });
    expect(Number.isNaN(Date.parse(String(garbage?.headers['x-dlq-failed-at'])))).toBe(false);
    expect(garbage?.headers['x-dlq-source-timestamp']).toMatch(/^\d{13}$/);

    const count = (result: string) =>
      metric(consumer as RunningService, 'event_pipeline_consumed_messages_total', {
        topic,
        result,
      });
    expect(await count('processed')).toBe(6);
    expect(await count('retried')).toBe(MAX_RETRIES);
    expect(await count('dead_lettered')).toBe(2);
    await waitFor(
      'all 8 offsets committed',
      async () => (await committedOffsets(setup.groupId, topic)).get(0) === 8,
    );
    expect(await consumer.stop('SIGTERM')).toBe(0);
  });

  it('does not commit past a message whose dead-letter write fails, and writes it once when it can', async () => {
    const setup = await newConsumerSetup('consumer-dlq-down', 1, { deadLetterTopic: false });
    const { topic } = setup;
    // The dead-letter topic does not exist yet (the test broker does not create topics
    // for the consumer's producer), so the write cannot succeed.
    await produce(topic, [
      { key: 'ok-0', value: '{}' },
      { key: 'garbage-1', value: 'nope' },
      { key: 'ok-2', value: '{}' },
    ]);
    consumer = await startConsumer(setup, 'dlq-down', { DLQ_WRITE_TIMEOUT_MS: '1000' });
    await waitFor(
      'a failed dead-letter write',
      () =>
        logLines(
          consumer as RunningService,
          'dead-letter write failed; the partition does not move past this message',
        ).length > 0,
    );
    // The message before it is committed (within the commit interval) and the lag follows...
    await waitFor(
      'offset 1 committed',
      async () => (await committedOffsets(setup.groupId, topic)).get(0) === 1,
    );
    await waitFor(
      'a lag of 2',
      async () =>
        (await metric(consumer as RunningService, 'event_pipeline_consumer_lag_messages', {
          topic,
        })) === 2,
    );
    // ...then, given time to (wrongly) move on, it did not.
    await new Promise((done) => setTimeout(done, 3000));
    expect(handled(consumer).map((entry) => entry.key)).toEqual(['ok-0']);
    expect((await committedOffsets(setup.groupId, topic)).get(0)).toBe(1);

    await createTopic(setup.deadLetterTopic, 1);
    await waitFor(
      'the message behind it handled',
      () => handled(consumer as RunningService).some((entry) => entry.key === 'ok-2'),
      { timeoutMs: 60_000 },
    );
    await waitFor(
      'all 3 offsets committed',
      async () => (await committedOffsets(setup.groupId, topic)).get(0) === 3,
    );
    const letters = await consumeAll(setup.deadLetterTopic, 1, 30_000);
    expect(letters.map((letter) => letter.key)).toEqual(['garbage-1']);
    expect(
      await metric(consumer, 'event_pipeline_consumed_messages_total', {
        topic,
        result: 'dead_lettered',
      }),
    ).toBe(1);
    expect(await consumer.stop('SIGTERM')).toBe(0);
  });
});
