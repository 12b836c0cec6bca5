/**
 * The default message handler: parse the JSON value, log it, done. Replace it with your
 * own logic by editing this file, or point HANDLER_MODULE at a module that exports a
 * `handle` function of the same type. Throwing makes the consumer retry (and finally
 * dead-letter) the message; counting and timing are done by the consumer.
 */
import { UnprocessableMessageError, type ConsumedMessage, type Handler } from './message';

export function parseJsonValue(message: ConsumedMessage): unknown {
  if (message.value === null) throw new UnprocessableMessageError('value is null, expected JSON');
  try {
    return JSON.parse(message.value.toString('utf8'));
  } catch {
    // Not chained to the SyntaxError: its text quotes the value, which only debug logs may show.
    throw new UnprocessableMessageError('value is not valid JSON');
  }
}

// Not async: its work is synchronous, and a plain function spares the consumer an await.
export const handle: Handler = (message, { logger }) => {
  const value = parseJsonValue(message);
  // Checked first so that the fields are not built for a log line that is not written.
  if (!logger.isLevelEnabled('debug')) return;
  logger.debug(
    {
      topic: message.topic,
      partition: message.partition,
      offset: message.offset,
      key: message.key?.toString('utf8') ?? null,
      value,
    },
    'message handled',
  );
};
