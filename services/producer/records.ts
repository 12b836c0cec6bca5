/**
 * A validated request's messages as records for the Kafka writer, each value as the bytes of
 * its JSON text in the body, just as the client sent them (value-spans.ts).
 */
import type { WriteRecord } from './kafka';
import type { ProduceRequestBody } from './validation';
import { valueSpans, type Span } from './value-spans';

/** `text`: the JSON text `body` was parsed from. */
export function toWriteRecords(body: ProduceRequestBody, text: Buffer): WriteRecord[] {
  const spans = valueSpans(text);
  if (spans.length !== body.messages.length) {
    throw new Error(`found ${spans.length} values in a body of ${body.messages.length} messages`);
  }
  return body.messages.map((message, index) => {
    const { start, end } = spans[index] as Span;
    const record: WriteRecord = {
      key: message.key ?? null,
      value: text.subarray(start, end),
      headers: message.headers,
    };
    if (message.partition !== undefined) record.partition = message.partition;
    return record;
  });
}
