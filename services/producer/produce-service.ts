/**
 * One produce request after HTTP: its records written with one deadline, the outcome
 * counted, and a writer's error turned into the API's.
 */
import { apiErrorFromWriteError } from './errors';
import { isWriteError, type KafkaWriterPort, type RecordResult, type WriteRecord } from './kafka';
import type { ProducerMetrics } from './metrics';
import { toWriteRecords } from './records';
import type { ProduceRequestBody } from './validation';

export interface ProduceServiceOptions {
  /** The topics clients may write to. */
  topics: string[];
  writer: KafkaWriterPort;
  metrics: ProducerMetrics;
  /** A request not acknowledged within this time gets 503 produce_timeout. */
  requestTimeoutMs: number;
}

export class ProduceService {
  private readonly allowed: Set<string>;

  constructor(private readonly options: ProduceServiceOptions) {
    this.allowed = new Set(options.topics);
  }

  isAllowedTopic(topic: string): boolean {
    return this.allowed.has(topic);
  }

  /** `text`: the JSON text `body` was parsed from; each value is stored as its bytes there. */
  async produce(topic: string, body: ProduceRequestBody, text: Buffer): Promise<RecordResult[]> {
    const { writer, metrics, requestTimeoutMs } = this.options;
    const count = body.messages.length;
    let records: WriteRecord[];
    try {
      records = toWriteRecords(body, text);
    } catch (error) {
      metrics.countProduced(topic, 'rejected', count);
      throw error;
    }
    // The request's one deadline, carried down to the batcher; ended with the request.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), requestTimeoutMs);
    try {
      const results = await writer.write(topic, records, { signal: deadline.signal });
      metrics.countProduced(topic, 'acked', count);
      return results;
    } catch (error) {
      if (!isWriteError(error)) throw error;
      metrics.countProduced(topic, error.buffered ? 'failed' : 'rejected', count);
      throw apiErrorFromWriteError(error, { requestTimeoutMs });
    } finally {
      clearTimeout(timer);
    }
  }
}
