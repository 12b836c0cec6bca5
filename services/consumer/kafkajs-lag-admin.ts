/** The lag monitor's admin calls, through a kafkajs admin client. */
import type { Kafka } from '../common/kafka';
import type { LagAdmin } from './port';

/** `kafka` should retry little: the lag monitor refreshes again on its own schedule. */
export function kafkajsLagAdmin(kafka: Kafka): LagAdmin {
  const admin = kafka.admin();
  return {
    connect: () => admin.connect(),
    async committedOffsets(groupId, topics) {
      const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
      return committed.flatMap(({ topic, partitions }) =>
        partitions.map(({ partition, offset }) => {
          // kafkajs says "-1" for a partition the group has committed nothing on.
          const value = BigInt(offset);
          return { topic, partition, offset: value >= 0n ? value : undefined };
        }),
      );
    },
    async logOffsets(topic) {
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.map(({ partition, high, low }) => ({
        partition,
        logEnd: BigInt(high),
        logStart: BigInt(low),
      }));
    },
    disconnect: () => admin.disconnect(),
  };
}
