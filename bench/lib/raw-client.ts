/**
 * What the raw client rows (bench/workers/raw-*.ts) share, whatever the client: their configs
 * and result, the producer's timed send loop, and the consumer's measurement window.
 */
import { cpuSeconds, percentile } from './stats';

export interface RawProducerConfig {
  kind: 'producer';
  brokers: string[];
  topic: string;
  partitions: number;
  batchMessages: number;
  valueBytes: number;
  /** Consecutive messages sent to one partition before moving to the next. */
  chunk: number;
  warmupMessages: number;
  messages: number;
}

export interface RawConsumerConfig {
  kind: 'consumer';
  brokers: string[];
  topic: string;
  groupId: string;
  partitionsConsumedConcurrently: number;
  parseJson: boolean;
  warmupMessages: number;
  messages: number;
  timeoutMs: number;
}

export type RawConfig = RawProducerConfig | RawConsumerConfig;

export interface Measured {
  messages: number;
  seconds: number;
  /** CPU time (user + system) of this process in the measured part. */
  cpuSec: number;
}

export interface RawResult extends Measured {
  messagesPerSec: number;
  /** Producer: time of one batch send (ms). */
  sendMs?: { p50: number; p99: number };
}

/** The partition of the keyless message `index`: runs of `chunk` per partition, in turn. */
export function chunkedPartition(config: RawProducerConfig, index: number): number {
  return Math.floor(index / config.chunk) % config.partitions;
}

/**
 * Sends the warm-up, then the measured messages, each in batches of at most `batchMessages`
 * (`send(count)` sends one batch of `count` and settles when the broker acknowledged it).
 */
export async function measureSends(
  config: RawProducerConfig,
  send: (count: number) => Promise<unknown>,
): Promise<RawResult> {
  const sendUntil = async (total: number, times?: number[]) => {
    for (let sent = 0; sent < total;) {
      const count = Math.min(config.batchMessages, total - sent);
      const started = performance.now();
      await send(count);
      times?.push(performance.now() - started);
      sent += count;
    }
  };
  await sendUntil(config.warmupMessages);
  const times: number[] = [];
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await sendUntil(config.messages, times);
  const seconds = (performance.now() - started) / 1000;
  const cpuSec = cpuSeconds(process.cpuUsage(cpuBefore));
  times.sort((a, b) => a - b);
  return {
    messages: config.messages,
    seconds,
    messagesPerSec: config.messages / seconds,
    cpuSec,
    sendMs: { p50: percentile(times, 50) ?? 0, p99: percentile(times, 99) ?? 0 },
  };
}

/**
 * A consumer's measurement window: counting starts at the delivery that crosses the warm-up
 * count and ends at the one that reaches warm-up + messages, and covers what lies between.
 * `measured` settles then, or fails when the client fails or the time is up.
 */
export class MeasureWindow {
  readonly measured: Promise<Measured>;
  private readonly target: number;
  private count = 0;
  private countAtStart = 0;
  private startedAt: number | undefined;
  private cpuBefore: NodeJS.CpuUsage | undefined;
  private resolve: (measured: Measured) => void = () => undefined;
  private reject: (error: unknown) => void = () => undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly config: Pick<RawConsumerConfig, 'warmupMessages' | 'messages' | 'timeoutMs'>,
  ) {
    this.target = config.warmupMessages + config.messages;
    this.measured = new Promise<Measured>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.timer = setTimeout(
      () =>
        this.fail(
          new Error(`${this.count} of ${this.target} messages after ${config.timeoutMs} ms`),
        ),
      config.timeoutMs,
    );
  }

  /** Counts `delivered` more messages. */
  add(delivered: number): void {
    this.count += delivered;
    if (this.startedAt === undefined && this.count >= this.config.warmupMessages) {
      this.startedAt = performance.now();
      this.cpuBefore = process.cpuUsage();
      this.countAtStart = this.count;
    }
    if (this.count < this.target || this.startedAt === undefined) return;
    if (this.count === this.countAtStart) {
      this.fail(
        new Error('one delivery held both the warm-up and the measured messages: raise the count'),
      );
      return;
    }
    clearTimeout(this.timer);
    this.resolve({
      messages: this.count - this.countAtStart,
      seconds: (performance.now() - this.startedAt) / 1000,
      cpuSec: cpuSeconds(process.cpuUsage(this.cpuBefore)),
    });
  }

  fail(error: unknown): void {
    clearTimeout(this.timer);
    this.reject(error);
  }
}

/** 1 for a value that parses to an object, as the bench's values do. */
export function parsesToObject(value: Buffer | null | undefined): number {
  if (value === null || value === undefined) return 0;
  const parsed: unknown = JSON.parse(value.toString('utf8'));
  return typeof parsed === 'object' && parsed !== null ? 1 : 0;
}
