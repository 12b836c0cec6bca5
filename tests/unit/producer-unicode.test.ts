/**
 * The producer API's text checks (services/producer/unicode.ts): which bytes are UTF-8 and
 * where the first invalid one is, the cheap look for surrogate escapes, and the walk that
 * names the field holding a lone surrogate. The HTTP answers are in
 * tests/integration/hostile-http.test.ts.
 */
import { isUtf8 } from 'node:buffer';
import {
  findUnpairedSurrogate,
  invalidUtf8Offset,
  mayHoldSurrogateEscape,
} from '../../services/producer/unicode';

const bytes = (...parts: Array<string | number[]>) =>
  Buffer.concat(parts.map((part) => Buffer.from(part as string)));

describe('invalidUtf8Offset', () => {
  test.each([
    ['ASCII', bytes('{"a":1}')],
    ['two, three and four bytes', bytes('é ✓ 😀')],
    [
      'the largest scalar values',
      bytes([0xed, 0x9f, 0xbf, 0xee, 0x80, 0x80, 0xf4, 0x8f, 0xbf, 0xbf]),
    ],
    ['noncharacters and a BOM', bytes('\uFFFE\uFFFF\uFEFF')],
    ['NUL', bytes([0x00])],
    ['nothing', bytes()],
  ])('%s: valid (-1)', (_name, input) => {
    expect(invalidUtf8Offset(input)).toBe(-1);
  });

  test.each([
    ['FF', bytes('ab', [0xff]), 2],
    ['FE after multi-byte characters (offsets count bytes)', bytes('é😀', [0xfe]), 6],
    ['overlong two bytes (C0 AF, C1 BF)', bytes('x', [0xc0, 0xaf]), 1],
    ['overlong C1', bytes([0xc1, 0xbf]), 0],
    ['overlong three bytes (E0 80 AF)', bytes([0xe0, 0x80, 0xaf]), 0],
    ['overlong four bytes (F0 80 80 AF)', bytes('a', [0xf0, 0x80, 0x80, 0xaf]), 1],
    ['an encoded high surrogate (ED A0 80)', bytes('ok', [0xed, 0xa0, 0x80]), 2],
    ['an encoded low surrogate (ED BF BF)', bytes([0xed, 0xbf, 0xbf]), 0],
    ['above U+10FFFF (F4 90 80 80)', bytes([0xf4, 0x90, 0x80, 0x80]), 0],
    ['F5 never leads', bytes([0xf5, 0x80, 0x80, 0x80]), 0],
    ['a five-byte form', bytes([0xf8, 0x88, 0x80, 0x80, 0x80]), 0],
    ['a lone continuation byte', bytes('a', [0x80], 'b'), 1],
    ['cut short before the end', bytes([0xe2, 0x82], '"'), 0],
    ['cut short at the end', bytes('{}', [0xf0, 0x9f, 0x98]), 2],
    ['a continuation byte missing in the middle', bytes([0xf0, 0x9f, 0x41, 0x80]), 0],
  ])('%s: offset %#', (_name, input, offset) => {
    expect(invalidUtf8Offset(input)).toBe(offset);
  });

  test('agrees with isUtf8 on random bytes, and the bytes before the offset are valid', () => {
    let seed = 20261201; // mulberry32: the same bytes on every run
    const next = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return (t ^ (t >>> 14)) >>> 0;
    };
    // Mostly high bytes around the sequence boundaries, so both answers come up often.
    const alphabet = [
      0x41, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xff,
    ];
    let invalid = 0;
    for (let run = 0; run < 20_000; run += 1) {
      const input = Buffer.from(
        Array.from({ length: next() % 8 }, () => alphabet[next() % alphabet.length] ?? 0),
      );
      const offset = invalidUtf8Offset(input);
      expect([input.toString('hex'), offset === -1]).toEqual([
        input.toString('hex'),
        isUtf8(input),
      ]);
      if (offset === -1) continue;
      invalid += 1;
      expect(isUtf8(input.subarray(0, offset))).toBe(true);
      expect(isUtf8(input.subarray(0, offset + 1))).toBe(false);
    }
    expect(invalid).toBeGreaterThan(1000);
  });
});

describe('mayHoldSurrogateEscape', () => {
  test.each([
    ['"\\ud800"', true],
    ['"\\uDFFF"', true],
    ['"\\uDbFf"', true],
    ['"\\ud83d\\ude00" (a pair: the walk decides)', true],
    ['"\\\\ud800" (an escaped backslash: the walk decides)', true],
    ['"\\ud7ff"', false],
    ['"\\ue000"', false],
    ['"\\u00e9 \\u0000"', false],
    ['"ud800 d800"', false],
    ['"\\u"', false],
    ['"\\ud', false],
    ['', false],
  ])('%s → %s', (text, expected) => {
    expect(mayHoldSurrogateEscape(Buffer.from(text.split(' (')[0] ?? ''))).toBe(expected);
  });
});

describe('findUnpairedSurrogate', () => {
  const HOLDS = 'holds an unpaired surrogate';
  const NAME = 'has a property name with an unpaired surrogate';

  test.each([
    [{ messages: [{ key: '\ud800', value: 1 }] }, '/messages/0/key', HOLDS],
    [{ messages: [{ value: 1 }, { value: 'a\udc00' }] }, '/messages/1/value', HOLDS],
    [{ messages: [{ value: { a: ['x', '\udbff'] } }] }, '/messages/0/value/a/1', HOLDS],
    [{ messages: [{ value: '\ude00\ud83d' }] }, '/messages/0/value', HOLDS],
    [{ messages: [{ value: { ok: { '\ud800': 1 } } }] }, '/messages/0/value/ok', NAME],
    [{ messages: [{ value: { 'a/b': { '~': '\udfff' } } }] }, '/messages/0/value/a~1b/~0', HOLDS],
    [{ messages: [{ value: 1, headers: { '\udfff': 'v' } }] }, '/messages/0/headers', NAME],
    [{ messages: [{ value: 1, headers: { h: '\ud83d' } }] }, '/messages/0/headers/h', HOLDS],
    ['\ud800', '/', HOLDS],
  ])('%j → %s', (body, field, reason) => {
    expect(findUnpairedSurrogate(body)).toEqual({ field, reason });
  });

  test('well-formed text, pairs and other values: nothing found', () => {
    const body = JSON.parse(
      '{"messages":[{"key":"\\ud83d\\ude00","value":{"__proto__":["\\\\ud800",1,null,true,{"é":"\\uFFFF"}]},"headers":{"a\\u0000":"b"}}]}',
    ) as unknown;
    expect(findUnpairedSurrogate(body)).toBeUndefined();
    expect(findUnpairedSurrogate({ messages: [] })).toBeUndefined();
  });

  test('names the first one in document order', () => {
    const body = {
      messages: [{ key: 'k', value: ['ok', { b: '\ud800' }, '\udc00'] }, { value: '\ud800' }],
    };
    expect(findUnpairedSurrogate(body)?.field).toBe('/messages/0/value/1/b');
  });

  test('JSON nested 400,000 deep: no stack overflow', () => {
    const depth = 400_000;
    const body = JSON.parse(`${'['.repeat(depth)}"\\ud800"${']'.repeat(depth)}`) as unknown;
    const found = findUnpairedSurrogate(body);
    expect(found?.reason).toBe(HOLDS);
    expect(found?.field).toBe(`/${Array.from({ length: depth }, () => '0').join('/')}`);
  });
});
