import pino from 'pino';
import {
  CompressionTypes,
  type Kafka,
  type ProducerBatch,
  type ProducerConfig,
  type RecordMetadata,
} from 'kafkajs';
import {
  LeaderSenders,
  SendTimeoutError,
  type TopicBatch,
} from '../../services/producer/kafka/leader-senders';

interface FakeProducer {
  config: ProducerConfig;
  batches: ProducerBatch[];
  disconnected: boolean;
  behaviour: 'ok' | 'fail' | 'hang';
}

function fakeKafka() {
  const producers: FakeProducer[] = [];
  let nextBehaviour: FakeProducer['behaviour'] = 'ok';
  const kafka = {
    producer: (config: ProducerConfig) => {
      const fake: FakeProducer = {
        config,
        batches: [],
        disconnected: false,
        behaviour: nextBehaviour,
      };
      producers.push(fake);
      return {
        connect: async () => undefined,
        disconnect: async () => {
          fake.disconnected = true;
        },
        sendBatch: async (batch: ProducerBatch): Promise<RecordMetadata[]> => {
          fake.batches.push(batch);
          if (fake.behaviour === 'fail') throw new Error('Connection error');
          if (fake.behaviour === 'hang') return new Promise<never>(() => undefined);
          return (batch.topicMessages ?? []).map((t) => ({
            topicName: t.topic,
            partition: t.messages[0]?.partition ?? 0,
            errorCode: 0,
            baseOffset: '10',
          }));
        },
      };
    },
  };
  return {
    kafka: kafka as unknown as Kafka, // only producer() is used by LeaderSenders
    producers,
    setNext: (behaviour: FakeProducer['behaviour']) => (nextBehaviour = behaviour),
  };
}

const batches: TopicBatch[] = [
  {
    topic: 't',
    records: [{ key: 'k', value: '{"a":1}', headers: { h: 'v' }, partition: 2, bytes: 50 }],
  },
];

function sender(kafka: Kafka, sendTimeoutMs = 1_000): LeaderSenders {
  return new LeaderSenders({
    kafka,
    logger: pino({ level: 'silent' }),
    compression: 'gzip',
    ackTimeoutMs: 5_000,
    sendTimeoutMs,
    retry: { retries: 2 },
  });
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('Kafka sender', () => {
  test('an idempotent producer, acks=all, one request in flight, no topic auto-creation', async () => {
    const fake = fakeKafka();
    const s = sender(fake.kafka);
    await s.connect();
    expect(s.connected).toBe(true);
    await expect(s.send(batches)).resolves.toEqual([
      { topic: 't', partition: 2, baseOffset: '10' },
    ]);
    const [producer] = fake.producers;
    expect(producer?.config).toMatchObject({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    expect(producer?.batches[0]).toEqual({
      acks: -1,
      timeout: 5_000,
      compression: CompressionTypes.GZIP,
      topicMessages: [
        {
          topic: 't',
          messages: [{ key: 'k', value: '{"a":1}', partition: 2, headers: { h: 'v' } }],
        },
      ],
    });
  });

  test('after a failed send the next one uses a new producer; the old one is disconnected', async () => {
    const fake = fakeKafka();
    fake.setNext('fail');
    const s = sender(fake.kafka);
    await expect(s.send(batches)).rejects.toThrow('Connection error');
    expect(s.connected).toBe(false);
    expect(s.hasConnected).toBe(true); // it had connected; only the send failed
    fake.setNext('ok');
    await expect(s.send(batches)).resolves.toHaveLength(1);
    await settle();
    expect(fake.producers).toHaveLength(2);
    expect(fake.producers[0]?.disconnected).toBe(true);
    expect(fake.producers[1]?.disconnected).toBe(false);
  });

  test("each leader's sends have a producer of their own; one failing leaves the others in service", async () => {
    const fake = fakeKafka();
    const s = sender(fake.kafka);
    await expect(s.send(batches, 1)).resolves.toHaveLength(1);
    fake.setNext('fail');
    await expect(s.send(batches, 2)).rejects.toThrow('Connection error');
    fake.setNext('ok');
    await expect(s.send(batches, 1)).resolves.toHaveLength(1);
    await settle();
    // Broker 1's producer carried both of its sends and is still in service.
    expect(fake.producers.map((p) => [p.batches.length, p.disconnected])).toEqual([
      [2, false],
      [1, true],
    ]);
    await expect(s.send(batches, 2)).resolves.toHaveLength(1);
    expect(fake.producers).toHaveLength(3);
    expect(s.connected).toBe(true);
  });

  test('a send that hangs ends at the send timeout and its producer is retired', async () => {
    const fake = fakeKafka();
    fake.setNext('hang');
    const s = sender(fake.kafka, 100);
    await expect(s.send(batches)).rejects.toBeInstanceOf(SendTimeoutError);
    fake.setNext('ok');
    await expect(s.send(batches)).resolves.toHaveLength(1);
    expect(fake.producers).toHaveLength(2);
    await s.disconnect();
    expect(fake.producers.every((p) => p.disconnected)).toBe(true);
    await expect(s.send(batches)).rejects.toThrow('closed');
  });
});
