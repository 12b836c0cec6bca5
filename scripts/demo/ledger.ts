/**
 * The demos' closing count: every message the producer API acknowledged must be in Kafka at
 * the partition and offset the API answered, and must have been processed by the consumer.
 * "lost" counts acknowledged messages that fail either test; it must be 0.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Acked } from './load';
import type { Story } from './story';
import { readTopic } from '../lib/topic-reader';

export interface StoredMessage {
  id: string;
  partition: number;
  offset: string;
}

export interface Processed {
  id: string;
  /** partition@offset */
  position: string;
  instance: string;
}

export interface Ledger {
  acknowledged: number;
  foundInKafka: number;
  processed: number;
  lost: number;
  /** Acknowledged ids stored more than once (a client retry after a 503 whose first try was written). */
  storedTwice: number;
  /** Records handled more than once: redeliveries of at-least-once (after a rebalance, a failover). */
  processedAgain: number;
  /** Some of the lost ids, for the report. */
  lostExamples: string[];
}

/** Reads `topic` from its first offset to its log-end, with a throwaway consumer group. */
export async function readStored(
  brokers: readonly string[],
  topic: string,
  timeoutMs = 60_000,
): Promise<StoredMessage[]> {
  // Patient: the demo reads right after a leader election, when a partition may briefly
  // have no leader (a retriable error that kafkajs' default pace outlasts too soon).
  const contents = await readTopic(topic, {
    brokers,
    client: {
      clientId: 'demo-ledger',
      retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 2_000 },
    },
    timeoutMs,
    maxWaitTimeInMs: 250,
  });
  return contents.records.map((record) => ({
    id: idOf(record.value),
    partition: record.partition,
    offset: record.offset,
  }));
}

export function readProcessed(files: readonly string[]): Processed[] {
  return files
    .filter((file) => existsSync(file))
    .flatMap((file) => readFileSync(file, 'utf8').split('\n'))
    .filter((line) => line !== '')
    .map((line) => {
      const [id = '-', partition = '?', offset = '?', instance = '?'] = line.split('\t');
      return { id, position: `${partition}@${offset}`, instance };
    });
}

export function countLedger(
  acked: ReadonlyMap<string, Acked>,
  stored: readonly StoredMessage[],
  processed: readonly Processed[],
): Ledger {
  const atPosition = new Map(stored.map((m) => [`${m.partition}@${m.offset}`, m.id]));
  const storedCount = countBy(stored.map((m) => m.id));
  const processedCount = countBy(processed.map((p) => p.id));
  let foundInKafka = 0;
  let processedOnce = 0;
  let storedTwice = 0;
  let processedAgain = 0;
  for (const times of countBy(processed.map((p) => p.position)).values())
    processedAgain += times - 1;
  const lostExamples: string[] = [];
  let lost = 0;
  for (const [id, where] of acked) {
    const found = atPosition.get(`${where.partition}@${where.offset}`) === id;
    const times = processedCount.get(id) ?? 0;
    if (found) foundInKafka += 1;
    if (times > 0) processedOnce += 1;
    if ((storedCount.get(id) ?? 0) > 1) storedTwice += 1;
    if (!found || times === 0) {
      lost += 1;
      if (lostExamples.length < 5) lostExamples.push(`${id} (${where.partition}@${where.offset})`);
    }
  }
  return {
    acknowledged: acked.size,
    foundInKafka,
    processed: processedOnce,
    lost,
    storedTwice,
    processedAgain,
    lostExamples,
  };
}

/** The ledger as a table; its "lost" line is what the demo tests parse. */
export function printLedger(story: Story, ledger: Ledger): void {
  story.line('');
  story.line('Ledger');
  const rows: Array<[string, number, string]> = [
    [
      'acknowledged by the API',
      ledger.acknowledged,
      'answered 200, with a partition and an offset',
    ],
    ['found in Kafka', ledger.foundInKafka, 'at exactly that partition and offset'],
    ['processed', ledger.processed, 'handled by the consumer at least once'],
    [
      'lost',
      ledger.lost,
      ledger.lost === 0 ? 'must be 0' : `MUST BE 0: ${ledger.lostExamples.join(', ')}`,
    ],
  ];
  for (const [label, count, meaning] of rows) {
    story.line(`  ${label.padEnd(24)} ${String(count).padStart(7)}   ${meaning}`);
  }
  story.line(
    `  stored twice: ${ledger.storedTwice} (a client retried after a 503, but the first try had been written too)`,
  );
  story.line(
    `  handled twice: ${ledger.processedAgain} (a record delivered again after a rebalance or a failover: at-least-once)`,
  );
}

export interface PrintedLedger {
  acknowledged: number;
  foundInKafka: number;
  processed: number;
  lost: number;
}

/** The four counts of the ledger a demo printed; undefined if one is missing. */
export function parsePrintedLedger(output: string): PrintedLedger | undefined {
  const count = (label: string) => {
    const match = new RegExp(`^ {2}${label} +(\\d+) `, 'm').exec(output);
    return match?.[1] === undefined ? undefined : Number(match[1]);
  };
  const acknowledged = count('acknowledged by the API');
  const foundInKafka = count('found in Kafka');
  const processed = count('processed');
  const lost = count('lost');
  if (
    acknowledged === undefined ||
    foundInKafka === undefined ||
    processed === undefined ||
    lost === undefined
  ) {
    return undefined;
  }
  return { acknowledged, foundInKafka, processed, lost };
}

function idOf(value: Buffer | null): string {
  try {
    const parsed = JSON.parse(value?.toString('utf8') ?? 'null') as { id?: unknown } | null;
    return typeof parsed?.id === 'string' ? parsed.id : '-';
  } catch {
    return '-';
  }
}

function countBy(ids: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

/** Waits until every acknowledged id shows up as processed; returns how many are still missing. */
export async function waitUntilProcessed(
  acked: ReadonlyMap<string, Acked>,
  files: readonly string[],
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = new Set(readProcessed(files).map((p) => p.id));
    let missing = 0;
    for (const id of acked.keys()) if (!seen.has(id)) missing += 1;
    if (missing === 0 || Date.now() > deadline) return missing;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
