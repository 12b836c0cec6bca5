import {
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
} from 'kafkajs';
import { isJsonMediaType, toApiError } from '../../services/producer/app';
import { ApiError, apiErrorFromWriteError, ERRORS } from '../../services/producer/errors';
import { WriteError } from '../../services/producer/kafka';
import { isUnknownTopic, sendFailure } from '../../services/producer/kafka/kafkajs-errors';
import { WRITE_ERROR_CODES, type WriteErrorCode } from '../../services/producer/kafka/write-error';

/** A failed kafkajs send as the client is answered: the writer's error, then the edge's. */
const mapSendError = (error: unknown): ApiError =>
  apiErrorFromWriteError(sendFailure(error), { requestTimeoutMs: 1000 });

function protocolError(type: string, retriable = false): KafkaJSProtocolError {
  return new KafkaJSProtocolError({ message: type, type, code: 0, retriable } as unknown as Error);
}

describe('error bodies', () => {
  test('have the DESIGN.md shape, with details only when given', () => {
    expect(new ApiError('unknown_topic', 'nope').toBody()).toEqual({
      error: { code: 'unknown_topic', message: 'nope' },
    });
    expect(new ApiError('invalid_request', 'bad', { field: '/x' }).toBody()).toEqual({
      error: { code: 'invalid_request', message: 'bad', details: { field: '/x' } },
    });
  });

  test('every 503 says when to retry; nothing else does', () => {
    for (const [code, spec] of Object.entries(ERRORS)) {
      const retryAfter = (spec as { retryAfterSeconds?: number }).retryAfterSeconds;
      if (spec.status === 503) expect([code, retryAfter]).toEqual([code, expect.any(Number)]);
      else expect([code, retryAfter]).toEqual([code, undefined]);
    }
  });
});

describe('Kafka send errors', () => {
  test.each([
    [protocolError('MESSAGE_TOO_LARGE'), 'record_too_large', 422],
    [
      Object.assign(new KafkaJSNonRetriableError('wrapped'), {
        cause: protocolError('RECORD_LIST_TOO_LARGE'),
      }),
      'record_too_large',
      422,
    ],
    [protocolError('INVALID_RECORD'), 'record_rejected', 422],
    [
      new KafkaJSNumberOfRetriesExceeded(protocolError('CORRUPT_MESSAGE', true), {
        retryCount: 5,
        retryTime: 1000,
      }),
      'record_rejected',
      422,
    ],
    [
      new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('Connection error'), {
        retryCount: 5,
        retryTime: 1000,
      }),
      'kafka_unavailable',
      503,
    ],
    [protocolError('NOT_ENOUGH_REPLICAS', true), 'kafka_unavailable', 503],
    [new Error('anything else'), 'kafka_unavailable', 503],
    ['not even an error', 'kafka_unavailable', 503],
  ])('%s → %s', (error, code, status) => {
    const mapped = mapSendError(error);
    expect(mapped.code).toBe(code);
    expect(mapped.status).toBe(status);
  });

  test('an unknown topic is recognised through the retry wrapper', () => {
    const wrapped = new KafkaJSNumberOfRetriesExceeded(
      protocolError('UNKNOWN_TOPIC_OR_PARTITION', true),
      {
        retryCount: 1,
        retryTime: 100,
      },
    );
    expect(isUnknownTopic(wrapped)).toBe(true);
    expect(isUnknownTopic(new KafkaJSConnectionError('x'))).toBe(false);
  });
});

describe('HTTP-layer errors', () => {
  test.each([
    [{ type: 'entity.too.large', limit: 1024, status: 413 }, 'body_too_large', 413],
    [{ type: 'entity.parse.failed', status: 400 }, 'invalid_json', 400],
    [{ type: 'encoding.unsupported', status: 415 }, 'unsupported_media_type', 415],
    [
      { type: 'charset.unsupported', charset: 'latin1', status: 415 },
      'unsupported_media_type',
      415,
    ],
    [{ type: 'request.aborted', status: 400 }, 'invalid_request', 400],
    [{ type: 'request.size.invalid', status: 400 }, 'invalid_request', 400],
    [Object.assign(new URIError('URI malformed'), { status: 400 }), 'invalid_request', 400],
    [new TypeError('a bug'), 'internal', 500],
    [undefined, 'internal', 500],
  ])('%j → %s', (error, code, status) => {
    const mapped = toApiError(error);
    expect(mapped.code).toBe(code);
    expect(mapped.status).toBe(status);
  });

  test('the body-too-large answer says the limit', () => {
    expect(toApiError({ type: 'entity.too.large', limit: 2048 }).details).toEqual({
      maxBytes: 2048,
    });
  });

  test.each([
    ['application/json', true],
    ['Application/JSON; charset=utf-8', true],
    ['application/vnd.api+json', true],
    ['application/jsonx', false],
    ['text/json', false],
    ['text/plain', false],
    ['multipart/form-data; boundary=x', false],
    [undefined, false],
    ['', false],
  ])('content type %j is JSON: %s', (contentType, expected) => {
    expect(isJsonMediaType(contentType)).toBe(expected);
  });
});

describe("the HTTP edge of the Kafka writer's errors", () => {
  test.each(Object.keys(WRITE_ERROR_CODES) as WriteErrorCode[])(
    '%s: retriable errors are 503 with Retry-After, request-specific ones 4xx',
    (code) => {
      const error = apiErrorFromWriteError(new WriteError(code, 'x', true), {
        requestTimeoutMs: 1000,
      });
      if (WRITE_ERROR_CODES[code].retriable) {
        expect(error.status).toBe(503);
        expect(error.retryAfterSeconds).toBeGreaterThan(0);
      } else {
        expect(error.status).toBeGreaterThanOrEqual(400);
        expect(error.status).toBeLessThan(500);
        expect(WRITE_ERROR_CODES[code].requestSpecific).toBe(true);
      }
    },
  );

  test("a record's error names its JSON field; a timeout says the deadline", () => {
    const keyError = apiErrorFromWriteError(
      new WriteError('record_rejected', 'is required: topic t is compacted', false, {
        recordIndex: 2,
        recordField: 'key',
        reason: 'a compacted topic refuses records without a key',
      }),
      { requestTimeoutMs: 1000 },
    );
    expect(keyError.message).toBe('/messages/2/key is required: topic t is compacted');
    expect(keyError.details).toEqual({
      field: '/messages/2/key',
      reason: 'a compacted topic refuses records without a key',
    });
    const timeout = apiErrorFromWriteError(new WriteError('timeout', 'late', true), {
      requestTimeoutMs: 1234,
    });
    expect(timeout).toMatchObject({ code: 'produce_timeout', status: 503 });
    expect(timeout.message).toMatch(/within 1234 ms; the messages may have been written/);
  });
});
