import {
  benchValueText,
  fixedBody,
  requestBody,
  timestampedBody,
  VALUE_BYTES,
} from '../../bench/lib/payload';

describe('bench payloads', () => {
  test('a value is exactly the size asked for, with its seq and time', () => {
    expect(Buffer.byteLength(benchValueText(7, 123.5))).toBe(VALUE_BYTES);
    expect(Buffer.byteLength(benchValueText(0, 0, 100))).toBe(100);
    expect(JSON.parse(benchValueText(7, 123.5))).toMatchObject({ seq: 7, sentAt: 123.5 });
    expect(() => benchValueText(1, Date.now(), 10)).toThrow('cannot hold');
  });

  test('our API takes messages, the Bridge records, each a keyless value', () => {
    expect(JSON.parse(requestBody(['1', '{"a":2}'], 'api'))).toEqual({
      messages: [{ value: 1 }, { value: { a: 2 } }],
    });
    expect(JSON.parse(requestBody(['1'], 'bridge'))).toEqual({ records: [{ value: 1 }] });
  });

  test('a fixed body repeats one value of the given size', () => {
    const body = JSON.parse(fixedBody(3, 'api', 200)) as { messages: Array<{ value: unknown }> };
    expect(body.messages).toHaveLength(3);
    for (const { value } of body.messages) {
      expect(Buffer.byteLength(JSON.stringify(value))).toBe(200);
    }
  });

  test('a timestamped body numbers its messages and stamps each when it was built', () => {
    const before = performance.timeOrigin + performance.now();
    const body = JSON.parse(timestampedBody(10, 3, 'bridge')) as {
      records: Array<{ value: { seq: number; sentAt: number } }>;
    };
    const after = performance.timeOrigin + performance.now();
    expect(body.records.map((r) => r.value.seq)).toEqual([10, 11, 12]);
    for (const { value } of body.records) {
      expect(value.sentAt).toBeGreaterThanOrEqual(before);
      expect(value.sentAt).toBeLessThanOrEqual(after);
    }
  });
});
