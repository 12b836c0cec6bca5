/**
 * A dead-letter write that the broker stored but whose answer never reached the consumer
 * (dropped by a forwarder that reads Kafka's framing) must cost no other dead letter.
 *
 * kafkajs rolls an idempotent producer's sequence numbers back when a produce request fails
 * (sendMessages.js: `eosManager.updateSequence(topic, partition, -count)`), stored or not. A
 * second write through the same producer, to the same dead-letter partition, that goes out
 * before the first one's retry takes the first one's sequence number; the broker takes it
 * for a duplicate of the stored record, answers success with that record's offset and writes
 * nothing, and the consumer commits the second message's offset: a dead letter dropped
 * silently.
 *
 * Two source partitions each start with a message the handler always rejects (no retries);
 * they are dead-lettered at the same time to a one-partition dead-letter topic. The answer
 * to the consumer's first produce request is dropped. Every dead letter must be in the
 * dead-letter topic, once and as built, when its source offset is seen committed. When
 * two answers are dropped, the first write outlives DLQ_WRITE_TIMEOUT_MS and fails (though
 * stored); the second letter must still be written, and the first one is written again
 * (at least once).
 *
 * The consumer reaches Kafka only through the forwarder, on a listener that advertises the
 * forwarder's port; the test itself uses the broker's own listener.
 */
import type { Message } from 'kafkajs';
import { withAdmin } from '../../scripts/kafka/admin';
import { startKafka, type KafkaCluster } from '../../scripts/kafka/harness';
import { AnswerDroppingForwarder, PRODUCE_API_KEY } from '../support/answer-dropping-forwarder';
import {
  consumeAll,
  createTopic,
  testKafka,
  uniqueTopic,
  type ConsumedMessage,
} from '../support/kafka';
import type { RunningService } from '../../scripts/lib/services';
import { handled, metric, startConsumer, writeHandlerModule } from './consumer-helpers';
import { freePorts } from '../../scripts/lib/ports';
import { waitFor } from '../../scripts/lib/poll';

jest.setTimeout(240_000);

/** Short, so a write whose answer was dropped is retried soon. */
const REQUEST_TIMEOUT_MS = 3_000;
const SOURCE_PARTITIONS = [0, 1];
/** The source message of each poison message's letter: `partition/offset`. */
const SOURCES = SOURCE_PARTITIONS.map((partition) => `${partition}/0`);

let cluster: KafkaCluster | undefined;
let forwarder: AnswerDroppingForwarder | undefined;

beforeAll(async () => {
  const bound = await freePorts(1);
  const advertised = await freePorts(1, bound);
  cluster = await startKafka({
    nodes: 1,
    // The forwarder binds this once Kafka is up: Kafka's own ports must not take it.
    avoidPorts: advertised,
    extraListeners: [
      { name: 'CLIENTS', ports: bound, advertisedHost: '127.0.0.1', advertisedPorts: advertised },
    ],
  });
  forwarder = new AnswerDroppingForwarder('127.0.0.1', advertised[0] as number, bound[0] as number);
  await forwarder.start();
}, 180_000);

afterAll(async () => {
  await forwarder?.stop();
  await cluster?.stop();
}, 120_000);

async function produceTo(brokers: string[], topic: string, messages: Message[]): Promise<void> {
  const producer = testKafka({ brokers }).producer({ idempotent: true });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

/** Committed offset of each partition of `topic` (-1: none), and the log-end of `dlq`. */
async function snapshot(
  brokers: string[],
  groupId: string,
  topic: string,
  dlq: string,
): Promise<{ committed: Map<number, number>; dlqEnd: number }> {
  return withAdmin(brokers, async (admin) => {
    const [result] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const committed = new Map(
      (result?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]),
    );
    const ends = await admin.fetchTopicOffsets(dlq);
    return { committed, dlqEnd: ends.reduce((sum, p) => sum + Number(p.high), 0) };
  });
}

interface ScenarioResult {
  topic: string;
  groupId: string;
  letters: ConsumedMessage[];
  /** The dead-letter topic's log-end when each source partition was seen committed. */
  dlqEndAtCommit: Map<number, number>;
  droppedAnswers: number;
  produceRequests: number;
  consumer: RunningService;
}

const sourceOf = (letter: ConsumedMessage) =>
  `${String(letter.headers['x-dlq-source-partition'])}/${String(letter.headers['x-dlq-source-offset'])}`;

/**
 * Offset 0 of each source partition is a message the handler rejects, offset 1 one it
 * handles. The answers to the consumer's next `dropAnswers` produce requests are dropped.
 * Returns once both partitions are committed past both messages, with the consumer running.
 */
async function runScenario(
  label: string,
  options: { dropAnswers: number; dlqWriteTimeoutMs: number },
  started: (consumer: RunningService) => void,
): Promise<ScenarioResult> {
  const kafka = cluster;
  const proxy = forwarder;
  if (!kafka || !proxy) throw new Error('Kafka or the forwarder did not start');
  const clientBrokers = kafka.extraBootstrap['CLIENTS'];
  if (!clientBrokers) throw new Error('no CLIENTS listener');
  const topic = uniqueTopic(label);
  const setup = { topic, groupId: `${topic}-group`, deadLetterTopic: `${topic}-dlq` };
  await createTopic(topic, SOURCE_PARTITIONS.length, 1, { brokers: kafka.brokers });
  await createTopic(setup.deadLetterTopic, 1, 1, { brokers: kafka.brokers });
  await produceTo(
    kafka.brokers,
    topic,
    SOURCE_PARTITIONS.flatMap((partition) => [
      {
        partition,
        key: `poison-${partition}`,
        value: `{"poison":${partition}}`,
        headers: { 'trace-id': `trace-${partition}` },
      },
      { partition, key: `ok-${partition}`, value: `{"ok":${partition}}` },
    ]),
  );
  const handler = writeHandlerModule(
    'rejects-poison-keys',
    `const key = String(message.key);
     if (key.startsWith('poison-')) throw new Error('handler rejects ' + key);
     return defaultHandle(message, context);`,
  );

  const droppedBefore = proxy.dropped.length;
  const requestsBefore = proxy.requests.get(PRODUCE_API_KEY) ?? 0;
  proxy.dropAnswers(PRODUCE_API_KEY, options.dropAnswers);
  const consumer = await startConsumer(setup, label, {
    KAFKA_BROKERS: clientBrokers,
    HANDLER_MODULE: handler,
    HANDLER_MAX_RETRIES: '0',
    PARTITIONS_CONSUMED_CONCURRENTLY: String(SOURCE_PARTITIONS.length),
    KAFKA_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    DLQ_WRITE_TIMEOUT_MS: String(options.dlqWriteTimeoutMs),
  });
  started(consumer);

  // Read right after each poll sees the commit, so at most one poll late.
  const dlqEndAtCommit = new Map<number, number>();
  await waitFor(
    'both source partitions committed past their poison message',
    async () => {
      const { committed, dlqEnd } = await snapshot(
        kafka.brokers,
        setup.groupId,
        topic,
        setup.deadLetterTopic,
      );
      for (const partition of SOURCE_PARTITIONS) {
        if ((committed.get(partition) ?? -1) > 0 && !dlqEndAtCommit.has(partition)) {
          dlqEndAtCommit.set(partition, dlqEnd);
        }
      }
      return dlqEndAtCommit.size === SOURCE_PARTITIONS.length;
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  );
  await waitFor(
    'the messages behind the poison ones handled and committed',
    async () =>
      SOURCE_PARTITIONS.every((partition) =>
        handled(consumer).some((entry) => entry.key === `ok-${partition}`),
      ) &&
      [...(await snapshot(kafka.brokers, setup.groupId, topic, setup.deadLetterTopic)).committed]
        .filter(([partition]) => SOURCE_PARTITIONS.includes(partition))
        .every(([, offset]) => offset === 2),
    { timeoutMs: 60_000 },
  );

  const { dlqEnd } = await snapshot(kafka.brokers, setup.groupId, topic, setup.deadLetterTopic);
  const letters = await consumeAll(setup.deadLetterTopic, dlqEnd, 30_000, {
    brokers: kafka.brokers,
  });
  const result = {
    topic,
    groupId: setup.groupId,
    letters,
    dlqEndAtCommit,
    droppedAnswers: proxy.dropped.length - droppedBefore,
    produceRequests: (proxy.requests.get(PRODUCE_API_KEY) ?? 0) - requestsBefore,
    consumer,
  };
  process.stdout.write(
    `  ${label}: answers dropped: ${result.droppedAnswers} (produce requests through the forwarder: ` +
      `${result.produceRequests}); dead-letter topic: ${letters.length} records, from ` +
      `${letters.map((l) => `${sourceOf(l)}@${l.offset}`).join(', ') || 'nothing'}; ` +
      `its log-end when each source offset was committed: ` +
      `${[...dlqEndAtCommit].map(([p, end]) => `partition ${p}: ${end}`).join(', ')}\n`,
  );
  return result;
}

function lettersPerSource(letters: ConsumedMessage[]): Record<string, number> {
  return Object.fromEntries(
    SOURCES.map((source) => [source, letters.filter((l) => sourceOf(l) === source).length]),
  );
}

/** Each source message's first letter is as built and was written before its offset was committed. */
function expectLettersAsBuilt(result: ScenarioResult): void {
  for (const partition of SOURCE_PARTITIONS) {
    const letter = result.letters.find((candidate) => sourceOf(candidate) === `${partition}/0`);
    expect(letter).toMatchObject({
      key: `poison-${partition}`,
      value: `{"poison":${partition}}`,
      headers: {
        'trace-id': `trace-${partition}`,
        'x-dlq-source-topic': result.topic,
        'x-dlq-source-partition': String(partition),
        'x-dlq-source-offset': '0',
        'x-dlq-consumer-group': result.groupId,
        'x-dlq-reason': 'retries-exhausted',
        'x-dlq-error': `Error: handler rejects poison-${partition}`,
        'x-dlq-attempts': '1',
      },
    });
    expect(Number(letter?.offset)).toBeLessThan(result.dlqEndAtCommit.get(partition) ?? 0);
  }
}

let consumer: RunningService | undefined;

afterEach(async () => {
  await consumer?.stop('SIGKILL');
  consumer = undefined;
});

test('a dead-letter write whose answer was lost: every dead letter is in the dead-letter topic, once, when its offset is committed', async () => {
  const result = await runScenario(
    'dlq-lost-answer',
    { dropAnswers: 1, dlqWriteTimeoutMs: 20_000 },
    (started) => (consumer = started),
  );
  // The fault happened: the broker stored a record the consumer was not told about.
  expect(result.droppedAnswers).toBe(1);
  // One letter from each poison message, none twice, none missing.
  expect(lettersPerSource(result.letters)).toEqual(
    Object.fromEntries(SOURCES.map((source) => [source, 1])),
  );
  expectLettersAsBuilt(result);
  expect(
    await metric(result.consumer, 'event_pipeline_consumed_messages_total', {
      topic: result.topic,
      result: 'dead_lettered',
    }),
  ).toBe(SOURCE_PARTITIONS.length);
  expect(await result.consumer.stop('SIGTERM')).toBe(0);
});

test('a dead-letter write that outlived DLQ_WRITE_TIMEOUT_MS though stored: the next letter goes through a new producer and is written', async () => {
  const result = await runScenario(
    'dlq-write-timed-out',
    // The write and kafkajs' first retry lose their answers: the write fails after 4 s.
    { dropAnswers: 2, dlqWriteTimeoutMs: 4_000 },
    (started) => (consumer = started),
  );
  expect(result.droppedAnswers).toBe(2);
  // The path under test was taken: a write failed and its producer was replaced.
  const replaced = result.consumer
    .logs()
    .filter((line) => line['msg'] === 'send to Kafka failed; replacing the producer');
  expect(replaced.length).toBeGreaterThanOrEqual(1);
  // Every letter is there; only a write reported as failed may have been stored twice.
  const counts = lettersPerSource(result.letters);
  expect(Object.values(counts).every((count) => count >= 1)).toBe(true);
  expect(Object.values(counts).filter((count) => count > 1).length).toBeLessThanOrEqual(
    replaced.length,
  );
  expect(result.letters.every((letter) => SOURCES.includes(sourceOf(letter)))).toBe(true);
  expectLettersAsBuilt(result);
  expect(await result.consumer.stop('SIGTERM')).toBe(0);
});
