/**
 * The message every scenario sends: a JSON object whose serialization is exactly
 * VALUE_BYTES (1 KiB) long, so that Kafka's tools, raw kafkajs, our API and the Bridge all
 * write the same bytes per record. The e2e scenario puts a sequence number and the send
 * time into it.
 */

export const VALUE_BYTES = 1024;

export interface BenchValue {
  seq: number;
  /** Epoch milliseconds (fractional) when the HTTP request was built; 0 when unused. */
  sentAt: number;
  pad: string;
}

/** A value of exactly `bytes` bytes as JSON (ASCII only, so bytes = characters). */
export function benchValue(seq = 0, sentAt = 0, bytes = VALUE_BYTES): BenchValue {
  const empty = JSON.stringify({ seq, sentAt, pad: '' }).length;
  const padLength = bytes - empty;
  if (padLength < 0) throw new Error(`a ${bytes}-byte value cannot hold seq and sentAt`);
  return { seq, sentAt, pad: 'x'.repeat(padLength) };
}

/** The serialized value, as Kafka receives it. */
export function benchValueText(seq = 0, sentAt = 0, bytes = VALUE_BYTES): string {
  return JSON.stringify(benchValue(seq, sentAt, bytes));
}

/** The two request formats: our API's and the Strimzi Kafka Bridge's JSON embedded format. */
export type BodyFormat = 'api' | 'bridge';

/**
 * A request body with one keyless message per serialized value: our API's
 * `POST /v1/topics/{topic}/messages` (`messages`) or the Bridge's `POST /topics/{topic}`
 * (`records`, application/vnd.kafka.json.v2+json).
 */
export function requestBody(values: readonly string[], format: BodyFormat): string {
  const list = format === 'api' ? 'messages' : 'records';
  return `{"${list}":[${values.map((value) => `{"value":${value}}`).join(',')}]}`;
}

/** A body of `count` copies of one value of `valueBytes` bytes. */
export function fixedBody(count: number, format: BodyFormat, valueBytes = VALUE_BYTES): string {
  return requestBody(Array<string>(count).fill(benchValueText(0, 0, valueBytes)), format);
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Body of one request carrying `count` messages numbered from `firstSeq`, each stamped with
 * the time it was built (the end-to-end scenario's latency starts there).
 */
export function timestampedBody(firstSeq: number, count: number, format: BodyFormat): string {
  const values: string[] = [];
  for (let seq = firstSeq; seq < firstSeq + count; seq += 1) {
    values.push(benchValueText(seq, nowMs()));
  }
  return requestBody(values, format);
}
