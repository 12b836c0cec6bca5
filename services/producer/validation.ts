/**
 * Request validation compiled from the OpenAPI document the service serves, so the
 * document and the checks cannot drift. The configured message limit is written into
 * the document at start-up; the served copy shows it too.
 */
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import document from './openapi.json';
import { ApiError } from './errors';

export interface ProduceMessage {
  key?: string | null;
  value: unknown;
  headers?: Record<string, string>;
  partition?: number;
}

export interface ProduceRequestBody {
  messages: ProduceMessage[];
}

const DOCUMENT_ID = 'https://event-pipeline.local/producer/openapi.json';

export type OpenApiDocument = typeof document;

/** A copy of the OpenAPI document with the configured limits filled in. */
export function openApiDocument(limits: { maxMessagesPerRequest: number }): OpenApiDocument {
  const copy = structuredClone(document);
  const messages = copy.components.schemas.ProduceRequest.properties.messages;
  messages.maxItems = limits.maxMessagesPerRequest;
  messages.description = `At most ${limits.maxMessagesPerRequest} messages (MAX_MESSAGES_PER_REQUEST).`;
  return copy;
}

/** JSON pointer of the field an Ajv error is about (the missing or extra property included). */
export function fieldOf(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  const property =
    error.keyword === 'required'
      ? params['missingProperty']
      : error.keyword === 'additionalProperties'
        ? params['additionalProperty']
        : undefined;
  if (typeof property !== 'string') return error.instancePath || '/';
  return `${error.instancePath}/${property.replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

function describe(error: ErrorObject): string {
  if (error.keyword === 'additionalProperties') return 'is not allowed';
  if (error.keyword === 'required') return 'is required';
  if (error.keyword === 'type') {
    const { type } = error.params as { type: string | string[] };
    return `must be ${(Array.isArray(type) ? type : type.split(',')).join(' or ')}`;
  }
  return error.message ?? 'is invalid';
}

export class RequestValidator {
  private readonly validate: ValidateFunction;

  constructor(
    doc: OpenApiDocument,
    private readonly maxMessagesPerRequest: number,
  ) {
    // allErrors stays off: the first problem is enough to name, and reporting every
    // problem of a hostile body costs time and memory.
    const ajv = new Ajv2020({ strict: true, allErrors: false, strictRequired: false });
    addFormats(ajv);
    // The schemas are addressed where they live in the document (#/components/schemas/…);
    // `components` itself is OpenAPI, not JSON Schema, so Ajv is told to leave it alone.
    ajv.addKeyword('components');
    ajv.addSchema({ $id: DOCUMENT_ID, components: doc.components });
    const validate = ajv.getSchema(`${DOCUMENT_ID}#/components/schemas/ProduceRequest`);
    if (!validate) throw new Error('ProduceRequest schema missing from openapi.json');
    this.validate = validate;
  }

  /** Returns the typed body or throws a 400/413 ApiError that names the field. */
  check(body: unknown): ProduceRequestBody {
    // Counted before schema validation: 413 rather than 400, and no time spent
    // validating thousands of messages that will be refused anyway.
    if (typeof body === 'object' && body !== null && 'messages' in body) {
      const { messages } = body as { messages: unknown };
      if (Array.isArray(messages) && messages.length > this.maxMessagesPerRequest) {
        throw new ApiError(
          'too_many_messages',
          `a request may hold at most ${this.maxMessagesPerRequest} messages, this one has ${messages.length}`,
          { max: this.maxMessagesPerRequest, count: messages.length },
        );
      }
    }
    if (this.validate(body)) return body as ProduceRequestBody;
    const [error] = this.validate.errors ?? [];
    if (!error) throw new ApiError('invalid_request', 'the request body is invalid');
    const field = fieldOf(error);
    const reason = describe(error);
    throw new ApiError('invalid_request', `${field} ${reason}`, { field, reason });
  }
}
