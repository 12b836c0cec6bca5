/**
 * The one place the Apache Kafka version is pinned (scripts/kafka/pom.xml receives it as
 * -Dkafka.version from fetch.ts). Strimzi 1.2.x runs 4.3.x by default, so local tests match
 * the cluster. A TypeScript constant rather than JSON: jest's global-setup loader would run a
 * .json file as JavaScript and see nothing in it.
 */
export const KAFKA_VERSION = '4.3.1';
