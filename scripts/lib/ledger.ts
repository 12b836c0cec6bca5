/**
 * The ledger of a fault test: what was sent, what the API answered, what Kafka holds and
 * what the consumer service processed, and the lines DESIGN.md promises are zero.
 *
 *   const load = new LoadGenerator({ url, topic, clients: 4 });
 *   load.start();  …fault…  await load.stop();
 *   const kafka = await readLedgerTopic(topic, { brokers });
 *   await waitForProcessed(processedFile, kafka.records, 60_000);
 *   const report = computeLedger({ requests: load.records, kafka, processed: readProcessed(file), … });
 *   printLedger('one broker killed', report);
 *   expect(ledgerProblems(report)).toEqual([]);
 *
 * The consumer service's processed record comes from a HANDLER_MODULE (writeLedgerHandler)
 * that calls the built-in handler and then appends `topic partition offset instance time`
 * to a file, synchronously, before the consumer may commit the offset: a SIGKILL cannot
 * lose a processed line that the consumer went on to commit.
 *
 * No jest here: scripts/soak.ts uses this module, as do the integration and container tests.
 */
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from './root';
import { readTopic, type ReaderOptions } from './topic-reader';

// ---------------------------------------------------------------------------------------------
// Load generator

export interface SentMessage {
  /** Unique in the run: the value carries it, so a record in Kafka names its message. */
  id: string;
  key: string;
  client: number;
  /** The client's request number: per key, a later seq must land at a later offset. */
  seq: number;
}

export type Outcome =
  | { kind: 'ok'; status: number; results: Array<{ partition: number; offset: string }> }
  | { kind: 'http-error'; status: number; code: string | undefined; retryAfter: string | null }
  | { kind: 'refused'; error: string }
  | { kind: 'connection'; error: string }
  | { kind: 'timeout'; error: string };

export interface RequestRecord {
  client: number;
  seq: number;
  startedAt: number;
  endedAt: number;
  messages: SentMessage[];
  outcome: Outcome;
}

export interface LoadOptions {
  /** Base URL of the producer API, e.g. http://127.0.0.1:8080. */
  url: string;
  topic: string;
  /** Concurrent clients, each sending one request at a time. */
  clients?: number;
  messagesPerRequest?: number;
  /** Pause of a client between two requests (sets the rate). */
  pauseMs?: number;
  /** Pause after an error answer or a failed connection. */
  errorPauseMs?: number;
  /** Bytes of padding in each value. */
  padBytes?: number;
  apiKey?: string;
  /** A request without an answer by then counts as a timeout (a hang). */
  requestTimeoutMs?: number;
  /** Bound on the whole run: no client sends more requests than this. */
  maxRequestsPerClient?: number;
  /** Distinguishes this run's messages from any other on the topic. */
  runId?: string;
}

const CONNECTION_REFUSED = new Set(['ECONNREFUSED']);

function errorCode(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; name?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (error instanceof Error) return error.name === 'Error' ? error.message : error.name;
  return String(error);
}

/** Closed-loop HTTP load: `clients` loops, each sends a request, records the answer, pauses. */
export class LoadGenerator {
  readonly records: RequestRecord[] = [];
  readonly runId: string;
  private running = false;
  private loops: Array<Promise<void>> = [];
  private readonly options: Required<Omit<LoadOptions, 'apiKey' | 'runId'>> & {
    apiKey: string | undefined;
  };

  constructor(options: LoadOptions) {
    this.runId = options.runId ?? `run${Date.now().toString(36)}`;
    this.options = {
      clients: 4,
      messagesPerRequest: 5,
      pauseMs: 20,
      errorPauseMs: 100,
      padBytes: 32,
      requestTimeoutMs: 30_000,
      maxRequestsPerClient: 100_000,
      ...options,
      apiKey: options.apiKey,
    };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loops = Array.from({ length: this.options.clients }, (_, client) => this.loop(client));
  }

  /** Stops sending and waits for the requests in flight to end. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  get acknowledged(): number {
    return this.records
      .filter((r) => r.outcome.kind === 'ok')
      .reduce((sum, r) => sum + r.messages.length, 0);
  }

  /** Waits until at least `count` more messages were acknowledged than when called. */
  async waitForAcks(count: number, timeoutMs: number): Promise<void> {
    const target = this.acknowledged + count;
    const deadline = Date.now() + timeoutMs;
    while (this.acknowledged < target) {
      if (Date.now() > deadline) {
        throw new Error(
          `load: ${this.acknowledged} of ${target} messages acknowledged after ${timeoutMs} ms; last answers: ` +
            JSON.stringify(this.records.slice(-3).map((r) => r.outcome)),
        );
      }
      await sleep(100);
    }
  }

  private async loop(client: number): Promise<void> {
    const { pauseMs, errorPauseMs, maxRequestsPerClient } = this.options;
    for (let seq = 0; this.running && seq < maxRequestsPerClient; seq += 1) {
      const record = await this.send(client, seq);
      this.records.push(record);
      await sleep(record.outcome.kind === 'ok' ? pauseMs : errorPauseMs);
    }
  }

  private async send(client: number, seq: number): Promise<RequestRecord> {
    const { url, topic, messagesPerRequest, padBytes, apiKey, requestTimeoutMs } = this.options;
    const messages: SentMessage[] = Array.from({ length: messagesPerRequest }, (_, i) => ({
      id: `${this.runId}-${client}-${seq}-${i}`,
      key: `${this.runId}-c${client}-k${i}`,
      client,
      seq,
    }));
    const body = JSON.stringify({
      messages: messages.map((m) => ({
        key: m.key,
        value: { id: m.id, pad: 'x'.repeat(padBytes) },
        headers: { 'ledger-run': this.runId },
      })),
    });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (apiKey !== undefined) headers['authorization'] = `Bearer ${apiKey}`;
    const startedAt = Date.now();
    let outcome: Outcome;
    try {
      const response = await fetch(`${url}/v1/topics/${encodeURIComponent(topic)}/messages`, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
      const text = await response.text();
      let parsed: { results?: unknown; error?: { code?: unknown } } = {};
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch {
        // not JSON: recorded as an error without a code
      }
      if (response.status >= 200 && response.status < 300 && Array.isArray(parsed.results)) {
        outcome = {
          kind: 'ok',
          status: response.status,
          results: parsed.results as Array<{ partition: number; offset: string }>,
        };
      } else {
        outcome = {
          kind: 'http-error',
          status: response.status,
          code: typeof parsed.error?.code === 'string' ? parsed.error.code : undefined,
          retryAfter: response.headers.get('retry-after'),
        };
      }
    } catch (error) {
      const code = errorCode(error);
      if (code === 'TimeoutError') outcome = { kind: 'timeout', error: code };
      else if (CONNECTION_REFUSED.has(code)) outcome = { kind: 'refused', error: code };
      else outcome = { kind: 'connection', error: code };
    }
    return { client, seq, startedAt, endedAt: Date.now(), messages, outcome };
  }
}

// ---------------------------------------------------------------------------------------------
// Kafka, read independently

export interface KafkaRecord {
  partition: number;
  offset: string;
  key: string | null;
  /** The message id from the value; undefined for a value that is not a ledger message. */
  id: string | undefined;
}

export interface LedgerTopic {
  topic: string;
  records: KafkaRecord[];
  /** Log-end offset of each partition when reading started. */
  endOffsets: Map<number, string>;
}

function idOf(value: Buffer | null): string | undefined {
  if (value === null) return undefined;
  try {
    const parsed = JSON.parse(value.toString('utf8')) as { id?: unknown };
    return typeof parsed.id === 'string' ? parsed.id : undefined;
  } catch {
    return undefined;
  }
}

/** The topic up to its log-end offsets of the moment it starts, each record named by its message id. */
export async function readLedgerTopic(topic: string, options: ReaderOptions): Promise<LedgerTopic> {
  const contents = await readTopic(topic, {
    ...options,
    client: { clientId: 'ledger-reader', ...options.client },
  });
  return {
    topic,
    records: contents.records.map((record) => ({
      partition: record.partition,
      offset: record.offset,
      key: record.key?.toString('utf8') ?? null,
      id: idOf(record.value),
    })),
    endOffsets: contents.endOffsets,
  };
}

// ---------------------------------------------------------------------------------------------
// What the consumer service processed

export interface Processed {
  topic: string;
  partition: number;
  offset: string;
  instance: string;
  at: number;
}

export interface LedgerHandlerOptions {
  /** Where the module file goes (default reports/ledger-handlers). */
  dir?: string;
  name?: string;
  /** The file's name in `dir` (default `<name>-<pid>.js`). */
  fileName?: string;
  /** The built-in handler it calls, as the consumer will see it (default: this checkout's dist/). */
  defaultHandler?: string;
}

/**
 * Writes the HANDLER_MODULE of ledger runs and returns its path. Environment of the
 * consumer that loads it: LEDGER_PROCESSED_FILE (required), LEDGER_INSTANCE (a label),
 * LEDGER_DELAY_MS (per message, so work is in flight), LEDGER_HANG_MS and LEDGER_HANG_AT
 * (the instance's Nth handled message hangs that long before it counts as processed).
 */
export function writeLedgerHandler(options: LedgerHandlerOptions = {}): string {
  const root = repoRoot();
  const dir = options.dir ?? join(root, 'reports', 'ledger-handlers');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, options.fileName ?? `${options.name ?? 'ledger'}-${process.pid}.js`);
  const defaultHandler =
    options.defaultHandler ?? join(root, 'dist', 'services', 'consumer', 'handler.js');
  writeFileSync(
    file,
    `'use strict';
// Generated by scripts/lib/ledger.ts: the built-in handler, then one line per processed message.
const { appendFileSync } = require('node:fs');
const { handle: defaultHandle } = require(${JSON.stringify(defaultHandler)});
const file = process.env.LEDGER_PROCESSED_FILE;
if (!file) throw new Error('LEDGER_PROCESSED_FILE is not set');
const instance = process.env.LEDGER_INSTANCE || String(process.pid);
const delayMs = Number(process.env.LEDGER_DELAY_MS || 0);
const hangMs = Number(process.env.LEDGER_HANG_MS || 0);
const hangAt = Number(process.env.LEDGER_HANG_AT || 0);
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
let seen = 0;
exports.handle = async function handle(message, context) {
  await defaultHandle(message, context);
  seen += 1;
  if (hangMs > 0 && seen === hangAt) {
    context.logger.warn({ partition: message.partition, offset: message.offset, hangMs }, 'ledger handler: hanging');
    await sleep(hangMs);
    context.logger.warn({ partition: message.partition, offset: message.offset }, 'ledger handler: done hanging');
  }
  if (delayMs > 0) await sleep(delayMs);
  appendFileSync(file, message.topic + '\\t' + message.partition + '\\t' + message.offset + '\\t' + instance + '\\t' + Date.now() + '\\n');
};
`,
  );
  return file;
}

export function readProcessed(file: string): Processed[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [topic = '', partition = '', offset = '', instance = '', at = ''] = line.split('\t');
      return { topic, partition: Number(partition), offset, instance, at: Number(at) };
    });
}

/** A fresh, empty processed-record file under reports/ledgers (those older than a day are removed). */
export function newProcessedFile(label: string): string {
  const dir = join(repoRoot(), 'reports', 'ledgers');
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.processed.tsv'))) {
    const file = join(dir, name);
    const modified = statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? Date.now();
    if (Date.now() - modified > 86_400_000) rmSync(file, { force: true });
  }
  const file = join(dir, `${label}-${process.pid}-${Date.now().toString(36)}.processed.tsv`);
  writeFileSync(file, '');
  return file;
}

const position = (partition: number, offset: string) => `${partition}/${offset}`;

/** Waits until every record of `records` was processed at least once (reads `file` again and again). */
export async function waitForProcessed(
  file: string,
  topic: string,
  records: readonly KafkaRecord[],
  timeoutMs: number,
): Promise<Processed[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const processed = readProcessed(file).filter((p) => p.topic === topic);
    const seen = new Set(processed.map((p) => position(p.partition, p.offset)));
    const missing = records.filter((r) => !seen.has(position(r.partition, r.offset)));
    if (missing.length === 0 || Date.now() > deadline) return processed;
    await sleep(250);
  }
}

// ---------------------------------------------------------------------------------------------
// The ledger

/** A time span in which connection errors are expected (a service restarting) and duplicates may occur. */
export interface FaultWindow {
  label: string;
  from: number;
  to: number;
  /**
   * The consumer instances (LEDGER_INSTANCE) whose uncommitted work the fault may hand to
   * another: only their handlings count as in flight. Unset: any instance's.
   */
  instances?: string[];
}

export interface LedgerInput {
  requests: readonly RequestRecord[];
  kafka: LedgerTopic;
  processed: readonly Processed[];
  /** Spans in which the producer API was down or restarting: refused/reset connections allowed. */
  restartWindows?: readonly FaultWindow[];
  /**
   * Spans of faults that may cause duplicate processing (a consumer or broker stopped, a
   * rebalance): a duplicate whose first processing lies outside every window (widened by
   * duplicateSlackMs before it) is a violation.
   */
  faultWindows?: readonly FaultWindow[];
  /** How far before a fault a message may have been processed and not committed (default 5 s). */
  duplicateSlackMs?: number;
}

export interface LedgerReport {
  requests: number;
  messagesSent: number;
  acknowledged: number;
  answers: Record<string, number>;
  inKafka: number;
  /** Messages written although their request did not get a 2xx (allowed: a 503 says "may have been written"). */
  unacknowledgedInKafka: number;
  ackedMissingFromKafka: string[];
  ackedAtWrongPosition: string[];
  /** A message id stored more than once (the API's idempotent producer should make this 0). */
  duplicatedInKafka: string[];
  ackedNeverProcessed: string[];
  /** Records in Kafka (acknowledged or not) that the consumer never processed. */
  inKafkaNeverProcessed: string[];
  processedHandlings: number;
  /** Extra handlings of a position beyond the first. */
  duplicatesProcessed: number;
  /** Handlings that happened inside the fault windows: what was in flight, the bound of duplicates. */
  duplicateBound: number;
  duplicatesOutsideFaults: string[];
  orderViolations: string[];
  clientErrorsAllowed: Record<string, number>;
  clientErrorViolations: string[];
  faultWindows: FaultWindow[];
  restartWindows: FaultWindow[];
}

function overlaps(start: number, end: number, windows: readonly FaultWindow[]): boolean {
  return windows.some((w) => start <= w.to && end >= w.from);
}

function answerLabel(outcome: Outcome): string {
  if (outcome.kind === 'ok') return String(outcome.status);
  if (outcome.kind === 'http-error') return `${outcome.status} ${outcome.code ?? '(no code)'}`;
  return `${outcome.kind} ${outcome.error}`;
}

const first = <T>(items: T[], n = 5) => items.slice(0, n);

export function computeLedger(input: LedgerInput): LedgerReport {
  const restartWindows = [...(input.restartWindows ?? [])];
  const faultWindows = [...(input.faultWindows ?? [])];
  const slack = input.duplicateSlackMs ?? 5_000;

  const answers: Record<string, number> = {};
  const clientErrorsAllowed: Record<string, number> = {};
  const clientErrorViolations: string[] = [];
  const acked = new Map<string, { partition: number; offset: string; message: SentMessage }>();
  const sent = new Set<string>();
  for (const request of input.requests) {
    const label = answerLabel(request.outcome);
    answers[label] = (answers[label] ?? 0) + 1;
    for (const message of request.messages) sent.add(message.id);
    const { outcome } = request;
    if (outcome.kind === 'ok') {
      request.messages.forEach((message, i) => {
        const result = outcome.results[i];
        if (result) acked.set(message.id, { ...result, message });
        else clientErrorViolations.push(`2xx without a result for ${message.id}`);
      });
      continue;
    }
    const when = `at +${request.startedAt}..${request.endedAt}`;
    if (outcome.kind === 'http-error') {
      if (outcome.status === 503 && Number(outcome.retryAfter) > 0) {
        const key = `503 ${outcome.code ?? ''} (with Retry-After)`;
        clientErrorsAllowed[key] = (clientErrorsAllowed[key] ?? 0) + 1;
      } else {
        clientErrorViolations.push(
          `${outcome.status} ${outcome.code ?? ''} retry-after=${outcome.retryAfter ?? 'none'} ${when}`,
        );
      }
    } else if (
      (outcome.kind === 'refused' || outcome.kind === 'connection') &&
      overlaps(request.startedAt, request.endedAt, restartWindows)
    ) {
      const key = `${outcome.kind} ${outcome.error} (during a restart)`;
      clientErrorsAllowed[key] = (clientErrorsAllowed[key] ?? 0) + 1;
    } else {
      clientErrorViolations.push(`${outcome.kind} ${outcome.error} ${when}`);
    }
  }

  // Kafka, by message id and by position.
  const byId = new Map<string, KafkaRecord[]>();
  const byPosition = new Map<string, KafkaRecord>();
  for (const record of input.kafka.records) {
    byPosition.set(position(record.partition, record.offset), record);
    if (record.id === undefined || !sent.has(record.id)) continue;
    const list = byId.get(record.id) ?? [];
    list.push(record);
    byId.set(record.id, list);
  }
  const ackedMissingFromKafka: string[] = [];
  const ackedAtWrongPosition: string[] = [];
  for (const [id, ack] of acked) {
    const stored = byId.get(id);
    if (!stored)
      ackedMissingFromKafka.push(`${id} (acked at ${position(ack.partition, ack.offset)})`);
    else if (!stored.some((r) => r.partition === ack.partition && r.offset === ack.offset)) {
      ackedAtWrongPosition.push(
        `${id}: acked ${position(ack.partition, ack.offset)}, stored ${stored.map((r) => position(r.partition, r.offset)).join(' ')}`,
      );
    }
  }
  const duplicatedInKafka = [...byId].filter(([, list]) => list.length > 1).map(([id]) => id);
  const ours = input.kafka.records.filter((r) => r.id !== undefined && sent.has(r.id));
  const unacknowledgedInKafka = ours.filter((r) => r.id !== undefined && !acked.has(r.id)).length;

  // Processed, by position.
  const handlings = new Map<string, Processed[]>();
  for (const entry of input.processed) {
    if (entry.topic !== input.kafka.topic) continue;
    const key = position(entry.partition, entry.offset);
    const list = handlings.get(key) ?? [];
    list.push(entry);
    handlings.set(key, list);
  }
  const ackedNeverProcessed = [...acked]
    .filter(([, ack]) => !handlings.has(position(ack.partition, ack.offset)))
    .map(([id, ack]) => `${id} (${position(ack.partition, ack.offset)})`);
  const inKafkaNeverProcessed = ours
    .filter((r) => !handlings.has(position(r.partition, r.offset)))
    .map((r) => `${r.id ?? '?'} (${position(r.partition, r.offset)})`);
  let duplicatesProcessed = 0;
  const duplicatesOutsideFaults: string[] = [];
  const widened = faultWindows.map((w) => ({ ...w, from: w.from - slack }));
  const inFlight = (p: Processed) =>
    widened.some(
      (w) =>
        p.at >= w.from &&
        p.at <= w.to &&
        (w.instances === undefined || w.instances.includes(p.instance)),
    );
  for (const [where, list] of handlings) {
    if (list.length < 2) continue;
    duplicatesProcessed += list.length - 1;
    const firstHandling = list.reduce((a, b) => (b.at < a.at ? b : a));
    if (!inFlight(firstHandling)) {
      duplicatesOutsideFaults.push(
        `${where} handled ${list.length}× (${list.map((p) => `${p.instance}@${p.at}`).join(', ')})`,
      );
    }
  }
  const duplicateBound = input.processed.filter(
    (p) => p.topic === input.kafka.topic && inFlight(p),
  ).length;

  // Order: per key, later requests of the client land at later offsets of the same partition.
  const orderViolations: string[] = [];
  const byKey = new Map<string, Array<{ seq: number; partition: number; offset: bigint }>>();
  for (const [, ack] of acked) {
    const list = byKey.get(ack.message.key) ?? [];
    list.push({ seq: ack.message.seq, partition: ack.partition, offset: BigInt(ack.offset) });
    byKey.set(ack.message.key, list);
  }
  for (const [key, list] of byKey) {
    list.sort((a, b) => a.seq - b.seq);
    for (let i = 1; i < list.length; i += 1) {
      const [a, b] = [list[i - 1], list[i]];
      if (a && b && (a.partition !== b.partition || a.offset >= b.offset)) {
        orderViolations.push(
          `${key}: seq ${a.seq} at ${a.partition}/${a.offset}, seq ${b.seq} at ${b.partition}/${b.offset}`,
        );
      }
    }
  }

  return {
    requests: input.requests.length,
    messagesSent: sent.size,
    acknowledged: acked.size,
    answers,
    inKafka: ours.length,
    unacknowledgedInKafka,
    ackedMissingFromKafka,
    ackedAtWrongPosition,
    duplicatedInKafka,
    ackedNeverProcessed,
    inKafkaNeverProcessed,
    processedHandlings: [...handlings.values()].reduce((sum, list) => sum + list.length, 0),
    duplicatesProcessed,
    duplicateBound,
    duplicatesOutsideFaults,
    orderViolations,
    clientErrorsAllowed,
    clientErrorViolations,
    faultWindows,
    restartWindows,
  };
}

/** The lines that must be zero (empty when the promise held). */
export function ledgerProblems(
  report: LedgerReport,
  options: { processing?: boolean } = {},
): string[] {
  const problems: string[] = [];
  const check = (what: string, items: string[]) => {
    if (items.length > 0) problems.push(`${what}: ${items.length} (${first(items).join('; ')})`);
  };
  check('acknowledged messages missing from Kafka', report.ackedMissingFromKafka);
  check('acknowledged messages at another position than the API said', report.ackedAtWrongPosition);
  check('per-key order violations among acknowledged messages', report.orderViolations);
  check(
    'client-visible errors other than 503+Retry-After or refused connections during a restart',
    report.clientErrorViolations,
  );
  if (options.processing ?? true) {
    check('acknowledged messages never processed', report.ackedNeverProcessed);
    check('messages in Kafka never processed', report.inKafkaNeverProcessed);
    check(
      'duplicates processed outside any fault (not in-flight work)',
      report.duplicatesOutsideFaults,
    );
    if (report.duplicatesProcessed > report.duplicateBound) {
      problems.push(
        `duplicates processed ${report.duplicatesProcessed} > in-flight bound ${report.duplicateBound}`,
      );
    }
  }
  if (report.acknowledged === 0) problems.push('nothing was acknowledged: the load did not run');
  return problems;
}

export function formatLedger(label: string, report: LedgerReport): string {
  const n = (items: string[]) => String(items.length);
  const kv = (record: Record<string, number>) =>
    Object.entries(record)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ') || 'none';
  return [
    `── ledger: ${label}`,
    `  requests ${report.requests}, messages sent ${report.messagesSent}, acknowledged ${report.acknowledged}`,
    `  answers: ${kv(report.answers)}`,
    `  in Kafka: ${report.inKafka} (written without a 2xx: ${report.unacknowledgedInKafka}; stored twice: ${report.duplicatedInKafka.length})`,
    `  acknowledged missing from Kafka: ${n(report.ackedMissingFromKafka)}; at a wrong position: ${n(report.ackedAtWrongPosition)}`,
    `  acknowledged never processed: ${n(report.ackedNeverProcessed)}; in Kafka never processed: ${n(report.inKafkaNeverProcessed)}`,
    `  duplicates processed: ${report.duplicatesProcessed} (bound by in-flight work: ${report.duplicateBound}; outside faults: ${report.duplicatesOutsideFaults.length})`,
    `  per-key order violations: ${n(report.orderViolations)}`,
    `  client-visible errors allowed: ${kv(report.clientErrorsAllowed)}`,
    `  client-visible errors not allowed: ${n(report.clientErrorViolations)}${report.clientErrorViolations.length ? ` (${first(report.clientErrorViolations, 3).join('; ')})` : ''}`,
  ].join('\n');
}

/** Prints the ledger and keeps it as JSON in reports/ledgers/<label>.json. */
export function printLedger(label: string, report: LedgerReport): void {
  process.stdout.write(`${formatLedger(label, report)}\n`);
  const dir = join(repoRoot(), 'reports', 'ledgers');
  mkdirSync(dir, { recursive: true });
  const name = label.replace(/[^a-zA-Z0-9._-]+/g, '-');
  writeFileSync(join(dir, `${name}.json`), JSON.stringify({ label, ...report }, null, 2));
  const summary = join(dir, 'summary.txt');
  // The last few hundred ledgers are plenty.
  if ((statSync(summary, { throwIfNoEntry: false })?.size ?? 0) > 1_000_000) rmSync(summary);
  appendFileSync(summary, `${new Date().toISOString()}\n${formatLedger(label, report)}\n`);
}
