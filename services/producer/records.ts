/** A validated request's messages as records for the Kafka writer: each value as JSON text. */
import { ApiError } from './errors';
import type { WriteRecord } from './kafka';
import type { ProduceMessage } from './validation';

function serialize(value: unknown, index: number): string {
  try {
    // Parsed JSON always serializes to a string (no functions or undefined inside).
    return JSON.stringify(value) as string;
  } catch {
    // JSON.parse accepts nesting deeper than JSON.stringify's recursion can handle.
    const field = `/messages/${index}/value`;
    throw new ApiError('invalid_request', `${field} is nested too deeply`, {
      field,
      reason: 'is nested too deeply',
    });
  }
}

export function toWriteRecords(messages: ProduceMessage[]): WriteRecord[] {
  return messages.map((message, index) => {
    const record: WriteRecord = {
      key: message.key ?? null,
      value: serialize(message.value, index),
      headers: message.headers,
    };
    if (message.partition !== undefined) record.partition = message.partition;
    return record;
  });
}
