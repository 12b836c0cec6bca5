/**
 * The kafkajs consumer: group membership, the batch loop and its commits. This is the
 * consumer's kafkajs adapter: it turns kafkajs' messages into ConsumedMessage, hands each to
 * the processor (which knows nothing of kafkajs) and turns the outcome into kafkajs' offset
 * resolution, pause and resume.
 *
 * Each partition is handled sequentially; PARTITIONS_CONSUMED_CONCURRENTLY partitions
 * run side by side. In a batch every message is processed; the last handled offset is
 * resolved every 200 ms (then a heartbeat is sent and resolved offsets are committed if
 * due) and when the batch ends or is left. A stale batch (after a seek) is left at the
 * next housekeeping. An offset is resolved only when its message was processed or
 * dead-lettered, and only resolved offsets are committed. Auto-resolve of whole batches is
 * off, so leaving a batch early (shutdown, stale batch, blocked dead letter) commits nothing
 * past the last handled message. While one message is being handled, a timer keeps
 * heartbeating, so a handler slower than the session timeout keeps its partitions.
 *
 * Commits are ours, not kafkajs': kafkajs would commit after every batch, a round trip to the
 * group coordinator that the partition's next fetch waits for (at 1,000 msgs/s that is most
 * batches). Resolved offsets are committed when the commit interval has passed (checked at
 * each batch's end and every 200 ms while idle), and all of them at once when a heartbeat
 * fails, when kafkajs says the group is rebalancing (before it rejoins, while this member
 * still owns its partitions) and on stop, so that neither a graceful stop nor a rebalance
 * hands anything handled to be handled again.
 */
import type { CheckResult } from '../common/health';
import type {
  Consumer,
  ConsumerConfig,
  EachBatchPayload,
  Kafka,
  KafkaMessage,
} from '../common/kafka';
import type { Logger } from '../common/logger';
import { CommitFailureLog, type ForcedCommitReason } from './commit-failure-log';
import { crashLog } from './crash-log';
import { partitionKey, positionOf, type ConsumedMessage } from './message';
import type { ConsumerMetrics } from './metrics';
import type { MessageProcessor } from './processor';
import { backoffDelay, type BackoffPolicy } from './retry';

export interface RunnerOptions {
  kafka: Kafka;
  logger: Logger;
  metrics: ConsumerMetrics;
  processor: MessageProcessor;
  groupId: string;
  topics: readonly string[];
  partitionsConsumedConcurrently: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** Longest time a resolved offset waits for its commit. */
  commitIntervalMs: number;
  /** Pause of a partition whose dead-letter write failed, growing with repeated failures. */
  blockedBackoff: BackoffPolicy;
  /** Called after each offset commit (the lag monitor refreshes sooner). */
  onOffsetsCommitted?: () => void;
}

type Headers = Record<string, Buffer | Buffer[] | undefined>;

/** kafkajs' commit functions; the same for every batch of one run of the consumer. */
type Commits = Pick<EachBatchPayload, 'commitOffsetsIfNecessary' | 'uncommittedOffsets'>;

/** How often a long batch stops to heartbeat and commit what it resolved (and, while idle, how
 * often a due commit is looked for). */
const HOUSEKEEPING_INTERVAL_MS = 200;

/**
 * The group member's settings; the bench's end-to-end reference row uses them too, so that
 * its Kafka leg is fetched as ours is.
 */
export function consumerSettings(
  groupId: string,
  sessionTimeoutMs: number,
  heartbeatIntervalMs: number,
): ConsumerConfig {
  return {
    groupId,
    sessionTimeout: sessionTimeoutMs,
    heartbeatInterval: heartbeatIntervalMs,
    // An idle fetch returns at least this often, so a rebalance is noticed quickly.
    maxWaitTimeInMs: Math.min(heartbeatIntervalMs, 5000),
    allowAutoTopicCreation: false,
  };
}

export function toConsumedMessage(
  topic: string,
  partition: number,
  message: KafkaMessage,
): ConsumedMessage {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key,
    value: message.value,
    // kafkajs decodes header values as Buffers (an array when a name repeats).
    headers: (message.headers ?? {}) as Headers,
    timestamp: Number(message.timestamp),
  };
}

export class ConsumerRunner {
  private readonly consumer: Consumer;
  private readonly shutdown = new AbortController();
  private readonly resumeTimers = new Set<NodeJS.Timeout>();
  private readonly blockedCount = new Map<string, number>();
  private joined = false;
  /** Joined the group at least once: coordinator errors before that are Kafka starting. */
  private everJoined = false;
  private assignedCount = 0;
  private fatal: Error | undefined;
  private commits: Commits | undefined;
  private commitTimer: NodeJS.Timeout | undefined;
  private readonly commitFailures: CommitFailureLog;

  constructor(private readonly options: RunnerOptions) {
    this.commitFailures = new CommitFailureLog(options.logger);
    this.consumer = options.kafka.consumer(
      consumerSettings(options.groupId, options.sessionTimeoutMs, options.heartbeatIntervalMs),
    );
    this.watchEvents();
  }

  private watchEvents(): void {
    const { consumer, options } = this;
    const { logger, metrics } = options;
    const { GROUP_JOIN, REBALANCING, CRASH, STOP, COMMIT_OFFSETS } = consumer.events;
    consumer.on(GROUP_JOIN, ({ payload }) => {
      this.joined = true;
      this.everJoined = true;
      this.fatal = undefined;
      this.assignedCount = Object.values(payload.memberAssignment).reduce(
        (sum, partitions) => sum + partitions.length,
        0,
      );
      metrics.rebalances.inc();
      metrics.assignedPartitions.set(this.assignedCount);
      logger.info(
        {
          memberId: payload.memberId,
          isLeader: payload.isLeader,
          assignment: payload.memberAssignment,
          partitions: this.assignedCount,
          durationMs: payload.duration,
        },
        'joined consumer group',
      );
    });
    consumer.on(REBALANCING, () => {
      logger.info('consumer group is rebalancing');
      // Sent before kafkajs' JoinGroup on the same connection, so the coordinator takes it
      // while this member still owns its partitions.
      this.commitResolved('rebalance').catch(() => undefined); // it logs its own failure
    });
    consumer.on(CRASH, ({ payload }) => {
      this.joined = false;
      // A restarted consumer is a new run with its own offsets.
      this.commits = undefined;
      metrics.assignedPartitions.set(0);
      if (!payload.restart) this.fatal = payload.error;
      const { level, message } = crashLog(payload.error, payload.restart, this.everJoined);
      logger[level]({ err: payload.error, restart: payload.restart }, message);
    });
    consumer.on(STOP, () => {
      this.joined = false;
      metrics.assignedPartitions.set(0);
    });
    // Lag is the committed offset's distance from the end: it moves when a commit lands.
    consumer.on(COMMIT_OFFSETS, () => {
      this.commitFailures.committed();
      options.onOffsetsCommitted?.();
    });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.options.topics], fromBeginning: true });
    await this.consumer.run({
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently,
      eachBatchAutoResolve: false,
      autoCommit: false,
      // What commitOffsetsIfNecessary() waits for.
      autoCommitInterval: this.options.commitIntervalMs,
      eachBatch: (payload) => this.eachBatch(payload),
    });
    this.commitTimer = setInterval(() => this.commitIfDue(), HOUSEKEEPING_INTERVAL_MS);
  }

  /** Commits the resolved offsets when the commit interval has passed since the last commit. */
  private commitIfDue(): void {
    this.commits?.commitOffsetsIfNecessary().catch((error: unknown) => {
      // A rebalance or a lost coordinator: the next check tries again.
      this.options.logger.debug({ err: error }, 'commit failed; tried again at the next check');
    });
  }

  /** Commits every resolved offset now. */
  private async commitResolved(reason: ForcedCommitReason): Promise<void> {
    const commits = this.commits;
    if (!commits) return;
    try {
      await commits.commitOffsetsIfNecessary(commits.uncommittedOffsets());
    } catch (error) {
      this.commitFailures.failed(error, reason);
    }
  }

  /** Stops fetching, lets the message in hand finish, commits, and leaves the group. */
  async stop(): Promise<void> {
    this.shutdown.abort();
    clearInterval(this.commitTimer);
    for (const timer of this.resumeTimers) clearTimeout(timer);
    this.resumeTimers.clear();
    // What idle partitions handled; a batch in hand commits its own when it ends, before
    // kafkajs leaves the group.
    await this.commitResolved('stop');
    await this.consumer.disconnect();
  }

  readiness(): CheckResult {
    if (!this.joined) return { ok: false, detail: 'not a member of the consumer group' };
    return {
      ok: true,
      detail: `member of ${this.options.groupId}, ${this.assignedCount} partitions`,
    };
  }

  /** Fails only when kafkajs gave up for good; a Kafka outage alone restarts the consumer. */
  liveness(): CheckResult {
    if (this.fatal) return { ok: false, detail: `consumer crashed: ${this.fatal.message}` };
    return { ok: true };
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, commitOffsetsIfNecessary, isRunning, isStale, pause } = payload;
    const { processor } = this.options;
    const signal = this.shutdown.signal;
    // Kept for the commits outside a batch (idle, rebalance, stop); each batch's are the same
    // functions, kept anew so that no old batch stays referenced.
    this.commits = {
      commitOffsetsIfNecessary: payload.commitOffsetsIfNecessary,
      uncommittedOffsets: payload.uncommittedOffsets,
    };
    // A failed heartbeat is how a rebalance usually shows: commit before kafkajs rejoins.
    const heartbeat = async () => {
      try {
        await payload.heartbeat();
      } catch (error) {
        await this.commitResolved('heartbeat failed');
        throw error;
      }
    };
    // kafkajs sends a heartbeat only when the interval has passed and shares one request
    // among concurrent callers; an error here resurfaces at the next heartbeat below.
    const keepAlive = setInterval(
      () => void payload.heartbeat().catch(() => undefined),
      this.options.heartbeatIntervalMs,
    );
    let lastHousekeeping = Date.now();
    // The offset of the last message handled or dead-lettered, resolved with kafkajs only
    // before a heartbeat/commit and when the batch ends: resolving parses the offset into a
    // 64-bit Long, which cost more per message than the rest of this loop.
    let handledOffset: string | undefined;
    const resolveHandled = () => {
      if (handledOffset !== undefined) resolveOffset(handledOffset);
      handledOffset = undefined;
    };
    try {
      // A seek (this service never seeks) makes the rest of the batch stale; kafkajs builds a
      // key string to check it, so it is checked with the housekeeping, not per message.
      if (isStale()) return;
      for (const kafkaMessage of batch.messages) {
        if (!isRunning() || signal.aborted) break;
        const message = toConsumedMessage(batch.topic, batch.partition, kafkaMessage);
        const processed = processor.process(message, signal);
        const outcome = typeof processed === 'string' ? processed : await processed;
        if (outcome === 'interrupted') break;
        if (outcome === 'blocked') {
          this.pauseBlocked(message, pause);
          break;
        }
        if (this.blockedCount.size > 0) {
          this.blockedCount.delete(partitionKey(message));
        }
        handledOffset = message.offset;
        // Both are cheap no-ops most of the time, but awaiting them after every message cost
        // more than the default handler itself; the batch's end does both anyway.
        const now = Date.now();
        if (now - lastHousekeeping >= HOUSEKEEPING_INTERVAL_MS) {
          lastHousekeeping = now;
          resolveHandled();
          await heartbeat();
          await commitOffsetsIfNecessary();
          if (isStale()) break;
        }
      }
    } finally {
      clearInterval(keepAlive);
      resolveHandled();
    }
    if (signal.aborted || !isRunning()) {
      await this.commitResolved('stop');
      return;
    }
    // kafkajs heartbeats after each batch too; this one comes first, so a rebalance it reveals
    // is seen here, where the resolved offsets can still be committed.
    await heartbeat();
    await commitOffsetsIfNecessary();
  }

  /** Pauses the partition; when it resumes, kafkajs fetches again from the blocked offset. */
  private pauseBlocked(message: ConsumedMessage, pause: () => () => void): void {
    const key = partitionKey(message);
    const failures = (this.blockedCount.get(key) ?? 0) + 1;
    this.blockedCount.set(key, failures);
    const delayMs = backoffDelay(failures, this.options.blockedBackoff);
    const resume = pause();
    this.options.logger.warn(
      { ...positionOf(message), resumeInMs: delayMs },
      'partition paused until the dead-letter write can be retried',
    );
    const timer = setTimeout(() => {
      this.resumeTimers.delete(timer);
      resume();
    }, delayMs);
    this.resumeTimers.add(timer);
  }
}
