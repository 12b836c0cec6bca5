/**
 * The level at which an operator sees a kafkajs log entry. kafkajs logs each failed attempt
 * of what it retries at ERROR: one line per reconnect to a broker that is down, and at every
 * start "Response GroupCoordinator", "Response InitProducerId", "Response OffsetFetch" while
 * the brokers elect the coordinators. Those conditions are expected and pass by themselves,
 * so their lines are debug here; the state they mean (a broker unreachable, then reachable
 * again) is said once, by broker-reachability.ts, from the evidence this mapping extracts.
 *
 * Kept at error: protocol errors kafkajs does not retry (authorization, a record the broker
 * refuses, ...), crashes it does not restart from, and every entry this mapping does not
 * recognise. Pure: namespace, level, message and fields in, a verdict out. The messages are
 * those of kafkajs 2.2.4 (its last release), matched exactly or by their fixed prefixes.
 */
import { errorCodes } from 'kafkajs/src/protocol/error';

export type KafkaLogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface KafkaLogInput {
  /** kafkajs' logger namespace: Connection, BrokerPool, Producer, Runner, ... */
  namespace: string;
  /** kafkajs' own level. */
  level: KafkaLogLevel;
  message: string;
  fields: Readonly<Record<string, unknown>>;
}

export interface KafkaLogVerdict {
  level: KafkaLogLevel;
  /** A connection attempt to this broker failed. */
  brokerFailed?: { broker: string; error: string };
  /** This broker answered a request (an error response is an answer too). */
  brokerAnswered?: string;
  /** kafkajs' warning that an idempotent producer's retries are limited. */
  limitedIdempotentRetries?: true;
}

export const LIMITED_RETRIES_WARNING =
  'Limiting retries for the idempotent producer may invalidate EoS guarantees';

/** Protocol errors kafkajs retries, by the message its KafkaJSProtocolError carries. */
const RETRIABLE_PROTOCOL_ERRORS = new Set(
  errorCodes.filter((code) => code.retriable).map((code) => code.message),
);

/**
 * Not retriable in kafkajs' table, but handled by kafkajs' consumer itself: it rejoins the
 * group (and its runner says so, at the levels below).
 */
const REJOIN_TYPES = new Set([
  'REBALANCE_IN_PROGRESS',
  'UNKNOWN_MEMBER_ID',
  'ILLEGAL_GENERATION',
  'MEMBER_ID_REQUIRED',
]);
const REJOIN_ERRORS = new Set(
  errorCodes.filter((code) => REJOIN_TYPES.has(code.type)).map((code) => code.message),
);

/** kafkajs' retriable network errors (KafkaJSConnectionError, KafkaJSRequestTimeoutError). */
const NETWORK_ERROR =
  /^(Connection error: .*|Connection timeout|Closed connection|Connection closed by the server|Not connected|Request \w+\(key: \d+, version: \d+\) timed out)$/s;

/** Error classes a consumer crash restarts from (kafkajs' own test: retriable or retries exhausted). */
const RESTARTED_CRASHES = new Set([
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSStaleTopicMetadataAssignment',
  'KafkaJSBrokerNotFound',
]);

/** An error message of something kafkajs retries: a network error or a retriable protocol error. */
export function isTransientKafkaError(message: string): boolean {
  return NETWORK_ERROR.test(message) || RETRIABLE_PROTOCOL_ERRORS.has(message);
}

const SEED_BROKER_FAILED =
  'Failed to connect to seed broker, trying another broker from the list: ';
const SEND_FAILED = 'Failed to send messages: ';
const CRASH = /^Crash: (\w+): (.*)$/s;

const text = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : undefined;

/** kafkajs' levels as they were, except that its info lines are debug for us. */
function unchanged(input: KafkaLogInput): KafkaLogVerdict {
  return { level: input.level === 'info' ? 'debug' : input.level };
}

function connectionEntry(input: KafkaLogInput): KafkaLogVerdict {
  const broker = text(input.fields['broker']);
  const { message } = input;
  if (message.startsWith('Connection error: ') || message === 'Connection timeout') {
    return { level: 'debug', ...(broker ? { brokerFailed: { broker, error: message } } : {}) };
  }
  if (message.startsWith('Response ') && input.level === 'error') {
    const error = text(input.fields['error']) ?? '';
    const handled = isTransientKafkaError(error) || REJOIN_ERRORS.has(error);
    return { level: handled ? 'debug' : 'error', ...(broker ? { brokerAnswered: broker } : {}) };
  }
  return unchanged(input);
}

export function kafkaLogVerdict(input: KafkaLogInput): KafkaLogVerdict {
  const { namespace, message, level } = input;
  switch (namespace) {
    case 'Connection':
      return connectionEntry(input);
    case 'BrokerPool':
      if (message.startsWith(SEED_BROKER_FAILED)) {
        const cause = message.slice(SEED_BROKER_FAILED.length);
        return { level: isTransientKafkaError(cause) ? 'debug' : 'error' };
      }
      // An illegal SASL state: kafkajs rebuilds the connection and tries again.
      if (message === 'Failed to connect to broker, reconnecting') return { level: 'warn' };
      if (level === 'error' && isTransientKafkaError(message)) return { level: 'debug' };
      return unchanged(input);
    case 'Producer':
      if (message === LIMITED_RETRIES_WARNING) {
        return { level: 'warn', limitedIdempotentRetries: true };
      }
      // Logged only before a retry; a send that fails for good is logged by our own code.
      if (message.startsWith(SEND_FAILED)) return { level: 'debug' };
      if (level === 'error' && isTransientKafkaError(message)) return { level: 'debug' };
      return unchanged(input);
    case 'Runner':
      // Followed by the REBALANCING event, which the consumer logs at info.
      if (message === 'The group is rebalancing, re-joining') return { level: 'debug' };
      // This member was dropped (e.g. its session timed out): others got its partitions.
      if (message === 'The coordinator is not aware of this member, re-joining the group') {
        return { level: 'warn' };
      }
      return unchanged(input);
    case 'Consumer': {
      // A crash kafkajs restarts from; the consumer's CRASH listener logs it, with `restart`.
      const crash = CRASH.exec(message);
      if (crash) {
        const [, name = '', cause = ''] = crash;
        const restarted =
          RESTARTED_CRASHES.has(name) ||
          (name === 'KafkaJSProtocolError' && isTransientKafkaError(cause));
        return { level: restarted ? 'debug' : 'error' };
      }
      if (message.startsWith('Restarting the consumer in ')) return { level: 'info' };
      return unchanged(input);
    }
    case 'ConsumerGroup':
      if (
        message.endsWith(', resync group') ||
        message === 'Consumer is not aware of all assigned partitions, refreshing metadata'
      ) {
        return { level: 'info' };
      }
      return unchanged(input);
    case 'RequestQueue':
      // A late answer to a request that already timed out (and was retried).
      if (message === 'Response without match') return { level: 'debug' };
      return unchanged(input);
    case 'Admin': {
      // "Could not describe configs" etc., logged before each retry.
      const error = text(input.fields['error']);
      if (message.startsWith('Could not ') && error !== undefined && isTransientKafkaError(error)) {
        return { level: 'debug' };
      }
      return unchanged(input);
    }
    default:
      return unchanged(input);
  }
}
