/**
 * The names the suite relies on (DESIGN.md's fixed names and the chart's defaults) and the
 * knobs a run can turn with environment variables.
 */
export const E2E_NAMESPACE = process.env.E2E_NAMESPACE ?? 'event-pipeline';
export const RELEASE = process.env.E2E_RELEASE ?? 'event-pipeline';
export const KAFKA_CLUSTER = process.env.E2E_KAFKA_CLUSTER ?? 'event-kafka';
/**
 * E2E_KAFKA_STAND_IN=1: the Kafka is scripts/kind/stand-in's (CI, where no Strimzi operator can
 * be had), not Strimzi's. Its StatefulSet's readiness then stands for the Kafka resource's
 * Ready condition, which no operator sets; everything else is asserted the same.
 */
export const KAFKA_STAND_IN = process.env.E2E_KAFKA_STAND_IN === '1';
export const KAFKA_STAND_IN_STATEFULSET = `${KAFKA_CLUSTER}-dual-role`;
export const TOPIC = 'events';
export const DLQ_TOPIC = 'events-dlq';
export const GROUP = 'event-consumer';
export const PRODUCER = `${RELEASE}-producer`;
export const CONSUMER = `${RELEASE}-consumer`;
/** The API's container port and the management port (the chart's defaults). */
export const API_PORT = 8080;
export const MANAGEMENT_PORT = 8081;

const number = (name: string, fallback: number): number => {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name} must be a positive number, not ${text}`);
  return value;
};

export const MESSAGES = number('E2E_MESSAGES', 10_000);
export const CLIENTS = number('E2E_CLIENTS', 16);
export const BATCH = number('E2E_BATCH', 1);
export const ROLL_CLIENTS = number('E2E_ROLL_CLIENTS', 8);
export const READY_TIMEOUT_MS = number('E2E_READY_TIMEOUT_S', 900) * 1000;
export const DRAIN_TIMEOUT_MS = number('E2E_DRAIN_TIMEOUT_S', 300) * 1000;
export const ROLL_TIMEOUT_MS = number('E2E_ROLL_TIMEOUT_S', 600) * 1000;
