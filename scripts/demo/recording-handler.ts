/**
 * The consumer's handler in the demos (HANDLER_MODULE): the default handler, then one line
 * per handled message in DEMO_PROCESSED_FILE (id, partition, offset, instance), which the
 * demo's ledger reads. A line is written only after the handler succeeded, so a message in
 * the file was processed; a message in it twice was delivered twice (at-least-once).
 */
import { appendFileSync } from 'node:fs';
import { handle as defaultHandle } from '../../services/consumer/handler';
import type { Handler } from '../../services/consumer/message';

const file = process.env.DEMO_PROCESSED_FILE;
const instance = process.env.KAFKA_CLIENT_ID ?? 'consumer';

export const handle: Handler = async (message, context) => {
  await defaultHandle(message, context);
  if (file === undefined) return;
  const id = idOf(message.value);
  appendFileSync(file, `${id}\t${message.partition}\t${message.offset}\t${instance}\n`);
};

function idOf(value: Buffer | null): string {
  try {
    const parsed = JSON.parse(value?.toString('utf8') ?? 'null') as { id?: unknown } | null;
    return typeof parsed?.id === 'string' ? parsed.id : '-';
  } catch {
    return '-';
  }
}
