/**
 * A steady stream of produce requests to the producer API, as a careful client sends them:
 * every message has a unique id, a request answered 503 is sent again (same messages) after
 * its Retry-After, and what the API acknowledged is remembered with its partition and offset.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface Acked {
  partition: number;
  offset: string;
}

export interface LoadOptions {
  apiUrl: string;
  topic: string;
  requestsPerSecond: number;
  messagesPerRequest: number;
  /** Distinct keys; messages of one key keep their order in one partition. */
  keys: number;
}

export interface LoadWindow {
  /** Messages acknowledged in this window. */
  acked: number;
  /** Answers 503 (the request is sent again later), by error code. */
  refused: Map<string, number>;
  /** Other failures: network errors, unexpected statuses (also sent again). */
  failed: number;
  slowestMs: number;
  /** Requests not answered 200 yet when the window was taken (in flight or waiting to retry). */
  pending: number;
}

interface ProduceAnswer {
  results?: Array<{ partition: number; offset: string }>;
  error?: { code?: string };
}

const MAX_IN_FLIGHT = 400;
const MAX_RETRY_AFTER_MS = 5_000;

export class SteadyLoad {
  /** Message id → where Kafka put it, for every acknowledged message. */
  readonly acked = new Map<string, Acked>();
  private sequence = 0;
  private requests = 0;
  private retriedRequests = 0;
  private inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private giveUpAt = Number.POSITIVE_INFINITY;
  private window: LoadWindow = emptyWindow();

  constructor(private readonly options: LoadOptions) {}

  start(): void {
    const interval = 1000 / this.options.requestsPerSecond;
    this.timer = setInterval(() => this.tick(), interval);
  }

  /** Sends nothing new; waits for the requests (and their retries) in flight, at most `graceMs`. */
  async stop(graceMs = 30_000): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.giveUpAt = Date.now() + graceMs;
    while (this.inFlight.size > 0) await Promise.race(this.inFlight);
  }

  /** What happened since the last call. */
  takeWindow(): LoadWindow {
    const window = { ...this.window, pending: this.inFlight.size };
    this.window = emptyWindow();
    return window;
  }

  totals(): { requests: number; retriedRequests: number; messagesSent: number; unacked: number } {
    return {
      requests: this.requests,
      retriedRequests: this.retriedRequests,
      messagesSent: this.sequence,
      unacked: this.sequence - this.acked.size,
    };
  }

  private tick(): void {
    if (this.stopped || this.inFlight.size >= MAX_IN_FLIGHT) return;
    const { messagesPerRequest, keys } = this.options;
    const messages = Array.from({ length: messagesPerRequest }, () => {
      const n = this.sequence++;
      const id = `m-${String(n).padStart(6, '0')}`;
      return { key: `customer-${n % keys}`, value: { id, n, sentAt: new Date().toISOString() } };
    });
    this.requests += 1;
    const request = this.send(messages).finally(() => this.inFlight.delete(request));
    this.inFlight.add(request);
  }

  private async send(messages: Array<{ key: string; value: { id: string } }>): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      if (attempt === 2) this.retriedRequests += 1;
      const started = performance.now();
      let retryAfterMs = 1_000;
      try {
        const response = await fetch(
          `${this.options.apiUrl}/v1/topics/${this.options.topic}/messages`,
          {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ messages }),
            signal: AbortSignal.timeout(30_000),
          },
        );
        const body = (await response.json().catch(() => ({}))) as ProduceAnswer;
        this.window.slowestMs = Math.max(this.window.slowestMs, performance.now() - started);
        if (response.status === 200 && body.results?.length === messages.length) {
          body.results.forEach((result, i) => {
            const id = messages[i]?.value.id;
            if (id !== undefined)
              this.acked.set(id, { partition: result.partition, offset: result.offset });
          });
          this.window.acked += messages.length;
          return;
        }
        if (response.status === 503) {
          const code = body.error?.code ?? 'unknown';
          this.window.refused.set(code, (this.window.refused.get(code) ?? 0) + 1);
          const seconds = Number(response.headers.get('retry-after'));
          if (Number.isFinite(seconds) && seconds > 0) retryAfterMs = seconds * 1000;
        } else {
          this.window.failed += 1;
        }
      } catch {
        this.window.failed += 1;
      }
      const wait = Math.min(retryAfterMs, MAX_RETRY_AFTER_MS);
      if (Date.now() + wait > this.giveUpAt) return; // never acknowledged: the client knows
      await sleep(wait);
    }
  }
}

function emptyWindow(): LoadWindow {
  return { acked: 0, refused: new Map(), failed: 0, slowestMs: 0, pending: 0 };
}
