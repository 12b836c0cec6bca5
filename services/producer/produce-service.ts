/**
 * One produce request, after HTTP: the topic's metadata, records built and size-checked,
 * handed to the batcher; counted by outcome. Fails fast while Kafka is unreachable.
 */
import { ApiError, isApiError } from './errors';
import type { RecordResult } from './batcher';
import type { ProducerMetrics } from './metrics';
import type { OutgoingRecord, RecordBuilder, TopicInfo } from './records';
import type { ProduceRequestBody } from './validation';

export interface ProduceServiceOptions {
  topics: string[];
  cluster: { readonly reachable: boolean; topicInfo(topic: string): TopicInfo | undefined };
  batcher: { submit(topic: string, records: OutgoingRecord[]): Promise<RecordResult[]> };
  builder: RecordBuilder;
  metrics: ProducerMetrics;
}

export class ProduceService {
  private readonly allowed: Set<string>;

  constructor(private readonly options: ProduceServiceOptions) {
    this.allowed = new Set(options.topics);
  }

  isAllowedTopic(topic: string): boolean {
    return this.allowed.has(topic);
  }

  async produce(topic: string, body: ProduceRequestBody): Promise<RecordResult[]> {
    const { cluster, batcher, builder, metrics } = this.options;
    const count = body.messages.length;
    let records: OutgoingRecord[];
    try {
      if (!cluster.reachable) {
        throw new ApiError('kafka_unavailable', 'Kafka is unreachable; retry later');
      }
      const info = cluster.topicInfo(topic);
      if (!info) {
        throw new ApiError('topic_unavailable', `the metadata of topic ${topic} is not known yet`);
      }
      records = builder.build(topic, info, body.messages);
    } catch (error) {
      metrics.countProduced(topic, 'rejected', count);
      throw error;
    }
    try {
      const results = await batcher.submit(topic, records);
      metrics.countProduced(topic, 'acked', count);
      return results;
    } catch (error) {
      const refused = isApiError(error) && error.code === 'buffer_full';
      metrics.countProduced(topic, refused ? 'rejected' : 'failed', count);
      throw error;
    }
  }
}
