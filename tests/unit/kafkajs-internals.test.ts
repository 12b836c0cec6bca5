/**
 * The one private kafkajs symbol the services use (common/kafka.ts reads the timestamp of
 * the record at a committed offset through kafkajs' internal cluster factory). A kafkajs
 * upgrade that renames or removes it fails here, not in a running consumer.
 */
import { createRecordTimestampReader, Kafka } from '../../services/common/kafka';

describe("kafkajs' internal cluster factory", () => {
  test('is found by its symbol and builds a cluster client with the methods the reader calls', async () => {
    const kafka = new Kafka({ brokers: ['127.0.0.1:1'], logLevel: 0 });
    const symbol = Object.getOwnPropertySymbols(kafka).find(
      (candidate) => candidate.description === 'private:Kafka:createCluster',
    );
    expect(symbol).toBeDefined();
    // The reader is built from it without connecting anywhere.
    const reader = createRecordTimestampReader(kafka);
    await reader.disconnect();
    const create = (kafka as unknown as Record<symbol, (options: object) => object>)[
      symbol as symbol
    ];
    if (!create) throw new Error('no cluster factory under the symbol');
    const cluster = create.call(kafka, { allowAutoTopicCreation: false }) as Record<
      string,
      unknown
    >;
    for (const method of [
      'connect',
      'disconnect',
      'isConnected',
      'addTargetTopic',
      'refreshMetadata',
      'findLeaderForPartitions',
      'findBroker',
    ]) {
      expect(typeof cluster[method]).toBe('function');
    }
  });
});
