/**
 * The HTTP API: routes, authentication, body limits and every error as DESIGN.md's JSON
 * body with a stable code. Checks run cheapest first (auth, topic, media type) so a
 * refused request costs no body parsing; the body's text is checked on its raw bytes
 * (unicode.ts) as the parser reads it.
 */
import type { IncomingMessage } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../common/logger';
import type { ApiKeys } from './auth';
import type { RecordResult } from './kafka';
import { ApiError, isApiError } from './errors';
import { bodyTextOf, bodyTooLarge, isEncoded, jsonBody, type BodyBytesCheck } from './json-body';
import { LINGER_LIMITS, lingerBeforeClose } from './lingering-close';
import type { ProducerMetrics } from './metrics';
import { findUnpairedSurrogate, invalidUtf8Offset, mayHoldSurrogateEscape } from './unicode';
import type { ProduceRequestBody, RequestValidator } from './validation';

export const PRODUCE_ROUTE = '/v1/topics/:topic/messages';
export const OPENAPI_ROUTE = '/openapi.json';

export interface AppOptions {
  producer: {
    isAllowedTopic(topic: string): boolean;
    produce(topic: string, body: ProduceRequestBody, text: Buffer): Promise<RecordResult[]>;
  };
  validator: RequestValidator;
  openApiDocument: object;
  apiKeys: ApiKeys | undefined;
  maxBodyBytes: number;
  metrics: ProducerMetrics;
  logger: Logger;
  isShuttingDown: () => boolean;
}

/** body-parser's error types → API errors. */
const BODY_ERRORS: Record<string, (error: { limit?: number; charset?: string }) => ApiError> = {
  'entity.too.large': (error) =>
    new ApiError('body_too_large', `the request body is larger than ${error.limit} bytes`, {
      maxBytes: error.limit,
    }),
  'entity.parse.failed': () => new ApiError('invalid_json', 'the request body is not valid JSON'),
  'encoding.unsupported': () =>
    new ApiError(
      'unsupported_media_type',
      'unsupported Content-Encoding (use gzip, deflate, br or none)',
    ),
  'charset.unsupported': (error) =>
    new ApiError('unsupported_media_type', `unsupported charset ${error.charset ?? ''}; use utf-8`),
  'request.aborted': () => new ApiError('invalid_request', 'the request was aborted'),
  'request.size.invalid': () =>
    new ApiError('invalid_request', 'the body length does not match Content-Length'),
};

export function toApiError(error: unknown): ApiError {
  if (isApiError(error)) return error;
  if (typeof error === 'object' && error !== null) {
    const { type, status } = error as { type?: unknown; status?: unknown };
    const mapper = typeof type === 'string' ? BODY_ERRORS[type] : undefined;
    if (mapper) return mapper(error as { limit?: number; charset?: string });
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // e.g. a path parameter that is not valid percent-encoding.
      return new ApiError('invalid_request', 'the request is malformed');
    }
  }
  return new ApiError('internal', 'internal error');
}

export function isJsonMediaType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const mediaType = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return (
    mediaType === 'application/json' || /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(mediaType)
  );
}

/**
 * True when an uncompressed body announces more than `maxBytes` in Content-Length. (A
 * compressed body's limit applies to its inflated size, which only reading it tells.)
 */
export function declaresTooLargeBody(
  req: { headers: Record<string, string | string[] | undefined> },
  maxBytes: number,
): boolean {
  if (isEncoded(req)) return false;
  const length = req.headers['content-length'];
  return typeof length === 'string' && /^\d+$/.test(length) && Number(length) > maxBytes;
}

/**
 * Runs on the body's bytes (inflated, not yet decoded): only UTF-8 that is well-formed is
 * decoded. Remembers the requests whose JSON may escape a surrogate.
 */
function checkText(mayHoldSurrogates: WeakSet<IncomingMessage>): BodyBytesCheck {
  return (req, bytes) => {
    const offset = invalidUtf8Offset(bytes);
    if (offset !== -1) {
      throw new ApiError(
        'invalid_utf8',
        `the request body is not valid UTF-8: the byte at offset ${offset} does not begin a well-formed sequence`,
        { offset },
      );
    }
    if (mayHoldSurrogateEscape(bytes)) mayHoldSurrogates.add(req);
  };
}

function refuseUnpairedSurrogates(body: ProduceRequestBody): void {
  const problem = findUnpairedSurrogate(body);
  if (!problem) return;
  throw new ApiError(
    'unpaired_surrogate',
    `${problem.field} ${problem.reason}; UTF-8 cannot carry it`,
    problem,
  );
}

function methodNotAllowed(allow: string) {
  return (req: Request, res: Response) => {
    res.setHeader('allow', allow);
    sendError(
      res,
      new ApiError('method_not_allowed', `${req.method} is not allowed here; use ${allow}`),
    );
  };
}

function sendError(res: Response, error: ApiError): void {
  if (error.retryAfterSeconds !== undefined) {
    res.setHeader('retry-after', String(error.retryAfterSeconds));
  }
  if (error.status === 401) res.setHeader('www-authenticate', 'Bearer');
  // Refused before its body was read: closing beats reading an unwanted body to the end,
  // but only once the client stopped sending, or it would never read the answer.
  if (!res.req.complete) {
    res.setHeader('connection', 'close');
    lingerBeforeClose(res.req, LINGER_LIMITS);
  }
  writeJson(res, error.status, error.toBody());
}

/**
 * A JSON answer written with node:http's own calls: express's res.json() and res.send() add
 * a freshness check, a Buffer copy and header work per request (about 8 CPU µs of a
 * single-message request here, where the whole request costs under 100). Nothing is lost:
 * ETags are off, and an API's POST answer is never 304.
 */
function writeJson(res: Response, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}

export function createApp(options: AppOptions): express.Express {
  const { producer, validator, apiKeys, metrics, logger } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const documentText = JSON.stringify(options.openApiDocument);

  app.use((req, res, next) => {
    // Pipelined behind a refused body, on a connection that closes after that answer: its
    // own answer could never be sent, so it is not processed at all.
    if (req.socket.writableEnded) {
      req.socket.destroy();
      return;
    }
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.observeHttp(req.method, route, res.statusCode, seconds);
    });
    // While shutting down, every answer closes its connection so clients reconnect elsewhere.
    if (options.isShuttingDown()) res.setHeader('connection', 'close');
    next();
  });

  app.get(OPENAPI_ROUTE, (_req, res) => {
    res.type('application/json').send(documentText);
  });
  app.all(OPENAPI_ROUTE, methodNotAllowed('GET, HEAD'));

  const mayHoldSurrogates = new WeakSet<IncomingMessage>();
  const parseJson = jsonBody(options.maxBodyBytes, checkText(mayHoldSurrogates));

  app.post(
    PRODUCE_ROUTE,
    (req, res, next) => {
      if (options.isShuttingDown()) {
        throw new ApiError(
          'shutting_down',
          'the service is shutting down; retry on another instance',
        );
      }
      if (apiKeys && !apiKeys.verify(req.headers.authorization)) {
        throw new ApiError(
          'unauthorized',
          'a valid API key is required: Authorization: Bearer <key>',
        );
      }
      const topic = req.params['topic'] ?? '';
      if (!producer.isAllowedTopic(topic)) {
        throw new ApiError(
          'unknown_topic',
          `topic ${JSON.stringify(topic)} does not exist or is not allowed`,
        );
      }
      if (!isJsonMediaType(req.headers['content-type'])) {
        throw new ApiError('unsupported_media_type', 'the request body must be application/json', {
          contentType: req.headers['content-type'] ?? null,
        });
      }
      // A declared length is refused before the body is read; a streamed body as soon as it
      // passes the limit (json-body.ts).
      if (declaresTooLargeBody(req, options.maxBodyBytes)) {
        throw bodyTooLarge(options.maxBodyBytes);
      }
      next();
    },
    (req, res, next) => parseJson(req, res, next),
    async (req, res) => {
      const body = validator.check(req.body);
      if (mayHoldSurrogates.has(req)) refuseUnpairedSurrogates(body);
      const text = bodyTextOf(req);
      // A body that passed validation was read by jsonBody, which keeps its text.
      if (!text) throw new Error('a validated body without its text');
      const results = await producer.produce(req.params['topic'] ?? '', body, text);
      writeJson(res, 200, { results });
    },
  );
  app.all(PRODUCE_ROUTE, methodNotAllowed('POST'));

  app.use((req, _res, next) => {
    next(new ApiError('not_found', `no route ${req.method} ${req.path}`));
  });

  // Express recognises an error handler by its four parameters.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const apiError = toApiError(error);
    if (apiError.code === 'internal') {
      logger.error({ err: error, path: req.path }, 'request failed unexpectedly');
    } else {
      // Outages and refusals show in the metrics and the cluster monitor's log lines;
      // one line per refused request would flood the log exactly when it matters.
      logger.debug({ code: apiError.code, path: req.path }, apiError.message);
    }
    // Answered already (the body parser's own 413 after ours): the connection closes as
    // that answer said. Half an answer: cut it off.
    if (res.writableEnded) return;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendError(res, apiError);
  });
  return app;
}
