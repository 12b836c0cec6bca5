import type { WriteError, WriteErrorCode } from './kafka';

/**
 * Every error the producer API answers with: HTTP status, a stable code clients can
 * switch on, and for 503 how long to wait before retrying. The body shape is
 * DESIGN.md's `{"error": {"code", "message", "details"?}}`.
 */
export const ERRORS = {
  invalid_json: { status: 400 },
  // Text UTF-8 cannot carry: Kafka would hold U+FFFD instead of what the client sent.
  invalid_utf8: { status: 400 },
  unpaired_surrogate: { status: 400 },
  invalid_request: { status: 400 },
  unknown_partition: { status: 400 },
  unauthorized: { status: 401 },
  not_found: { status: 404 },
  unknown_topic: { status: 404 },
  method_not_allowed: { status: 405 },
  // Both size limits answer 413: a request with too many messages is too large in the
  // same sense as one with too many bytes, and the client's remedy is the same (split it).
  body_too_large: { status: 413 },
  too_many_messages: { status: 413 },
  unsupported_media_type: { status: 415 },
  record_too_large: { status: 422 },
  record_rejected: { status: 422 },
  buffer_full: { status: 503, retryAfterSeconds: 1 },
  kafka_unavailable: { status: 503, retryAfterSeconds: 5 },
  produce_timeout: { status: 503, retryAfterSeconds: 2 },
  topic_unavailable: { status: 503, retryAfterSeconds: 5 },
  shutting_down: { status: 503, retryAfterSeconds: 1 },
  internal: { status: 500 },
} as const satisfies Record<string, { status: number; retryAfterSeconds?: number }>;

export type ErrorCode = keyof typeof ERRORS;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

export class ApiError extends Error {
  readonly status: number;
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
    const spec: { status: number; retryAfterSeconds?: number } = ERRORS[code];
    this.status = spec.status;
    this.retryAfterSeconds = spec.retryAfterSeconds;
  }

  toBody(): ErrorBody {
    const body: ErrorBody = { error: { code: this.code, message: this.message } };
    if (this.details !== undefined) body.error.details = this.details;
    return body;
  }
}

export function isApiError(error: unknown): error is ApiError {
  return error instanceof ApiError;
}

/** The API's code for each of the Kafka writer's. */
const FROM_WRITE_ERROR: Record<WriteErrorCode, ErrorCode> = {
  buffer_full: 'buffer_full',
  unavailable: 'kafka_unavailable',
  timeout: 'produce_timeout',
  topic_unavailable: 'topic_unavailable',
  closed: 'shutting_down',
  record_too_large: 'record_too_large',
  record_rejected: 'record_rejected',
  unknown_partition: 'unknown_partition',
};

/**
 * The HTTP edge of the writer's errors: a record's error names its JSON field
 * (`/messages/3/key`), a timeout says the deadline.
 */
export function apiErrorFromWriteError(
  error: WriteError,
  context: { requestTimeoutMs: number },
): ApiError {
  const code = FROM_WRITE_ERROR[error.code];
  const { recordIndex, recordField, ...details } = error.details;
  if (recordIndex !== undefined) {
    const field = `/messages/${recordIndex}${recordField ? `/${recordField}` : ''}`;
    const separator = recordField === 'partition' ? ': ' : ' ';
    return new ApiError(code, `${field}${separator}${error.message}`, { field, ...details });
  }
  if (error.code === 'timeout' && error.buffered) {
    return new ApiError(
      code,
      `Kafka did not acknowledge within ${context.requestTimeoutMs} ms; the messages may have been written`,
    );
  }
  return new ApiError(code, error.message, Object.keys(details).length > 0 ? details : undefined);
}
