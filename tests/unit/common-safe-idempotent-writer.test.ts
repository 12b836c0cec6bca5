import pino from 'pino';
import type { Kafka, ProducerBatch, ProducerConfig, RecordMetadata } from 'kafkajs';
import {
  retriesWithin,
  SafeIdempotentWriter,
  SendTimeoutError,
  WriterClosedError,
} from '../../services/common/safe-idempotent-writer';

/** A kafkajs producer stand-in whose sends the test ends one by one. */
interface FakeProducer {
  config: ProducerConfig;
  sent: ProducerBatch[];
  /** The pending sends, oldest first: call one to end that send. */
  pending: Array<(outcome: 'ok' | Error) => void>;
  connectFails: boolean;
  disconnected: boolean;
}

function fakeKafka() {
  const producers: FakeProducer[] = [];
  let connectFails = false;
  const kafka = {
    producer: (config: ProducerConfig) => {
      const fake: FakeProducer = {
        config,
        sent: [],
        pending: [],
        connectFails,
        disconnected: false,
      };
      producers.push(fake);
      return {
        connect: async () => {
          if (fake.connectFails) throw new Error('Connection refused');
        },
        disconnect: async () => {
          fake.disconnected = true;
        },
        sendBatch: (batch: ProducerBatch) => {
          fake.sent.push(batch);
          return new Promise<RecordMetadata[]>((resolve, reject) => {
            fake.pending.push((outcome) => {
              if (outcome instanceof Error) reject(outcome);
              else resolve([{ topicName: 't', partition: 0, errorCode: 0, baseOffset: '0' }]);
            });
          });
        },
      };
    },
  };
  return {
    kafka: kafka as unknown as Kafka, // only producer() is used by the writer
    producers,
    failConnects: (fails: boolean) => (connectFails = fails),
  };
}

const batch = (value: string): ProducerBatch => ({
  acks: -1,
  topicMessages: [{ topic: 't', messages: [{ value }] }],
});

function writer(kafka: Kafka, sendTimeoutMs = 1_000): SafeIdempotentWriter {
  return new SafeIdempotentWriter({
    kafka,
    logger: pino({ level: 'silent' }),
    retry: { retries: 2 },
    sendTimeoutMs,
  });
}

/** Lets the writer's promise callbacks run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 10));
const valuesSent = (producer: FakeProducer | undefined) =>
  producer?.sent.map((b) => b.topicMessages?.[0]?.messages[0]?.value);

describe('safe idempotent writer', () => {
  test('an idempotent producer, one request in flight, no topic auto-creation', async () => {
    const fake = fakeKafka();
    const w = writer(fake.kafka);
    await w.connect();
    expect(w.connected).toBe(true);
    expect(fake.producers[0]?.config).toMatchObject({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: { retries: 2 },
    });
  });

  test('a send made while one is in flight waits for it, through the same producer when it succeeded', async () => {
    const fake = fakeKafka();
    const w = writer(fake.kafka);
    const first = w.send(batch('a'));
    const second = w.send(batch('b'));
    await settle();
    const [producer] = fake.producers;
    // kafkajs would give the second send the first one's sequence numbers if the first
    // one's request failed and was rolled back before its retry.
    expect(valuesSent(producer)).toEqual(['a']);
    producer?.pending[0]?.('ok');
    await expect(first).resolves.toHaveLength(1);
    await settle();
    expect(valuesSent(producer)).toEqual(['a', 'b']);
    producer?.pending[1]?.('ok');
    await expect(second).resolves.toHaveLength(1);
    expect(fake.producers).toHaveLength(1);
  });

  test('after a failed send the waiting one goes through a new producer; the old one is disconnected', async () => {
    const fake = fakeKafka();
    const w = writer(fake.kafka);
    const first = w.send(batch('a'));
    const second = w.send(batch('b'));
    await settle();
    fake.producers[0]?.pending[0]?.(new Error('Request Produce(key: 0, version: 7) timed out'));
    await expect(first).rejects.toThrow('timed out');
    await settle();
    expect(fake.producers).toHaveLength(2);
    expect(valuesSent(fake.producers[0])).toEqual(['a']);
    expect(valuesSent(fake.producers[1])).toEqual(['b']);
    expect(fake.producers[0]?.disconnected).toBe(true);
    fake.producers[1]?.pending[0]?.('ok');
    await expect(second).resolves.toHaveLength(1);
    expect(w.connected).toBe(true);
    expect(fake.producers[1]?.disconnected).toBe(false);
  });

  test('a send that outlives the timeout rejects once kafkajs gave up; the next one starts at once on a new producer', async () => {
    // The clock is the test's: on a busy machine a real 50 ms timer could also expire the
    // second send before the test ends it.
    jest.useFakeTimers();
    try {
      const fake = fakeKafka();
      const w = writer(fake.kafka, 50);
      let firstEnded = false;
      const first = w.send(batch('a')).finally(() => (firstEnded = true));
      const second = w.send(batch('b'));
      await jest.advanceTimersByTimeAsync(50);
      // Timed out: the waiting send already went out through a new producer...
      expect(valuesSent(fake.producers[1])).toEqual(['b']);
      fake.producers[1]?.pending[0]?.('ok');
      await expect(second).resolves.toHaveLength(1);
      // ...but the timed-out one is reported only when kafkajs ends it (or after 5 × 50 ms).
      await jest.advanceTimersByTimeAsync(100);
      expect(firstEnded).toBe(false);
      expect(fake.producers[0]?.disconnected).toBe(false);
      fake.producers[0]?.pending[0]?.(new Error('retries exhausted'));
      await expect(first).rejects.toBeInstanceOf(SendTimeoutError);
      await jest.advanceTimersByTimeAsync(0);
      expect(fake.producers[0]?.disconnected).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });

  test('a timed-out send that kafkajs never ends is given up after five timeouts', async () => {
    const fake = fakeKafka();
    const w = writer(fake.kafka, 20);
    const started = Date.now();
    await expect(w.send(batch('a'))).rejects.toBeInstanceOf(SendTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(20 * 5);
    await w.disconnect();
    expect(fake.producers[0]?.disconnected).toBe(true);
  });

  test('connect rejects when the producer cannot connect; the next attempt uses a new producer', async () => {
    const fake = fakeKafka();
    fake.failConnects(true);
    const w = writer(fake.kafka);
    await expect(w.connect()).rejects.toThrow('Connection refused');
    expect(w.connected).toBe(false);
    expect(w.hasConnected).toBe(false);
    fake.failConnects(false);
    await w.connect();
    expect(fake.producers).toHaveLength(2);
    expect(w.connected).toBe(true);
    expect(w.hasConnected).toBe(true);
  });

  test('disconnect rejects the waiting sends and every later one', async () => {
    const fake = fakeKafka();
    const w = writer(fake.kafka);
    const first = w.send(batch('a'));
    const second = w.send(batch('b'));
    await settle();
    const closing = w.disconnect();
    await expect(second).rejects.toBeInstanceOf(WriterClosedError);
    fake.producers[0]?.pending[0]?.(new Error('The producer is disconnected'));
    await expect(first).rejects.toThrow('disconnected');
    await closing;
    expect(fake.producers.every((p) => p.disconnected)).toBe(true);
    await expect(w.send(batch('c'))).rejects.toBeInstanceOf(WriterClosedError);
    expect(fake.producers).toHaveLength(1);
  });

  test('retriesWithin: about one retry a second of the send timeout, at least 2, at most 60', () => {
    expect(retriesWithin(1_000).retries).toBe(2);
    expect(retriesWithin(10_000)).toEqual({
      retries: 10,
      initialRetryTime: 100,
      maxRetryTime: 1000,
      factor: 0.2,
      multiplier: 2,
    });
    expect(retriesWithin(300_000).retries).toBe(60);
  });
});
