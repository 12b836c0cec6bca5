/**
 * Text the API takes must be text UTF-8 can carry, or Kafka would hold something else than
 * what the client sent (U+FFFD where the bytes or the surrogates were). Two ways in:
 *
 * - the body's bytes are not UTF-8 (overlong forms, encoded surrogates, stray or missing
 *   continuation bytes...): `invalidUtf8Offset`, checked on the raw bytes before parsing;
 * - a JSON escape names half of a surrogate pair (`"\ud800"`): valid bytes, but a string no
 *   UTF-8 can encode. Only an escape can produce one, so `mayHoldSurrogateEscape` looks for
 *   such an escape in the bytes (one native search, nearly always a miss) and only then
 *   `findUnpairedSurrogate` walks the parsed body to name the field.
 */
import { isUtf8 } from 'node:buffer';

/**
 * Offset of the first byte that does not begin a well-formed UTF-8 sequence (RFC 3629 §4),
 * or -1 when every byte does. Fast when the bytes are valid; the scan runs only when not.
 */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  if (isUtf8(bytes)) return -1;
  let at = 0;
  while (at < bytes.length) {
    const length = sequenceLength(bytes, at);
    if (length === 0) return at;
    at += length;
  }
  return -1; // not reached: isUtf8 said there is an invalid sequence
}

/** Length of the well-formed sequence at `at`, or 0 when there is none. */
function sequenceLength(bytes: Uint8Array, at: number): number {
  const lead = bytes[at] ?? 0;
  if (lead < 0x80) return 1;
  // The second byte's range excludes overlong forms (E0, F0), surrogates (ED) and code
  // points above U+10FFFF (F4); C0, C1 and F5..FF never lead.
  let length: number;
  let low = 0x80;
  let high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) length = 2;
  else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead === 0xe0) low = 0xa0;
    if (lead === 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead === 0xf0) low = 0x90;
    if (lead === 0xf4) high = 0x8f;
  } else return 0;
  const second = bytes[at + 1];
  if (second === undefined || second < low || second > high) return 0;
  for (let next = at + 2; next < at + length; next += 1) {
    const byte = bytes[next];
    if (byte === undefined || byte < 0x80 || byte > 0xbf) return 0;
  }
  return length;
}

const ESCAPE = Buffer.from('\\u');

/**
 * Whether the JSON text may hold an escape of a surrogate (\uD800 to \uDFFF, any case). A
 * superset: pairs, and an escaped backslash before "ud800", match too; the walk decides.
 */
export function mayHoldSurrogateEscape(bytes: Buffer): boolean {
  for (let at = bytes.indexOf(ESCAPE); at !== -1; at = bytes.indexOf(ESCAPE, at + 2)) {
    const first = bytes[at + 2];
    const second = bytes[at + 3] ?? 0;
    if ((first === 0x64 || first === 0x44) && isSurrogateSecondDigit(second)) return true;
  }
  return false;
}

/** 8, 9, a to f, A to F: the second hex digit of D800 to DFFF. */
function isSurrogateSecondDigit(byte: number): boolean {
  return (
    byte === 0x38 ||
    byte === 0x39 ||
    (byte >= 0x61 && byte <= 0x66) ||
    (byte >= 0x41 && byte <= 0x46)
  );
}

export interface SurrogateProblem {
  /** JSON pointer of the string, or of the object whose property name holds it. */
  field: string;
  reason: string;
}

interface Frame {
  value: unknown;
  parent: Frame | undefined;
  token: string;
}

/**
 * The first string (or property name) holding a surrogate without its pair, in document
 * order, or undefined. Iterative, so JSON nested 400,000 deep cannot overflow the stack.
 */
export function findUnpairedSurrogate(root: unknown): SurrogateProblem | undefined {
  const stack: Frame[] = [{ value: root, parent: undefined, token: '' }];
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    const { value } = frame;
    if (typeof value === 'string') {
      if (!value.isWellFormed())
        return { field: pointer(frame), reason: 'holds an unpaired surrogate' };
    } else if (Array.isArray(value)) {
      for (let index = value.length - 1; index >= 0; index -= 1) {
        stack.push({ value: value[index], parent: frame, token: String(index) });
      }
    } else if (typeof value === 'object' && value !== null) {
      const names = Object.keys(value);
      if (names.some((name) => !name.isWellFormed())) {
        return { field: pointer(frame), reason: 'has a property name with an unpaired surrogate' };
      }
      const record = value as Record<string, unknown>;
      for (let index = names.length - 1; index >= 0; index -= 1) {
        const name = names[index] ?? '';
        stack.push({ value: record[name], parent: frame, token: name });
      }
    }
  }
  return undefined;
}

function pointer(frame: Frame): string {
  const tokens: string[] = [];
  for (let at: Frame | undefined = frame; at?.parent !== undefined; at = at.parent) {
    tokens.push(at.token.replace(/~/g, '~0').replace(/\//g, '~1'));
  }
  return tokens.length === 0 ? '/' : `/${tokens.reverse().join('/')}`;
}
