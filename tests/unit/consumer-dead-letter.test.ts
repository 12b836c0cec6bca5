import type { WriterBatch } from '../../services/common/safe-idempotent-writer';
import {
  buildDeadLetter,
  DEAD_LETTER_HEADERS as H,
  errorText,
  MAX_ERROR_HEADER_CHARS,
} from '../../services/consumer/dead-letter';
import { DeadLetterPublisher } from '../../services/consumer/kafkajs-dead-letters';
import type { ConsumedMessage } from '../../services/consumer/message';

const message: ConsumedMessage = {
  topic: 'events',
  partition: 4,
  offset: '9007199254740993', // above 2^53: must not be rounded
  key: Buffer.from('order-7'),
  value: Buffer.from('{"broken"'),
  headers: { 'trace-id': Buffer.from('abc'), repeated: [Buffer.from('1'), Buffer.from('2')] },
  timestamp: 1_700_000_000_123,
};

describe('buildDeadLetter', () => {
  const failedAt = new Date('2026-01-02T03:04:05.678Z');
  const letter = buildDeadLetter(
    message,
    { reason: 'retries-exhausted', error: new TypeError('boom'), attempts: 4 },
    'event-consumer',
    failedAt,
  );

  it('keeps the original key, value and headers', () => {
    expect(letter.key).toBe(message.key);
    expect(letter.value).toBe(message.value);
    expect(letter.headers?.['trace-id']).toEqual(Buffer.from('abc'));
    expect(letter.headers?.['repeated']).toEqual([Buffer.from('1'), Buffer.from('2')]);
  });

  it('adds where the message came from and why it failed', () => {
    expect(letter.headers).toMatchObject({
      [H.sourceTopic]: 'events',
      [H.sourcePartition]: '4',
      [H.sourceOffset]: '9007199254740993',
      [H.sourceTimestamp]: '1700000000123',
      [H.consumerGroup]: 'event-consumer',
      [H.reason]: 'retries-exhausted',
      [H.error]: 'TypeError: boom',
      [H.attempts]: '4',
      [H.failedAt]: '2026-01-02T03:04:05.678Z',
    });
  });

  it('replaces dead-letter headers a re-driven message already carries', () => {
    const again = buildDeadLetter(
      {
        ...message,
        headers: { [H.attempts]: Buffer.from('9'), [H.sourceTopic]: Buffer.from('old') },
      },
      { reason: 'unprocessable', error: new Error('not JSON'), attempts: 1 },
      'event-consumer',
      failedAt,
    );
    expect(again.headers?.[H.attempts]).toBe('1');
    expect(again.headers?.[H.sourceTopic]).toBe('events');
  });
});

describe('errorText', () => {
  it('names the error class and message', () => {
    expect(errorText(new RangeError('too big'))).toBe('RangeError: too big');
  });

  it('describes thrown non-errors', () => {
    expect(errorText('just a string')).toBe('non-error thrown: just a string');
  });

  it('truncates long messages', () => {
    const text = errorText(new Error('x'.repeat(5000)));
    expect(text).toHaveLength(MAX_ERROR_HEADER_CHARS);
    expect(text.endsWith('…')).toBe(true);
  });
});

describe('DeadLetterPublisher', () => {
  it('sends one letter to the dead-letter topic through the writer, acks=all', async () => {
    const sent: WriterBatch[] = [];
    const publisher = new DeadLetterPublisher({
      writer: {
        send: async (batch) => {
          sent.push(batch);
          return [];
        },
      },
      topic: 'events-dlq',
      consumerGroup: 'event-consumer',
      ackTimeoutMs: 7_000,
    });
    await publisher.write(message, { reason: 'unprocessable', error: new Error('x'), attempts: 1 });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ acks: -1, timeout: 7_000 });
    const [topicMessages] = sent[0]?.topicMessages ?? [];
    expect(topicMessages?.topic).toBe('events-dlq');
    expect(topicMessages?.messages).toHaveLength(1);
    expect(topicMessages?.messages[0]).toMatchObject({
      key: message.key,
      value: message.value,
      headers: { [H.sourceOffset]: '9007199254740993', [H.reason]: 'unprocessable' },
    });
  });
});
