/** The key partitioner Java clients use (murmur2), from kafkajs, so keys land where other clients put them. */
import { defaultPartitioner } from '../../common/kafka';
import type { PartitionInfo } from './port';

export type KeyPartitioner = (topic: string, partitions: PartitionInfo[], key: string) => number;

export function murmur2KeyPartitioner(): KeyPartitioner {
  const partitioner = defaultPartitioner();
  return (topic, partitions, key) =>
    partitioner({
      topic,
      // kafkajs reads only partitionId (and leader, for keyless messages) of each entry.
      partitionMetadata: partitions.map(({ partitionId, leader }) => ({
        partitionId,
        leader,
        partitionErrorCode: 0,
        replicas: [],
        isr: [],
      })),
      message: { key, value: null },
    });
}
