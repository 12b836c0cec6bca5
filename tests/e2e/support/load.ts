/**
 * The load: `concurrency` clients, each sending its next batch of messages as soon as the
 * previous one is answered, every answer written in the ledger. A 503 is retried after its
 * Retry-After (bounded); anything else that is not a 200 is a client error. Pure apart from
 * the sender: tests/unit/e2e-load.test.ts drives it with fakes.
 */
import { setTimeout as realSleep } from 'node:timers/promises';
import type { Ack, Ledger } from './ledger';

export interface Answer {
  status: number;
  /** Seconds, from Retry-After. */
  retryAfterSeconds?: number;
  /** The 200 body's results, in request order. */
  results?: Ack[];
  /** For error reports. */
  body?: string;
}

export type Sender = (
  messages: Array<{ key: string; value: unknown }>,
  client: number,
) => Promise<Answer>;

export interface LoadOptions {
  ledger: Ledger;
  send: Sender;
  concurrency: number;
  /** Messages to send in all; with `keepGoing` instead, as many as fit. */
  total?: number;
  /** Asked before each new batch: false stops the load (the batches in flight finish). */
  keepGoing?: () => boolean;
  /** Messages per request (default 1). */
  batchSize?: number;
  /** Attempts of one batch while it gets 503s (default 30). */
  maxAttempts?: number;
  /** Cap of one Retry-After wait (default 5 s). */
  maxRetryAfterMs?: number;
  /** First seq (default 0): a second load on the same ledger continues the numbering. */
  firstSeq?: number;
  sleep?: (ms: number) => Promise<unknown>;
  /** The clock (tests give a fake one). */
  now?: () => number;
}

export interface LoadStats {
  requests: number;
  messages: number;
  durationMs: number;
  /** Next free seq. */
  nextSeq: number;
  maxInFlight: number;
  /** The longest time without an acknowledgement, from the start to the last one: the pause a disturbance caused. */
  longestAckGapMs: number;
}

export async function runLoad(options: LoadOptions): Promise<LoadStats> {
  const { ledger, send } = options;
  const batchSize = options.batchSize ?? 1;
  const maxAttempts = options.maxAttempts ?? 30;
  const maxWait = options.maxRetryAfterMs ?? 5_000;
  const sleep = options.sleep ?? ((ms: number) => realSleep(ms));
  const end = options.total === undefined ? Infinity : (options.firstSeq ?? 0) + options.total;
  if (end === Infinity && options.keepGoing === undefined) {
    throw new Error('runLoad needs total or keepGoing');
  }
  let next = options.firstSeq ?? 0;
  let requests = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const now = options.now ?? Date.now;
  const started = now();
  let lastAckAt = started;
  let longestAckGapMs = 0;

  const takeBatch = (): number[] => {
    if (options.keepGoing !== undefined && !options.keepGoing()) return [];
    const batch: number[] = [];
    while (batch.length < batchSize && next < end) batch.push(next++);
    return batch;
  };

  const client = async (id: number): Promise<void> => {
    for (let batch = takeBatch(); batch.length > 0; batch = takeBatch()) {
      for (const seq of batch) ledger.sent(seq);
      const messages = batch.map((seq) => ledger.message(seq));
      for (let attempt = 1; ; attempt += 1) {
        let answer: Answer;
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        requests += 1;
        try {
          answer = await send(messages, id);
        } catch (error) {
          const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          for (const seq of batch) ledger.fail(seq, `transport error: ${text}`);
          break;
        } finally {
          inFlight -= 1;
        }
        if (answer.status === 200) {
          const results = answer.results ?? [];
          if (results.length !== batch.length) {
            for (const seq of batch)
              ledger.fail(seq, `200 with ${results.length} results for ${batch.length} messages`);
          } else {
            batch.forEach((seq, i) => ledger.ack(seq, results[i] as Ack));
            const at = now();
            longestAckGapMs = Math.max(longestAckGapMs, at - lastAckAt);
            lastAckAt = at;
          }
          break;
        }
        if (answer.status === 503 && attempt < maxAttempts) {
          for (const seq of batch) ledger.retried503(seq);
          await sleep(Math.min(maxWait, Math.max(100, (answer.retryAfterSeconds ?? 1) * 1000)));
          continue;
        }
        const why =
          answer.status === 503 ? `503 after ${attempt} attempts` : `HTTP ${answer.status}`;
        for (const seq of batch) ledger.fail(seq, `${why}: ${(answer.body ?? '').slice(0, 200)}`);
        break;
      }
    }
  };

  await Promise.all(Array.from({ length: options.concurrency }, (_, i) => client(i)));
  return {
    requests,
    messages: next - (options.firstSeq ?? 0),
    durationMs: now() - started,
    nextSeq: next,
    maxInFlight,
    longestAckGapMs,
  };
}
