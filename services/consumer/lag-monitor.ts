/**
 * Publishes consumer lag for every partition of the subscribed topics, as the group
 * sees it (log-end and committed offsets from an admin client), so it stays right when
 * this instance is idle, stuck, or does not own the partition. It refreshes every
 * LAG_REFRESH_INTERVAL_MS and shortly after a batch was processed. How the numbers are
 * computed is described in lag.ts.
 *
 * Reading the timestamp of the record at the committed offset costs one small fetch
 * per lagging partition, and only when its committed offset moved: a stuck partition
 * reuses the timestamp it already read.
 *
 * Its refreshes are also the consumer's probe of Kafka: the group member alone notices a
 * lost cluster only when kafkajs gives up retrying (17–20 s). When refreshes have kept
 * failing for a whole refresh interval (two at least), `readiness()` says so, and the
 * first refresh that works again clears it.
 *
 * Refreshes never overlap (common/periodic.ts): one asked for during a refresh runs after it.
 */
import type { CheckResult } from '../common/health';
import type { Logger } from '../common/logger';
import { Periodic } from '../common/periodic';
import { ageSeconds, LogEndTimeline, partitionLag } from './lag';
import type { ConsumerMetrics } from './metrics';
import type { LagAdmin, RecordTimestamps } from './port';

export interface LagMonitorOptions {
  admin: LagAdmin;
  reader: RecordTimestamps;
  groupId: string;
  topics: readonly string[];
  intervalMs: number;
  metrics: ConsumerMetrics;
  logger: Logger;
  now?: () => number;
}

/** Refreshes that must fail in a row (for an interval or longer) before Kafka counts as unreachable. */
const FAILURES_BEFORE_UNREADY = 2;

/** Delay after a processed batch, so that the batch's commit has landed. */
const SOON_DELAY_MS = 250;

/** Per partition: when the oldest unconsumed record was appended; undefined when caught up. */
interface Oldest {
  labels: { topic: string; partition: string };
  appendedAtMs: number | undefined;
}

interface KnownTimestamp {
  offset: bigint;
  timestampMs: number | undefined;
}

export class LagMonitor {
  private readonly now: () => number;
  private readonly timelines = new Map<string, LogEndTimeline>();
  private readonly timestamps = new Map<string, KnownTimestamp>();
  private readonly oldest = new Map<string, Oldest>();
  private readonly schedule: Periodic;
  private connected = false;
  /** From the start of a refresh until the schedule has read the wait after it. */
  private refreshing = false;
  /** refreshSoon was called during a refresh: the next one follows the spacing rule. */
  private soonAfterRefresh = false;
  private lastStartedAt = 0;
  /** The last refresh's error, while refreshes fail. */
  private lastError: string | undefined;
  /** The last problem logged at warn, while refreshes fail. */
  private warnedError: string | undefined;
  private failuresInARow = 0;
  private failingSince: number | undefined;

  constructor(private readonly options: LagMonitorOptions) {
    this.now = options.now ?? Date.now;
    this.schedule = new Periodic({
      run: () => this.refreshLogged(),
      delayAfterRunMs: () => {
        this.refreshing = false;
        const soon = this.soonAfterRefresh;
        this.soonAfterRefresh = false;
        return soon ? Math.min(this.soonDelay(), options.intervalMs) : options.intervalMs;
      },
    });
    options.metrics.beforeLagSecondsScrape(() => this.publishLagSeconds());
  }

  /** Lag seconds is computed at scrape time, so it keeps growing between refreshes. */
  publishLagSeconds(): void {
    const now = this.now();
    for (const { labels, appendedAtMs } of this.oldest.values()) {
      this.options.metrics.lagSeconds.set(
        labels,
        appendedAtMs === undefined ? 0 : ageSeconds(now, appendedAtMs),
      );
    }
  }

  /** Not ready while Kafka cannot be reached (the last refreshes all failed). */
  readiness(): CheckResult {
    const failingForMs = this.failingSince === undefined ? 0 : this.now() - this.failingSince;
    if (this.failuresInARow < FAILURES_BEFORE_UNREADY || failingForMs < this.options.intervalMs) {
      return { ok: true };
    }
    return {
      ok: false,
      detail: `Kafka unreachable: the last ${this.failuresInARow} lag refreshes failed over ${failingForMs} ms (${this.lastError ?? 'unknown error'})`,
    };
  }

  /** Refreshes now, then every interval. */
  start(): void {
    this.schedule.start();
  }

  /**
   * Asks for a refresh soon; many calls in a short time cause one refresh. Soon is
   * SOON_DELAY_MS from now, and not sooner than min(interval, 1 s) after the last refresh
   * began; asked for during a refresh, it is counted from that refresh's end.
   */
  refreshSoon(): void {
    if (this.refreshing) this.soonAfterRefresh = true;
    else this.schedule.runWithin(this.soonDelay());
  }

  async stop(): Promise<void> {
    await this.schedule.stop();
    await Promise.allSettled([this.options.admin.disconnect(), this.options.reader.disconnect()]);
  }

  /**
   * Runs one refresh now; a request during a refresh runs once more after it. The schedule
   * goes on from its end.
   */
  refreshOnce(): Promise<void> {
    return this.schedule.runNow();
  }

  private soonDelay(): number {
    const spacing = Math.min(this.options.intervalMs, 1000);
    return Math.max(SOON_DELAY_MS, this.lastStartedAt + spacing - this.now());
  }

  /**
   * One refresh. A failed refresh is handled here (readiness, logs); what reaches the catch
   * is a bug in that handling, logged as one line (the schedule goes on).
   */
  private async refreshLogged(): Promise<void> {
    this.refreshing = true;
    try {
      this.lastStartedAt = this.now();
      await this.refresh().then(
        () => {
          this.publishLagSeconds();
          this.reportRecovery();
        },
        (error: unknown) => this.reportFailure(error),
      );
    } catch (error) {
      this.options.logger.error(
        { err: error, task: 'consumer lag refresh' },
        'consumer lag refresh failed unexpectedly',
      );
    }
  }

  private async refresh(): Promise<void> {
    const { admin, groupId, topics } = this.options;
    if (!this.connected) {
      await admin.connect();
      this.connected = true;
    }
    // Committed offsets first: read before the log ends, lag can only be overstated
    // by what arrived in between, never negative.
    const committed = await admin.committedOffsets(groupId, topics);
    const committedOf = new Map<string, bigint | undefined>();
    for (const { topic, partition, offset } of committed) {
      committedOf.set(`${topic}/${partition}`, offset);
    }
    await Promise.all(
      topics.map(async (topic) => {
        const ends = await admin.logOffsets(topic);
        const sampledAt = this.now();
        await Promise.all(
          ends.map(({ partition, logEnd, logStart }) =>
            this.updatePartition(topic, partition, {
              logEnd,
              logStart,
              committed: committedOf.get(`${topic}/${partition}`),
              sampledAt,
            }),
          ),
        );
      }),
    );
  }

  private async updatePartition(
    topic: string,
    partition: number,
    offsets: { logEnd: bigint; logStart: bigint; committed: bigint | undefined; sampledAt: number },
  ): Promise<void> {
    const key = `${topic}/${partition}`;
    const timeline = this.timelines.get(key) ?? new LogEndTimeline();
    this.timelines.set(key, timeline);
    timeline.record(offsets.logEnd, offsets.sampledAt);

    const lag = partitionLag(offsets);
    const labels = { topic, partition: String(partition) };
    if (lag.messages === 0n) {
      this.options.metrics.lagMessages.set(labels, 0);
      this.oldest.set(key, { labels, appendedAtMs: undefined });
      return;
    }
    const timestampMs = await this.oldestTimestamp(topic, partition, lag.oldestUnconsumed);
    // The timeline has just seen a log end past this offset, so it always has an answer.
    const appendedAtMs = timestampMs ?? timeline.appendedAt(lag.oldestUnconsumed)?.atMs;
    // Both gauges change together: set before the read above, a scrape in between saw the new
    // lag in messages beside the old lag in seconds (1,000 behind, 0 s old).
    this.options.metrics.lagMessages.set(labels, Number(lag.messages));
    if (appendedAtMs !== undefined) this.oldest.set(key, { labels, appendedAtMs });
  }

  /** Timestamp of the record at `offset`, read once per offset; undefined if unreadable. */
  private async oldestTimestamp(
    topic: string,
    partition: number,
    offset: bigint,
  ): Promise<number | undefined> {
    const key = `${topic}/${partition}`;
    const known = this.timestamps.get(key);
    if (known && known.offset === offset && known.timestampMs !== undefined) {
      return known.timestampMs;
    }
    try {
      const read = await this.options.reader.timestampAt(topic, partition, offset.toString());
      const timestampMs = read !== undefined && read >= 0 ? read : undefined;
      this.timestamps.set(key, { offset, timestampMs });
      return timestampMs;
    } catch (error) {
      this.options.logger.debug(
        { topic, partition, offset: offset.toString(), err: error },
        'could not read the oldest unconsumed record; estimating its time',
      );
      return undefined;
    }
  }

  private reportFailure(error: unknown): void {
    // Connecting again is cheap when the connection is fine and needed when it is not.
    this.connected = false;
    this.failuresInARow += 1;
    this.failingSince ??= this.lastStartedAt;
    const text = error instanceof Error ? error.message : String(error);
    this.lastError = text;
    // A failure that readiness still calls a blip is debug: at every start the first refresh
    // may meet a group coordinator still being elected ("This is not the correct coordinator").
    if (this.readiness().ok) {
      this.options.logger.debug({ err: error }, 'consumer lag refresh failed; trying again');
      return;
    }
    // Then one warning per distinct problem, not one per refresh.
    if (text !== this.warnedError) {
      this.options.logger.warn(
        { err: error },
        'consumer lag refresh failed; metrics keep the last values',
      );
      this.warnedError = text;
    }
  }

  private reportRecovery(): void {
    this.failuresInARow = 0;
    this.failingSince = undefined;
    this.lastError = undefined;
    if (this.warnedError !== undefined) {
      this.options.logger.info('consumer lag refresh works again');
      this.warnedError = undefined;
    }
  }
}
