import { valueSpans } from '../../services/producer/value-spans';

/** Each value's text as the scan finds it. */
function values(body: string): string[] {
  const bytes = Buffer.from(body);
  return valueSpans(bytes).map(({ start, end }) => bytes.toString('utf8', start, end));
}

/** A small seeded generator, so a failing case can be run again. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

const SPACES = ['', ' ', '\n', '\t', '\r\n  '];
const STRINGS = ['', 'plain', 'é ✓ 😀', 'a"b', 'back\\slash', '{[', ']}', '\\"', 'x'.repeat(300)];

/** Random JSON text with random whitespace between tokens, and the value it spells. */
function jsonText(next: () => number, depth: number): string {
  const pick = <T>(list: T[]): T => list[Math.floor(next() * list.length)] as T;
  const space = () => pick(SPACES);
  const kind = Math.floor(next() * (depth > 3 ? 4 : 6));
  if (kind === 0) return pick(['0', '-0', '1.5e3', '12345678901234567890', '1e400', '-7']);
  if (kind === 1) return pick(['true', 'false', 'null']);
  if (kind === 2 || kind === 3) {
    const text = pick(STRINGS);
    // Escaped one way or another, as clients do.
    return next() < 0.5
      ? JSON.stringify(text)
      : `"${[...text].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"`;
  }
  const count = Math.floor(next() * 4);
  const items = Array.from({ length: count }, () =>
    kind === 4
      ? `${space()}${jsonText(next, depth + 1)}${space()}`
      : `${space()}${JSON.stringify(pick(['value', 'messages', 'k', '']))}${space()}:${space()}${jsonText(next, depth + 1)}${space()}`,
  );
  return kind === 4 ? `[${items.join(',')}]` : `{${items.join(',')}}`;
}

describe('value spans', () => {
  test("each message's value is its text as sent, spacing around it dropped", () => {
    expect(
      values('{ "messages" : [ { "value" : 12345678901234567890 } , {"key":"k","value":[1, 2]}]}'),
    ).toEqual(['12345678901234567890', '[1, 2]']);
  });

  test('numbers JSON.parse would round or lose are kept', () => {
    expect(
      values('{"messages":[{"value":1e400},{"value":-0},{"value":1.0},{"value":0.1e1}]}'),
    ).toEqual(['1e400', '-0', '1.0', '0.1e1']);
  });

  test('quotes, backslashes and brackets inside strings do not end a value', () => {
    const text = '"a\\"b\\\\" , ] } [ {';
    expect(
      values(`{"messages":[{"value":{"s":${JSON.stringify(text)}}},{"value":"\\\\"}]}`),
    ).toEqual([`{"s":${JSON.stringify(text)}}`, '"\\\\"']);
  });

  test('as in JSON.parse, the last of duplicate names counts, and names may be escaped', () => {
    const body =
      '{"messages":[{"value":1}],"extra":{"messages":[]},"\\u006dessages":[{"value":"a","value":"b"},{"\\u0076alue":2}]}';
    const parsed = JSON.parse(body) as { messages: Array<{ value: unknown }> };
    expect(values(body)).toEqual(['"b"', '2']);
    expect(parsed.messages.map((m) => m.value)).toEqual(['b', 2]);
  });

  test('an empty list, and nesting deeper than recursion could go', () => {
    expect(values('{"messages":[ ]}')).toEqual([]);
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    expect(values(`{"messages":[{"value":${deep}}]}`)).toEqual([deep]);
  });

  test('a body without the validated shape is an error, not a guess', () => {
    expect(() => valueSpans(Buffer.from('[]'))).toThrow(/validated shape/);
    expect(() => valueSpans(Buffer.from('{"messages":{}}'))).toThrow(/validated shape/);
    expect(() => valueSpans(Buffer.from('{"messages":[{"key":"k"}]}'))).toThrow(/validated shape/);
    expect(() => valueSpans(Buffer.from('{"messages":["x"]}'))).toThrow(/validated shape/);
  });

  test('on random bodies every span parses to the value JSON.parse gives', () => {
    for (let seed = 1; seed <= 400; seed += 1) {
      const next = random(seed);
      const messages = Array.from({ length: 1 + Math.floor(next() * 5) }, () => {
        const members = [`"value"${SPACES[seed % SPACES.length]}:${jsonText(next, 0)}`];
        if (next() < 0.5) members.unshift(`"key":${jsonText(next, 3)}`);
        if (next() < 0.3) members.push(`"value" : ${jsonText(next, 0)}`);
        return `{ ${members.join(' , ')} }`;
      });
      const body = `{"before":${jsonText(next, 1)},\n"messages":[${messages.join(',\n')}] }`;
      const parsed = JSON.parse(body) as { messages: Array<{ value: unknown }> };
      const found = values(body).map((text) => JSON.parse(text) as unknown);
      expect({ seed, found }).toEqual({ seed, found: parsed.messages.map((m) => m.value) });
    }
  });
});
