/**
 * How a kafkajs consumer crash is logged. One kafkajs gives up on is an error. One it restarts
 * from is a warning (the consumer left its group: an expected condition it recovers from),
 * except while the group's coordinator is still starting or moving before this consumer ever
 * joined: a Kafka that has just started answers COORDINATOR_LOAD_IN_PROGRESS for a moment, and
 * a normal start must not warn. That is said at info.
 */
import { kafkaErrorTypes, kafkaErrorTypesOfCodes } from '../common/kafka-error-types';

/** COORDINATOR_LOAD_IN_PROGRESS (14), COORDINATOR_NOT_AVAILABLE (15), NOT_COORDINATOR (16). */
const COORDINATOR_STARTING = kafkaErrorTypesOfCodes([14, 15, 16]);

export interface CrashLog {
  level: 'info' | 'warn' | 'error';
  message: string;
}

export function crashLog(error: unknown, restart: boolean, everJoined: boolean): CrashLog {
  if (!restart) return { level: 'error', message: 'consumer crashed for good' };
  const types = kafkaErrorTypes(error);
  if (!everJoined && [...types].some((type) => COORDINATOR_STARTING.has(type))) {
    return {
      level: 'info',
      message: "the consumer group's coordinator is not ready yet; kafkajs restarts the consumer",
    };
  }
  return { level: 'warn', message: 'consumer crashed; kafkajs restarts it' };
}
