/**
 * Where each message's value lies in the request body's bytes, so that a value is stored as
 * the client wrote it: not parsed and serialized again (the larger part of a many-message
 * request's own cost), and not altered on the way (JSON.parse rounds 12345678901234567890 and
 * turns 1e400 into Infinity, which JSON.stringify then writes as null).
 *
 * Runs only on JSON text (BOM dropped) that JSON.parse accepted and the validator passed: an
 * object whose `messages` is an array of objects, each with a `value`. So it finds tokens
 * without checking them, in one pass, without recursion (a value may nest as deep as
 * JSON.parse allows). As in JSON.parse, the last of duplicate names counts, and a name may be
 * written with escapes.
 */
import {
  BACKSLASH,
  CLOSE_BRACE,
  CLOSE_BRACKET,
  COMMA,
  OPEN_BRACE,
  OPEN_BRACKET,
  QUOTE,
  isJsonWhitespace,
} from './json-bytes';

/** A value's bytes: [start, end) of the body. */
export interface Span {
  start: number;
  end: number;
}

class BodyScanError extends Error {
  constructor(at: number) {
    super(`the body's JSON text does not have the validated shape at byte ${at}`);
  }
}

function skipWhitespace(bytes: Buffer, at: number): number {
  let next = at;
  while (isJsonWhitespace(bytes[next])) next += 1;
  return next;
}

/** `at` is a string's opening quote; returns the index after its closing quote. */
function stringEnd(bytes: Buffer, at: number): number {
  let quote = at;
  for (;;) {
    quote = bytes.indexOf(QUOTE, quote + 1);
    if (quote === -1) throw new BodyScanError(at);
    let backslashes = 0;
    while (bytes[quote - 1 - backslashes] === BACKSLASH) backslashes += 1;
    if (backslashes % 2 === 0) return quote + 1;
  }
}

/** `at` is a value's first byte; returns the index after its last. */
function valueEnd(bytes: Buffer, at: number): number {
  const first = bytes[at];
  if (first === QUOTE) return stringEnd(bytes, at);
  let next = at;
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    let depth = 0;
    while (next < bytes.length) {
      const byte = bytes[next];
      if (byte === QUOTE) {
        next = stringEnd(bytes, next);
        continue;
      }
      if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth += 1;
      else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        depth -= 1;
        if (depth === 0) return next + 1;
      }
      next += 1;
    }
    throw new BodyScanError(at);
  }
  // A number, true, false or null: it ends where whitespace or punctuation begins.
  while (next < bytes.length) {
    const byte = bytes[next];
    if (
      isJsonWhitespace(byte) ||
      byte === COMMA ||
      byte === CLOSE_BRACE ||
      byte === CLOSE_BRACKET
    ) {
      break;
    }
    next += 1;
  }
  return next;
}

/** Whether the string token [start, end) (quotes included) spells `name`. */
function spells(bytes: Buffer, start: number, end: number, name: Buffer): boolean {
  // Byte by byte: names are short, and a native call per member cost more than the loop.
  let plain = end - start - 2 === name.length;
  for (let at = start + 1; at < end - 1; at += 1) {
    const byte = bytes[at];
    if (byte === BACKSLASH)
      return JSON.parse(bytes.toString('utf8', start, end)) === name.toString();
    if (plain && byte !== name[at - start - 1]) plain = false;
  }
  return plain;
}

/**
 * Walks the items of the object or array whose opening bracket is at `at`: `item` is given
 * each item's first byte (a member's name, or an element) and returns the index after the
 * item. Returns the index after the closing bracket.
 */
function eachItem(bytes: Buffer, at: number, close: number, item: (at: number) => number): number {
  let next = skipWhitespace(bytes, at + 1);
  if (bytes[next] === close) return next + 1;
  for (;;) {
    next = skipWhitespace(bytes, item(next));
    if (bytes[next] === close) return next + 1;
    if (bytes[next] !== COMMA) throw new BodyScanError(next);
    next = skipWhitespace(bytes, next + 1);
  }
}

/**
 * `at` is an object's opening brace. Returns the span of its last member named `name`
 * (undefined when there is none) and the index after its closing brace.
 */
function member(bytes: Buffer, at: number, name: Buffer): { span: Span | undefined; end: number } {
  let span: Span | undefined;
  const end = eachItem(bytes, at, CLOSE_BRACE, (nameStart) => {
    const nameEnd = stringEnd(bytes, nameStart);
    const valueStart = skipWhitespace(bytes, skipWhitespace(bytes, nameEnd) + 1);
    const after = valueEnd(bytes, valueStart);
    if (spells(bytes, nameStart, nameEnd, name)) span = { start: valueStart, end: after };
    return after;
  });
  return { span, end };
}

const MESSAGES = Buffer.from('messages');
const VALUE = Buffer.from('value');

/** The span of every message's value, in order. */
export function valueSpans(bytes: Buffer): Span[] {
  const top = skipWhitespace(bytes, 0);
  if (bytes[top] !== OPEN_BRACE) throw new BodyScanError(top);
  const messages = member(bytes, top, MESSAGES).span;
  if (!messages || bytes[messages.start] !== OPEN_BRACKET) throw new BodyScanError(top);
  const spans: Span[] = [];
  eachItem(bytes, messages.start, CLOSE_BRACKET, (message) => {
    if (bytes[message] !== OPEN_BRACE) throw new BodyScanError(message);
    const { span, end } = member(bytes, message, VALUE);
    if (!span) throw new BodyScanError(message);
    spans.push(span);
    return end;
  });
  return spans;
}
