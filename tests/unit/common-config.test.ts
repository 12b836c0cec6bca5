import {
  ConfigError,
  consumerSpec,
  loadConsumerConfig,
  loadProducerConfig,
  producerSpec,
} from '../../services/common/config';

function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('gives the documented defaults when nothing is set', () => {
    const producer = loadProducerConfig({});
    expect(producer.HTTP_PORT).toBe(8080);
    expect(producer.MANAGEMENT_PORT).toBe(8081);
    expect(producer.TOPICS).toEqual(['events']);
    expect(producer.KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
    const consumer = loadConsumerConfig({});
    expect(consumer.MANAGEMENT_PORT).toBe(8082);
    expect(consumer.CONSUMER_GROUP_ID).toBe('event-consumer');
    expect(consumer.DLQ_TOPIC).toBe('events-dlq');
  });

  it('parses lists, integers, booleans and choices', () => {
    const config = loadProducerConfig({
      KAFKA_BROKERS: ' 10.0.0.1:9092 , kafka-0.kafka:9093 ',
      HTTP_PORT: '9000',
      KAFKA_SSL: 'TRUE',
      PRODUCER_COMPRESSION: 'GZIP',
      TOPICS: 'events,audit.log',
    });
    expect(config.KAFKA_BROKERS).toEqual(['10.0.0.1:9092', 'kafka-0.kafka:9093']);
    expect(config.HTTP_PORT).toBe(9000);
    expect(config.KAFKA_SSL).toBe(true);
    expect(config.PRODUCER_COMPRESSION).toBe('gzip');
    expect(config.TOPICS).toEqual(['events', 'audit.log']);
  });

  it('names every bad variable and what is allowed, all at once', () => {
    const problems = problemsOf(() =>
      loadProducerConfig({
        HTTP_PORT: 'eighty',
        MANAGEMENT_PORT: '70000',
        KAFKA_BROKERS: 'kafka',
        LOG_LEVEL: 'loud',
        TOPICS: 'events,,x',
      }),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^KAFKA_BROKERS .*"kafka" is not a valid host:port/),
      expect.stringMatching(/^LOG_LEVEL must be one of fatal, error, warn, info, debug/),
      expect.stringMatching(/^MANAGEMENT_PORT must be between 1 and 65535, got 70000/),
      expect.stringMatching(/^HTTP_PORT must be an integer, got "eighty"/),
      expect.stringMatching(/^TOPICS must be a comma-separated list without empty items/),
    ]);
  });

  it('never repeats a secret value in an error', () => {
    const problems = problemsOf(() => loadProducerConfig({ API_KEYS: 'k1,,k2-secret' }));
    expect(problems).toEqual(['API_KEYS is invalid']);
    expect(problems.join()).not.toContain('k2-secret');
  });

  it('requires SASL credentials when a mechanism is set', () => {
    expect(problemsOf(() => loadConsumerConfig({ KAFKA_SASL_MECHANISM: 'scram-sha-512' }))).toEqual(
      [
        'KAFKA_SASL_USERNAME is required when KAFKA_SASL_MECHANISM is not none',
        'KAFKA_SASL_PASSWORD is required when KAFKA_SASL_MECHANISM is not none',
      ],
    );
  });

  it('rejects settings that contradict each other', () => {
    expect(problemsOf(() => loadProducerConfig({ HTTP_PORT: '8081' }))).toEqual([
      'HTTP_PORT and MANAGEMENT_PORT must differ',
    ]);
    expect(problemsOf(() => loadConsumerConfig({ TOPICS: 'events,events-dlq' }))).toEqual([
      'DLQ_TOPIC must not be one of TOPICS (dead letters would be consumed again)',
    ]);
    expect(
      problemsOf(() =>
        loadConsumerConfig({ SESSION_TIMEOUT_MS: '6000', HEARTBEAT_INTERVAL_MS: '3000' }),
      ),
    ).toEqual(['HEARTBEAT_INTERVAL_MS must be at most a third of SESSION_TIMEOUT_MS']);
  });

  it('documents every setting', () => {
    for (const spec of [producerSpec, consumerSpec]) {
      for (const [name, item] of Object.entries(spec)) {
        expect(`${name}: ${item.doc}`.length).toBeGreaterThan(name.length + 10);
      }
    }
  });
});
