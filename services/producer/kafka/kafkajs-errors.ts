/** What a failed kafkajs send means: the broker's error type in its cause chain decides. */
import { kafkaErrorTypes } from '../../common/kafka-error-types';
import { WriteError } from './write-error';

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
