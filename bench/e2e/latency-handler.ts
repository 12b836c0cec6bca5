/**
 * HANDLER_MODULE of the consumer in the end-to-end scenario: notes how long ago the message's
 * HTTP request was built (the load generator writes `sentAt`, epoch ms, into every value) and
 * how long ago the producer's client stamped the record (its timestamp: the Kafka leg), then
 * hands the message to the default handler. Lines "seq latencyMs kafkaLegMs" go to the file
 * named by BENCH_LATENCY_FILE, appended every 200 ms and when the process exits.
 */
import { appendFileSync } from 'node:fs';
import { handle as defaultHandle } from '../../services/consumer/handler';
import type { Handler } from '../../services/consumer/message';
import { nowMs } from '../lib/payload';

const file = process.env.BENCH_LATENCY_FILE;
let pending: string[] = [];

function flush(): void {
  if (file === undefined || pending.length === 0) return;
  const lines = pending;
  pending = [];
  appendFileSync(file, `${lines.join('\n')}\n`);
}

setInterval(flush, 200).unref();
process.on('exit', flush);

/** The value's seq and sentAt, without parsing it twice when it is not ours. */
function stamp(value: Buffer | null): { seq: number; sentAt: number } | undefined {
  if (value === null) return undefined;
  const head = value.subarray(0, 80).toString('latin1');
  const match = /^\{"seq":(\d+),"sentAt":([\d.]+)/.exec(head);
  return match ? { seq: Number(match[1]), sentAt: Number(match[2]) } : undefined;
}

export const handle: Handler = async (message, context) => {
  const arrived = nowMs();
  const value = stamp(message.value);
  if (value && value.sentAt > 0 && context.attempt === 1) {
    const kafkaLeg = arrived - message.timestamp;
    pending.push(`${value.seq} ${(arrived - value.sentAt).toFixed(3)} ${kafkaLeg.toFixed(3)}`);
  }
  await defaultHandle(message, context);
};
