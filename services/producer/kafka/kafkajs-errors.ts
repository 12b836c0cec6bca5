/**
 * What a failed kafkajs send means. kafkajs wraps the broker's error (retries exhausted,
 * non-retriable) in `cause` chains; the broker's error type decides.
 */
import { WriteError } from './write-error';

/** Broker error types of every error in the cause chain (e.g. MESSAGE_TOO_LARGE). */
export function kafkaErrorTypes(error: unknown): Set<string> {
  const types = new Set<string>();
  let current: unknown = error;
  for (let depth = 0; depth < 10 && typeof current === 'object' && current !== null; depth += 1) {
    const { type, cause } = current as { type?: unknown; cause?: unknown };
    if (typeof type === 'string') types.add(type);
    if (cause === current) break;
    current = cause;
  }
  return types;
}

const TOO_LARGE = ['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE'];
const REJECTED = ['INVALID_RECORD', 'CORRUPT_MESSAGE', 'INVALID_TIMESTAMP'];

/** Request-specific for errors caused by a record (the batcher isolates those), else unavailable. */
export function sendFailure(error: unknown): WriteError {
  const types = kafkaErrorTypes(error);
  const has = (list: string[]) => list.some((type) => types.has(type));
  if (has(TOO_LARGE)) {
    return new WriteError(
      'record_too_large',
      'Kafka refused a record of this request as too large',
      true,
    );
  }
  if (has(REJECTED)) {
    const [type] = [...types].filter((candidate) => REJECTED.includes(candidate));
    return new WriteError('record_rejected', 'Kafka refused a record of this request', true, {
      kafkaError: type,
    });
  }
  return new WriteError(
    'unavailable',
    'Kafka did not acknowledge the messages; they may have been written',
    true,
  );
}

export function isUnknownTopic(error: unknown): boolean {
  return kafkaErrorTypes(error).has('UNKNOWN_TOPIC_OR_PARTITION');
}
