/** The cluster monitor's metadata reads, through a kafkajs admin client. */
import { ConfigResourceTypes, type Kafka } from '../../common/kafka';
import type { PartitionInfo } from './port';

/** The topic settings that decide whether a record can be written. */
export interface TopicConfig {
  maxMessageBytes: number;
  /** cleanup.policy includes compact: the broker refuses records without a key. */
  compacted: boolean;
}

export interface MetadataClient {
  fetchPartitions(topic: string): Promise<PartitionInfo[]>;
  fetchTopicConfigs(topics: string[]): Promise<Map<string, TopicConfig>>;
  disconnect(): Promise<void>;
}

/** A kafkajs admin client. `kafka` should retry little: the monitor retries on its own. */
export function adminMetadataClient(kafka: Kafka): MetadataClient {
  const admin = kafka.admin();
  let connecting: Promise<void> | undefined;
  const connected = () => (connecting ??= admin.connect());
  return {
    async fetchPartitions(topic) {
      await connected();
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const found = topics.find((candidate) => candidate.name === topic);
      if (!found) throw new Error(`no metadata for topic ${topic}`);
      return found.partitions.map(({ partitionId, leader }) => ({ partitionId, leader }));
    },
    async fetchTopicConfigs(topics) {
      await connected();
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: topics.map((name) => ({
          type: ConfigResourceTypes.TOPIC,
          name,
          configNames: ['max.message.bytes', 'cleanup.policy'],
        })),
      });
      const result = new Map<string, TopicConfig>();
      for (const resource of resources) {
        if (resource.errorCode !== 0) continue;
        const value = (name: string) =>
          resource.configEntries.find((entry) => entry.configName === name)?.configValue ?? '';
        const maxMessageBytes = Number(value('max.message.bytes'));
        if (!Number.isInteger(maxMessageBytes) || maxMessageBytes <= 0) continue;
        const compacted = value('cleanup.policy').split(',').includes('compact');
        result.set(resource.resourceName, { maxMessageBytes, compacted });
      }
      return result;
    },
    disconnect: () => admin.disconnect(),
  };
}
