/**
 * The produce route's body reader: the body's bytes, checked as text before anything decodes
 * them, then parsed as JSON into `req.body`, with the limit applied as the bytes arrive.
 *
 * A body sent as it is (no Content-Encoding, nearly every request) is read here in a few
 * lines. A compressed body goes through express.json(), which inflates it, with the same check
 * on the inflated bytes and the same limit on their size. The lean path is there for its cost:
 * body-parser's per-request work (the Content-Type parsed again, raw-body's stream bookkeeping,
 * iconv's decoder) is a fair share of a single-message request's CPU.
 *
 * Either way: only UTF-8 (RFC 8259 §8.1), one leading BOM ignored, an empty body reads as {}
 * (the validator then names what is missing), and the JSON text must be an object or an array.
 */
import type { IncomingMessage } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { ApiError } from './errors';
import { OPEN_BRACE, OPEN_BRACKET, isJsonWhitespace } from './json-bytes';

/** Throws an ApiError when the UTF-8 bytes (inflated, not yet decoded) are not text the API takes. */
export type BodyBytesCheck = (req: IncomingMessage, bytes: Buffer) => void;

export function bodyTooLarge(maxBytes: number): ApiError {
  return new ApiError('body_too_large', `the request body is larger than ${maxBytes} bytes`, {
    maxBytes,
  });
}

export function isEncoded(req: {
  headers: Record<string, string | string[] | undefined>;
}): boolean {
  const encoding = req.headers['content-encoding'];
  return typeof encoding === 'string' && !['', 'identity'].includes(encoding.trim().toLowerCase());
}

/** One `; name=value` parameter (RFC 9110 §5.6.6), the value a token or a quoted string. */
const PARAMETER = /;[ \t]*([^\s;=]+)[ \t]*=[ \t]*(?:"((?:[^"\\]|\\.)*)"|([^\s;"]*))[ \t]*/y;

/**
 * The charset parameter of a Content-Type, lower case, unquoted; utf-8 when there is none.
 * Quoted values are read whole, as body-parser reads them for a compressed body: a `;` or a
 * `charset=` inside another parameter's quotes must not decide which charset is used.
 */
export function charsetOf(contentType: string | undefined): string {
  const parameters = contentType?.indexOf(';') ?? -1;
  if (contentType === undefined || parameters === -1) return 'utf-8';
  PARAMETER.lastIndex = parameters;
  for (let match = PARAMETER.exec(contentType); match; match = PARAMETER.exec(contentType)) {
    if (match[1]?.toLowerCase() !== 'charset') continue;
    const value = match[2] === undefined ? (match[3] ?? '') : match[2].replace(/\\(.)/g, '$1');
    return value.toLowerCase();
  }
  return 'utf-8';
}

const BOM = [0xef, 0xbb, 0xbf];

const invalidJson = () => new ApiError('invalid_json', 'the request body is not valid JSON');

/** The body's JSON text: its bytes after one leading BOM. */
function jsonText(bytes: Buffer): Buffer {
  return BOM.every((byte, at) => bytes[at] === byte) ? bytes.subarray(BOM.length) : bytes;
}

/** The JSON text of well-formed UTF-8 bytes: an object or an array, as body-parser's strict mode. */
export function parseJsonBody(bytes: Buffer): unknown {
  const text = jsonText(bytes);
  if (text.length === 0) return {};
  let first = 0;
  while (first < text.length && isJsonWhitespace(text[first])) first += 1;
  if (text[first] !== OPEN_BRACE && text[first] !== OPEN_BRACKET) throw invalidJson();
  try {
    return JSON.parse(text.toString('utf8')) as unknown;
  } catch {
    throw invalidJson();
  }
}

const bodyTexts = new WeakMap<IncomingMessage, Buffer>();

/** The JSON text `req.body` was parsed from (inflated, BOM dropped), kept while the request lives. */
export function bodyTextOf(req: IncomingMessage): Buffer | undefined {
  return bodyTexts.get(req);
}

function remember(req: IncomingMessage, bytes: Buffer): void {
  bodyTexts.set(req, jsonText(bytes));
}

/** Whether the request has a body at all (a length or chunked framing), as body-parser asks. */
function hasBody(req: IncomingMessage): boolean {
  return (
    req.headers['transfer-encoding'] !== undefined || req.headers['content-length'] !== undefined
  );
}

export function jsonBody(
  maxBytes: number,
  check: BodyBytesCheck,
): (req: Request, res: Response, next: NextFunction) => void {
  const inflating = express.json({
    limit: maxBytes,
    strict: true,
    type: () => true,
    verify: (req, _res, bytes) => {
      check(req, bytes);
      remember(req, bytes);
    },
  });
  return (req, res, next) => {
    // RFC 8259 §8.1: JSON between systems is UTF-8; decoding UTF-16 or UTF-32 drops or
    // replaces what does not fit. Refused before a byte is read, compressed or not.
    const charset = charsetOf(req.headers['content-type']);
    if (charset !== 'utf-8') {
      next(new ApiError('unsupported_media_type', `unsupported charset ${charset}; use utf-8`));
      return;
    }
    if (isEncoded(req)) {
      inflating(req, res, next);
      return;
    }
    if (!hasBody(req)) {
      next();
      return;
    }
    readBody(req, maxBytes, (error, bytes) => {
      if (error) {
        next(error);
        return;
      }
      try {
        check(req, bytes);
        req.body = parseJsonBody(bytes);
        remember(req, bytes);
      } catch (problem) {
        next(problem);
        return;
      }
      next();
    });
  };
}

/**
 * Reads the body into one Buffer. Past `maxBytes` it stops at once with body_too_large: the
 * refusal is sent while the client may still be sending (lingering-close.ts reads off the
 * rest, bounded).
 */
function readBody(
  req: IncomingMessage,
  maxBytes: number,
  done: (error: ApiError | undefined, bytes: Buffer) => void,
): void {
  const chunks: Buffer[] = [];
  let received = 0;
  const finish = (error: ApiError | undefined) => {
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('error', onError);
    const bytes = error
      ? Buffer.alloc(0)
      : chunks.length === 1
        ? (chunks[0] as Buffer)
        : Buffer.concat(chunks, received);
    done(error, bytes);
  };
  const onData = (chunk: Buffer) => {
    received += chunk.length;
    if (received > maxBytes) finish(bodyTooLarge(maxBytes));
    else chunks.push(chunk);
  };
  const onEnd = () => finish(undefined);
  const onError = () => finish(new ApiError('invalid_request', 'the request was aborted'));
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', onError);
}
