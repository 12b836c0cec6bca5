/**
 * A validated request's messages as records for the Kafka writer, each value as the bytes of
 * its JSON text in the body, just as the client sent them (value-spans.ts).
 */
import type { WriteRecord } from './kafka';
import type { ProduceRequestBody } from './validation';
import { valueSpans, type Span } from './value-spans';

/**
 * The values' bytes, copied out of the body into one buffer of their own: a slice of the body
 * would keep all of it (keys, headers, whitespace, which the buffer's byte limit does not
 * count as values) in memory for as long as the record waits to be sent.
 */
function copyValues(text: Buffer, spans: Span[]): Buffer[] {
  let total = 0;
  for (const { start, end } of spans) total += end - start;
  const values = Buffer.allocUnsafe(total); // every byte is written below
  let at = 0;
  return spans.map(({ start, end }) => {
    const from = at;
    at += text.copy(values, at, start, end);
    return values.subarray(from, at);
  });
}

/** `text`: the JSON text `body` was parsed from. */
export function toWriteRecords(body: ProduceRequestBody, text: Buffer): WriteRecord[] {
  const spans = valueSpans(text);
  if (spans.length !== body.messages.length) {
    throw new Error(`found ${spans.length} values in a body of ${body.messages.length} messages`);
  }
  const values = copyValues(text, spans);
  return body.messages.map((message, index) => {
    const record: WriteRecord = {
      key: message.key ?? null,
      value: values[index] as Buffer,
      headers: message.headers,
    };
    if (message.partition !== undefined) record.partition = message.partition;
    return record;
  });
}
