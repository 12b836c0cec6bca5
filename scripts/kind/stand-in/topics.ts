/**
 * The chart's KafkaTopic objects as `kafka-topics.sh --create` arguments: what Strimzi's Topic
 * Operator would create, for the Kafka stand-in that has no operator (cluster.ts).
 */
export interface KafkaTopicObject {
  kind: string;
  metadata: { name: string };
  spec?: {
    topicName?: string;
    partitions?: number;
    replicas?: number;
    config?: Record<string, string | number | boolean>;
  };
}

export function topicCommands(objects: readonly KafkaTopicObject[]): string[][] {
  return objects.map((object) => {
    const spec = object.spec ?? {};
    const args = ['--create', '--if-not-exists', '--topic', spec.topicName ?? object.metadata.name];
    if (spec.partitions !== undefined) args.push('--partitions', String(spec.partitions));
    if (spec.replicas !== undefined) args.push('--replication-factor', String(spec.replicas));
    for (const [name, value] of Object.entries(spec.config ?? {}).sort(([a], [b]) =>
      a.localeCompare(b),
    )) {
      args.push('--config', `${name}=${String(value)}`);
    }
    return args;
  });
}
