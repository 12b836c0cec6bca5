/**
 * The first shutdown step: stop taking requests and let the ones in progress finish,
 * their records flushed at once and acknowledged. At the deadline the requests still
 * waiting get 503 shutting_down, the connections are cut, and the step fails so the exit
 * code and the log say that work was abandoned.
 */
import { withTimeout } from '../common/deadline';
import { runDetached } from '../common/detached';
import type { Logger } from '../common/logger';
import type { WriterLoad } from './kafka';

export interface ClosableServer {
  /** Stops accepting; resolves when every connection has ended. */
  close(): Promise<void>;
  closeIdle(): void;
  closeAll(): void;
}

export interface DrainableWriter {
  drain(): Promise<void>;
  load(): WriterLoad;
  /** Fails the writes still waiting (answered 503 shutting_down). */
  abandon(message: string): void;
}

/** How long the 503 answers of abandoned requests get to be written before connections are cut. */
const ANSWER_GRACE_MS = 500;
const IDLE_SWEEP_MS = 50;

export async function finishRequests(
  http: ClosableServer,
  writer: DrainableWriter,
  deadlineMs: number,
  logger: Logger,
): Promise<void> {
  // Draining first makes every queued batch leave now instead of after its linger; the
  // second drain covers requests whose bodies were still arriving when the server closed.
  runDetached(writer.drain(), logger, 'draining the Kafka writer');
  const closed = http.close();
  // A keep-alive connection whose answer left before shutdown began (so without
  // Connection: close) would otherwise stay open until its client or the keep-alive
  // timeout ends it: end each one as soon as it has no request in progress.
  const sweep = setInterval(() => http.closeIdle(), IDLE_SWEEP_MS);
  const finished = closed.then(() => writer.drain());
  const inTime = await withTimeout(
    finished.then(() => true),
    Math.max(0, deadlineMs),
    'shutdown deadline',
  )
    .catch(() => false)
    .finally(() => clearInterval(sweep));
  if (inTime) return;
  const left = writer.load();
  writer.abandon(
    'the service stopped before Kafka acknowledged; the messages may have been written',
  );
  await withTimeout(closed, ANSWER_GRACE_MS, 'answers to abandoned requests').catch(
    () => undefined,
  );
  http.closeAll();
  logger.error({ abandoned: left }, 'shutdown deadline: requests still waiting got 503');
  throw new Error(`abandoned ${left.requests} requests at the shutdown deadline`);
}
