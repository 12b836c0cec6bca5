/**
 * The first shutdown step: stop taking requests and let the ones in progress finish,
 * their batches flushed at once and acknowledged. At the deadline the requests still
 * waiting get 503 shutting_down, the connections are cut, and the step fails so the exit
 * code and the log say that work was abandoned.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../common/logger';
import type { BatcherStats } from './batcher';
import { ApiError } from './errors';

export interface ClosableServer {
  /** Stops accepting; resolves when every connection has ended. */
  close(): Promise<void>;
  closeIdle(): void;
  closeAll(): void;
}

export interface DrainableBatcher {
  drain(): Promise<void>;
  stats(): BatcherStats;
  close(error: ApiError): void;
}

/** How long the 503 answers of abandoned requests get to be written before connections are cut. */
const ANSWER_GRACE_MS = 500;
const IDLE_SWEEP_MS = 50;

export async function finishRequests(
  http: ClosableServer,
  batcher: DrainableBatcher,
  deadlineMs: number,
  logger: Logger,
): Promise<void> {
  // Draining first makes every queued batch leave now instead of after its linger; the
  // second drain covers requests whose bodies were still arriving when the server closed.
  void batcher.drain();
  const closed = http.close();
  // A keep-alive connection whose answer left before shutdown began (so without
  // Connection: close) would otherwise stay open until its client or the keep-alive
  // timeout ends it: end each one as soon as it has no request in progress.
  const sweep = setInterval(() => http.closeIdle(), IDLE_SWEEP_MS);
  const finished = closed.then(() => batcher.drain());
  const inTime = await Promise.race([
    finished.then(() => true),
    sleep(Math.max(0, deadlineMs), false, { ref: false }),
  ]).finally(() => clearInterval(sweep));
  if (inTime) return;
  const left = batcher.stats();
  batcher.close(
    new ApiError(
      'shutting_down',
      'the service stopped before Kafka acknowledged; the messages may have been written',
    ),
  );
  await Promise.race([closed, sleep(ANSWER_GRACE_MS, undefined, { ref: false })]);
  http.closeAll();
  logger.error({ abandoned: left }, 'shutdown deadline: requests still waiting got 503');
  throw new Error(`abandoned ${left.requests} requests at the shutdown deadline`);
}
