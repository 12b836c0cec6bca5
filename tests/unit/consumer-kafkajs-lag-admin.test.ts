import type { Kafka } from '../../services/common/kafka';
import { kafkajsLagAdmin } from '../../services/consumer/kafkajs-lag-admin';

describe('kafkajsLagAdmin', () => {
  // Only the admin calls the adapter makes are faked; the rest of kafkajs' Admin is unused.
  const requests: unknown[] = [];
  const admin = {
    fetchOffsets: async (request: unknown) => {
      requests.push(request);
      return [
        {
          topic: 'events',
          partitions: [
            { partition: 0, offset: '9007199254740993', metadata: null },
            { partition: 1, offset: '-1', metadata: null },
          ],
        },
      ];
    },
    fetchTopicOffsets: async () => [{ partition: 0, offset: '12', high: '12', low: '3' }],
  };
  const kafka = { admin: () => admin } as unknown as Kafka;

  it("reads committed offsets as bigints, kafkajs' -1 as none", async () => {
    const topics = ['events'] as const;
    await expect(kafkajsLagAdmin(kafka).committedOffsets('g', topics)).resolves.toEqual([
      { topic: 'events', partition: 0, offset: 9007199254740993n },
      { topic: 'events', partition: 1, offset: undefined },
    ]);
    expect(requests).toEqual([{ groupId: 'g', topics: ['events'] }]);
  });

  it('reads the log start and end of every partition', async () => {
    await expect(kafkajsLagAdmin(kafka).logOffsets('events')).resolves.toEqual([
      { partition: 0, logEnd: 12n, logStart: 3n },
    ]);
  });
});
