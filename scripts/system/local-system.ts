/**
 * The names and the Kafka layout the whole local system shares (DESIGN.md's fixed names):
 * `npm run local`, the demos and the tour test start Kafka the same way.
 */
import {
  startKafka,
  type ExtraListener,
  type KafkaCluster,
  type TopicSpec,
} from '../kafka/harness';

export const EVENTS_TOPIC = 'events';
export const DLQ_TOPIC = 'events-dlq';
export const CONSUMER_GROUP = 'event-consumer';
export const EVENTS_PARTITIONS = 6;

/** Replication factor 3 on three brokers (the harness sets min.insync.replicas 2), else 1. */
export function localTopics(brokers: 1 | 3): TopicSpec[] {
  const replicationFactor = brokers === 3 ? 3 : 1;
  return [
    { name: EVENTS_TOPIC, partitions: EVENTS_PARTITIONS, replicationFactor },
    { name: DLQ_TOPIC, partitions: EVENTS_PARTITIONS, replicationFactor },
  ];
}

export interface LocalKafkaOptions {
  brokers: 1 | 3;
  /** First client port; three brokers use it and the next two. Default: free ports. */
  port?: number;
  /** Listeners beside the one on 127.0.0.1, e.g. one advertised to Docker containers. */
  extraListeners?: ExtraListener[];
  /** Ports the services will bind once Kafka is up; Kafka's own free ports avoid them. */
  avoidPorts?: readonly number[];
  log?: (line: string) => void;
}

/** The harness Kafka with the topics `events` and `events-dlq`, every partition led and in sync. */
export function startLocalKafka(options: LocalKafkaOptions): Promise<KafkaCluster> {
  const { brokers, port } = options;
  return startKafka({
    nodes: brokers,
    ports: port === undefined ? undefined : Array.from({ length: brokers }, (_, i) => port + i),
    topics: localTopics(brokers),
    ...(options.extraListeners ? { extraListeners: options.extraListeners } : {}),
    ...(options.avoidPorts ? { avoidPorts: options.avoidPorts } : {}),
    log: options.log,
  });
}
