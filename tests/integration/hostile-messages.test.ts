/**
 * Hostile records on the consumer's topic, written straight to Kafka (the API would refuse
 * most of them): an empty value, a tombstone, binary garbage, a 1 MB value (valid JSON and
 * garbage), headers and keys with odd bytes, invalid UTF-8 inside JSON, JSON nested 100,000
 * deep. Each one is processed or dead-lettered with its bytes intact, and the partition never
 * stalls: the record behind them all is processed and every offset is committed.
 */
import { randomBytes } from 'node:crypto';
import type { IHeaders, Message } from 'kafkajs';
import { createTopic, testKafka, uniqueTopic } from '../support/kafka';
import { newProcessedFile, readProcessed, writeLedgerHandler } from '../../scripts/lib/ledger';
import { startService, waitUntilReady } from '../../scripts/lib/services';
import { committedOffsets } from './consumer-helpers';
import { freePort } from '../../scripts/lib/ports';

// Above the sum of the waits inside (readiness 60 s, commits 60 s, dead letters 30 s), so that
// on a slow machine it is their message, not jest's, that says what did not happen.
jest.setTimeout(180_000);

const MB = 1024 * 1024;

interface Case {
  name: string;
  message: Message;
  fate: 'processed' | 'dead-lettered';
}

const oddHeaders: IHeaders = {
  'x-binary': Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0a]),
  'x-empty': Buffer.alloc(0),
  'x-ünïcödé': 'çà va',
  'x-repeated': ['one', 'two'],
  '': 'empty name',
};

const cases: Case[] = [
  { name: 'empty value', message: { key: 'empty', value: Buffer.alloc(0) }, fate: 'dead-lettered' },
  {
    name: 'tombstone (null value)',
    message: { key: 'tombstone', value: null },
    fate: 'dead-lettered',
  },
  {
    name: 'binary garbage with odd headers',
    message: { key: 'garbage', value: randomBytes(512), headers: oddHeaders },
    fate: 'dead-lettered',
  },
  {
    name: '1 MB JSON value',
    message: { key: 'big-json', value: JSON.stringify('j'.repeat(MB)) },
    fate: 'processed',
  },
  {
    name: '1 MB of garbage',
    message: { key: 'big-garbage', value: randomBytes(MB) },
    fate: 'dead-lettered',
  },
  {
    name: 'valid JSON with odd headers',
    message: { key: 'odd-headers', value: '{"ok":true}', headers: oddHeaders },
    fate: 'processed',
  },
  {
    name: 'binary key',
    message: { key: Buffer.from([0xff, 0x00, 0xc3, 0x28]), value: '{"binaryKey":true}' },
    fate: 'processed',
  },
  {
    name: 'invalid UTF-8 inside a JSON string',
    message: {
      key: 'bad-utf8',
      value: Buffer.concat([
        Buffer.from('{"s":"'),
        Buffer.from([0xff, 0xed, 0xa0, 0x80]),
        Buffer.from('"}'),
      ]),
    },
    fate: 'processed',
  },
  {
    name: 'JSON nested 100,000 deep',
    message: { key: 'deep', value: `${'['.repeat(100_000)}${']'.repeat(100_000)}` },
    fate: 'processed',
  },
  { name: 'the JSON text null', message: { key: 'null-json', value: 'null' }, fate: 'processed' },
  {
    name: 'a plain message behind them all',
    message: { key: 'sentinel', value: '{"last":true}' },
    fate: 'processed',
  },
];

test('each hostile record is processed or dead-lettered, bytes intact, and the partition moves on', async () => {
  const topic = uniqueTopic('hostile-messages');
  const deadLetterTopic = `${topic}-dlq`;
  const groupId = `${topic}-group`;
  // Room for a 1 MB value and, in the dead-letter topic, its added headers.
  await createTopic(topic, 1, undefined, { config: { 'max.message.bytes': String(2 * MB) } });
  await createTopic(deadLetterTopic, 1, undefined, {
    config: { 'max.message.bytes': String(3 * MB) },
  });
  const kafka = testKafka();
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  try {
    // One record per request, so that each is its own batch of at most 2 MB.
    for (const { message } of cases) await producer.send({ topic, acks: -1, messages: [message] });
  } finally {
    await producer.disconnect();
  }

  const processedFile = newProcessedFile('hostile-messages');
  const consumer = startService('consumer', {
    env: {
      TOPICS: topic,
      CONSUMER_GROUP_ID: groupId,
      DLQ_TOPIC: deadLetterTopic,
      HANDLER_MODULE: writeLedgerHandler({ name: 'hostile-messages' }),
      LEDGER_PROCESSED_FILE: processedFile,
      HANDLER_MAX_RETRIES: '1',
      HANDLER_RETRY_BACKOFF_MS: '10',
      SESSION_TIMEOUT_MS: '6000',
      HEARTBEAT_INTERVAL_MS: '1000',
      LOG_LEVEL: 'info',
    },
    managementPort: await freePort(),
    label: 'hostile-messages',
  });
  try {
    await waitUntilReady(consumer, 60_000);
    const deadline = Date.now() + 60_000;
    while ((await committedOffsets(groupId, topic)).get(0) !== cases.length) {
      if (Date.now() > deadline) {
        throw new Error(
          `committed offset ${(await committedOffsets(groupId, topic)).get(0)} of ${cases.length}; log: ${consumer.logFile}`,
        );
      }
      await new Promise((done) => setTimeout(done, 250));
    }

    const processed = new Set(readProcessed(processedFile).map((p) => Number(p.offset)));
    const letters = await readDeadLetters(
      deadLetterTopic,
      cases.filter((c) => c.fate === 'dead-lettered').length,
    );
    const fates = cases.map((c, offset) => ({
      name: c.name,
      fate: processed.has(offset) ? 'processed' : letters.has(offset) ? 'dead-lettered' : 'lost',
    }));
    expect(fates).toEqual(cases.map((c) => ({ name: c.name, fate: c.fate })));

    // Dead letters carry the original bytes: value and the odd headers.
    const garbage = letters.get(2);
    expect(garbage?.value?.equals(cases[2]?.message.value as Buffer)).toBe(true);
    expect(
      Buffer.from(garbage?.headers['x-binary'] as Buffer).equals(oddHeaders['x-binary'] as Buffer),
    ).toBe(true);
    expect(garbage?.headers['x-dlq-reason']?.toString()).toBe('unprocessable');
    expect(letters.get(4)?.value?.length).toBe(MB);
    expect(letters.get(1)?.value).toBeNull();

    expect(consumer.child.exitCode).toBeNull();
    expect((await fetch(`${consumer.managementUrl}/livez`)).status).toBe(200);
    // No hostile value reached the log at info level (the 1 MB garbage would be hard to miss).
    const ownErrors = consumer
      .logs()
      .filter((l) => l['level'] === 'fatal' || l['msg'] === 'consumer crashed for good');
    expect(ownErrors).toEqual([]);
    expect(await consumer.stop('SIGTERM')).toBe(0);
  } catch (error) {
    throw withConsumerWarnings(error, consumer.logs());
  } finally {
    await consumer.stop('SIGKILL');
  }
});

/** The failure with what the consumer warned about, for a run that cannot be repeated. */
function withConsumerWarnings(error: unknown, logs: Array<Record<string, unknown>>): unknown {
  const warnings = logs
    .filter((l) => ['warn', 'error', 'fatal'].includes(String(l['level'])))
    .slice(-20)
    .map((l) => JSON.stringify({ msg: l['msg'], err: l['err'], offset: l['offset'] }));
  if (!(error instanceof Error) || warnings.length === 0) return error;
  error.message += `\nthe consumer's last warnings and errors:\n${warnings.join('\n')}`;
  return error;
}

interface Letter {
  value: Buffer | null;
  headers: Record<string, Buffer | undefined>;
}

/** The dead letters by their source offset. */
async function readDeadLetters(topic: string, count: number): Promise<Map<number, Letter>> {
  const consumer = testKafka().consumer({
    groupId: uniqueTopic('dlq-reader'),
    maxWaitTimeInMs: 200,
  });
  const letters = new Map<number, Letter>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${letters.size} of ${count} dead letters`)),
        30_000,
      );
      consumer
        .run({
          eachMessage: async ({ message }) => {
            const headers = message.headers as Record<string, Buffer | undefined>;
            letters.set(Number(headers['x-dlq-source-offset']?.toString()), {
              value: message.value,
              headers,
            });
            if (letters.size >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return letters;
}
