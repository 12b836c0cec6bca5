/**
 * The writer's errors: a stable code, and what a caller needs to decide. The HTTP edge
 * (../errors.ts) turns them into statuses; nothing in the writer knows HTTP.
 */
export const WRITE_ERROR_CODES = {
  /** Too much is waiting for Kafka already. */
  buffer_full: { retriable: true, requestSpecific: false },
  /** Kafka cannot be reached, or did not acknowledge. */
  unavailable: { retriable: true, requestSpecific: false },
  /** The request's deadline passed before Kafka acknowledged. */
  timeout: { retriable: true, requestSpecific: false },
  /** The topic's metadata is not known (yet). */
  topic_unavailable: { retriable: true, requestSpecific: false },
  /** The writer is closing. */
  closed: { retriable: true, requestSpecific: false },
  /** A record is larger than the topic accepts. */
  record_too_large: { retriable: false, requestSpecific: true },
  /** Kafka (or the topic's policy) refuses a record of the request. */
  record_rejected: { retriable: false, requestSpecific: true },
  /** A record asks for a partition the topic does not have. */
  unknown_partition: { retriable: false, requestSpecific: true },
} as const satisfies Record<string, { retriable: boolean; requestSpecific: boolean }>;

export type WriteErrorCode = keyof typeof WRITE_ERROR_CODES;

export interface WriteErrorDetails {
  /** The record of the request the error is about. */
  recordIndex?: number;
  /** Which part of that record: key, partition. */
  recordField?: 'key' | 'partition';
  [detail: string]: unknown;
}

export class WriteError extends Error {
  /** Trying again later may succeed. */
  readonly retriable: boolean;
  /** Caused by the request's own records: other requests sent with them are not at fault. */
  readonly requestSpecific: boolean;

  constructor(
    readonly code: WriteErrorCode,
    message: string,
    /**
     * Whether the records had been taken into the buffer: if so, they may have been written
     * (an answer lost is not a write undone); if not, nothing of them reached Kafka.
     */
    readonly buffered: boolean,
    readonly details: WriteErrorDetails = {},
  ) {
    super(message);
    this.name = 'WriteError';
    this.retriable = WRITE_ERROR_CODES[code].retriable;
    this.requestSpecific = WRITE_ERROR_CODES[code].requestSpecific;
  }
}

export function isWriteError(error: unknown): error is WriteError {
  return error instanceof WriteError;
}
