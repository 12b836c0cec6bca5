import { errorCodes } from 'kafkajs/src/protocol/error';

/**
 * The broker error types (e.g. MESSAGE_TOO_LARGE) of every error in a kafkajs error's cause
 * chain: kafkajs wraps the broker's error (retries exhausted, non-retriable) in `cause`s, and
 * the broker's error type is what decides what a failure means.
 */
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

/**
 * kafkajs' names for Kafka protocol error codes. kafkajs keeps older names than Kafka's
 * current ones (code 14 is GROUP_LOAD_IN_PROGRESS in kafkajs, COORDINATOR_LOAD_IN_PROGRESS in
 * Kafka), so code that matches a type names it by its code, which is the protocol's contract.
 */
export function kafkaErrorTypesOfCodes(codes: readonly number[]): Set<string> {
  const types = new Set<string>();
  for (const code of codes) {
    const entry = errorCodes.find((known) => known.code === code);
    if (!entry) throw new Error(`kafkajs knows no Kafka error code ${code}`);
    types.add(entry.type);
  }
  return types;
}
