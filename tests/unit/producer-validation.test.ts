import document from '../../services/producer/openapi.json';
import { ApiError, ERRORS } from '../../services/producer/errors';
import { openApiDocument, RequestValidator } from '../../services/producer/validation';

const validator = new RequestValidator(openApiDocument({ maxMessagesPerRequest: 3 }), 3);

function problem(body: unknown): ApiError {
  try {
    validator.check(body);
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(body)}`);
}

describe('request validation from the OpenAPI document', () => {
  test.each([
    [{ messages: [{ value: 1 }] }],
    [{ messages: [{ value: null, key: null }] }],
    [
      {
        messages: [
          { value: { deep: [1, 'x', true] }, key: 'k', headers: { a: 'b' }, partition: 0 },
        ],
      },
    ],
    [{ messages: [{ value: 'a' }, { value: 2 }, { value: [] }] }],
  ])('accepts %j', (body) => {
    expect(validator.check(body)).toBe(body);
  });

  test.each([
    [{}, '/messages', 'is required'],
    [{ messages: [] }, '/messages', 'must NOT have fewer than 1 items'],
    [{ messages: {} }, '/messages', 'must be array'],
    [{ messages: [{ value: 1 }], extra: 1 }, '/extra', 'is not allowed'],
    [{ messages: [{ key: 'k' }] }, '/messages/0/value', 'is required'],
    [
      { messages: [{ value: 1 }, { value: 1, key: 5 }] },
      '/messages/1/key',
      'must be string or null',
    ],
    [{ messages: [{ value: 1, headers: { h: 1 } }] }, '/messages/0/headers/h', 'must be string'],
    [{ messages: [{ value: 1, headers: [] }] }, '/messages/0/headers', 'must be object'],
    [{ messages: [{ value: 1, partition: -1 }] }, '/messages/0/partition', 'must be >= 0'],
    [{ messages: [{ value: 1, partition: 1.5 }] }, '/messages/0/partition', 'must be integer'],
    [{ messages: [{ value: 1, 'a/b': 1 }] }, '/messages/0/a~1b', 'is not allowed'],
    [[], '/', 'must be object'],
    [null, '/', 'must be object'],
  ])('refuses %j naming %s', (body, field, reason) => {
    const error = problem(body);
    expect(error.status).toBe(400);
    expect(error.code).toBe('invalid_request');
    expect(error.details).toEqual({ field, reason });
    expect(error.message).toBe(`${field} ${reason}`);
  });

  test('too many messages is 413 too_many_messages, counted before the schema runs', () => {
    const error = problem({ messages: [1, 2, 3, 4] });
    expect(error.status).toBe(413);
    expect(error.code).toBe('too_many_messages');
    expect(error.details).toEqual({ max: 3, count: 4 });
  });

  test('the served document carries the configured limit; the file is not modified', () => {
    const served = openApiDocument({ maxMessagesPerRequest: 42 });
    expect(served.components.schemas.ProduceRequest.properties.messages.maxItems).toBe(42);
    expect(document.components.schemas.ProduceRequest.properties.messages.maxItems).toBe(1000);
  });

  test('the document lists exactly the error codes the service uses', () => {
    const listed = document.components.schemas.Error.properties.error.properties.code.enum;
    expect([...listed].sort()).toEqual(Object.keys(ERRORS).sort());
  });

  test('the document describes every status the service answers with', () => {
    const responses = Object.keys(document.paths['/v1/topics/{topic}/messages'].post.responses);
    const statuses = new Set(
      Object.values(ERRORS)
        .map((spec) => String(spec.status))
        .filter((status) => status !== '500'),
    );
    expect(responses.sort()).toEqual(['200', ...statuses].sort());
  });
});
