/**
 * The batcher coalesces the records of concurrent requests into one Kafka request per
 * leader broker and flush (kafkajs has no linger of its own: every send() is a request).
 *
 * Its invariants are in its data structure:
 * - One FIFO queue per partition. A partition's queue is either waiting (records queued,
 *   nothing in flight) or in flight (one send holds its oldest records; what arrives meanwhile
 *   queues behind them). A flush takes only from waiting partitions, oldest records first
 *   across them, so a partition's queue order is its log order: with the idempotent producer a failed send
 *   has its sequence numbers rolled back and is retried, and a second send of that partition
 *   in flight at that moment would take those numbers and land first, reordering a key.
 * - A flush groups what it takes by the partition's leader (as the cluster monitor last saw
 *   it), and a leader has at most one send in flight. A broker that stops answering holds up
 *   only the partitions it leads; the other brokers' partitions keep flowing.
 * - A send holds at most BATCH_MAX_MESSAGES and BATCH_MAX_BYTES, and per partition the topic's
 *   max.message.bytes (each partition's records travel as one record batch, and the broker
 *   refuses a batch above that size). What does not fit waits for the next send, in order; a
 *   partition at its limit leaves room in the send for the others.
 * - Every record knows its partition before it is queued, and kafkajs keeps the order of a
 *   partition's records in the request, so the acknowledgement's base offset for a partition
 *   plus the record's position among that partition's records is its offset. Each request is
 *   resolved with its own results, in its own order.
 * - A flush leaves when the oldest queued record has waited BATCH_LINGER_MS, at once when a
 *   batch is full, and right after the previous send when that took longer.
 * - The buffer (queued + in flight) is bounded in messages and bytes: a request that does not
 *   fit is refused at once (buffer_full) instead of waiting.
 * - A send that fails with a request-specific error (a record too large for Kafka, a record
 *   Kafka refuses) is retried one request at a time, so only the request that holds the bad
 *   record fails.
 * - A request ends at its deadline (its AbortSignal): it fails with `timeout`, and its records
 *   not yet sent leave the queues.
 */
import type { PartitionAck, TopicBatch } from './leader-senders';
import { RECORD_BATCH_OVERHEAD_BYTES, type PlacedRecord } from './placement';
import type { RecordResult, WriterLoad } from './port';
import { WriteError } from './write-error';

/**
 * Sends one Kafka request; resolves with one acknowledgement per topic-partition. `leader`
 * is the broker that leads every partition in it, when known.
 */
export type SendFn = (batches: TopicBatch[], leader?: number) => Promise<PartitionAck[]>;

export interface BatcherOptions {
  send: SendFn;
  /** What a failed send means for its requests. */
  sendFailure: (error: unknown) => WriteError;
  lingerMs: number;
  maxBatchMessages: number;
  maxBatchBytes: number;
  bufferMaxMessages: number;
  bufferMaxBytes: number;
  /** The topic's max.message.bytes: largest record batch of one partition. */
  maxRecordBatchBytes: (topic: string) => number;
  /** The broker that leads a partition, as last known; sends are grouped by it. */
  leaderOf?: (topic: string, partition: number) => number | undefined;
  onBatchSent?: (topic: string, messages: number) => void;
  onSendFailure?: (error: WriteError) => void;
}

interface PendingRequest {
  readonly topic: string;
  readonly results: RecordResult[];
  readonly enqueuedAt: number;
  readonly signal: AbortSignal;
  remaining: number;
  unsentMessages: number;
  unsentBytes: number;
  settled: boolean;
  onAbort: () => void;
  resolve: (results: RecordResult[]) => void;
  reject: (error: WriteError) => void;
}

interface QueuedRecord {
  /** Arrival order across all queues. */
  readonly seq: number;
  readonly request: PendingRequest;
  readonly index: number;
  readonly record: PlacedRecord;
}

class PartitionQueue {
  private items: QueuedRecord[] = [];
  private head = 0;
  inFlight = false;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  push(item: QueuedRecord): void {
    this.items.push(item);
  }

  /** The oldest record of a request still waiting; records of ended requests are dropped. */
  peek(): QueuedRecord | undefined {
    while (this.head < this.items.length) {
      const item = this.items[this.head] as QueuedRecord;
      if (!item.request.settled) return item;
      this.head += 1;
    }
    this.items = [];
    this.head = 0;
    return undefined;
  }

  shift(): void {
    this.head += 1;
    if (this.head >= this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > COMPACT_AFTER && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

/** A queue a flush may take from, and what it took so far. */
interface Candidate {
  queue: PartitionQueue;
  group: SendGroup;
  inPartition: number;
  partitionLimit: number;
}

function removeAt<T>(list: T[], index: number): void {
  list[index] = list[list.length - 1] as T;
  list.pop();
}

/** The records of one send: one leader's. */
interface SendGroup {
  leader: number | undefined;
  items: QueuedRecord[];
  bytes: number;
  queues: PartitionQueue[];
  full: boolean;
}

const COMPACT_AFTER = 1024;

export class Batcher {
  /** Per topic, the queue of each partition (index = partition). */
  private readonly queues = new Map<string, PartitionQueue[]>();
  /** The queues with records and nothing in flight, in the order they started waiting. */
  private readonly waiting = new Set<PartitionQueue>();
  /** The leaders with a send in flight, and since when. */
  private readonly busyLeaders = new Map<number | undefined, number>();
  private queuedMessages = 0;
  private queuedBytes = 0;
  private inFlightMessages = 0;
  private inFlightBytes = 0;
  private sendsInFlight = 0;
  private nextSeq = 0;
  private draining = false;
  private closedWith: WriteError | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly active = new Set<PendingRequest>();
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: BatcherOptions) {}

  /** Messages waiting for Kafka: queued or in the requests in flight. */
  get bufferedMessages(): number {
    return this.queuedMessages + this.inFlightMessages;
  }

  load(): WriterLoad {
    return {
      requests: this.active.size,
      queuedMessages: this.queuedMessages,
      inFlightMessages: this.inFlightMessages,
    };
  }

  submit(topic: string, records: PlacedRecord[], signal: AbortSignal): Promise<RecordResult[]> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (records.length === 0) return Promise.resolve([]);
    if (signal.aborted) return Promise.reject(timedOut(false));
    const bytes = records.reduce((sum, record) => sum + record.bytes, 0);
    const buffered = this.bufferedMessages;
    const bufferedBytes = this.queuedBytes + this.inFlightBytes;
    // An empty buffer takes any request, so one larger than the limits is not refused forever.
    const overLimit =
      buffered + records.length > this.options.bufferMaxMessages ||
      bufferedBytes + bytes > this.options.bufferMaxBytes;
    if (buffered > 0 && overLimit) {
      return Promise.reject(
        new WriteError(
          'buffer_full',
          'too many messages are waiting for Kafka; retry shortly',
          false,
          { bufferedMessages: buffered },
        ),
      );
    }
    return new Promise<RecordResult[]>((resolve, reject) => {
      const request: PendingRequest = {
        topic,
        results: new Array<RecordResult>(records.length),
        enqueuedAt: Date.now(),
        signal,
        remaining: records.length,
        unsentMessages: records.length,
        unsentBytes: bytes,
        settled: false,
        onAbort: () => this.settle(request, timedOut(true)),
        resolve,
        reject,
      };
      signal.addEventListener('abort', request.onAbort, { once: true });
      this.active.add(request);
      records.forEach((record, index) => {
        const queue = this.queueOf(topic, record.partition);
        queue.push({ seq: this.nextSeq++, request, index, record });
        if (!queue.inFlight) this.waiting.add(queue);
      });
      this.queuedMessages += records.length;
      this.queuedBytes += bytes;
      this.schedule();
    });
  }

  /** Flushes without lingering from now on; resolves when nothing is queued or in flight. */
  drain(): Promise<void> {
    this.draining = true;
    this.schedule();
    return this.whenIdle();
  }

  /** Fails every request not yet answered (e.g. Kafka became unreachable). */
  failAll(error: WriteError): void {
    for (const request of [...this.active]) this.settle(request, error);
    this.waiting.clear();
  }

  /** Refuses new requests and fails the waiting ones with `error`. */
  close(error: WriteError): void {
    this.closedWith = error;
    this.clearTimers();
    this.failAll(error);
  }

  /** Whether a send to this leader has been in flight for longer than `ms`. */
  isLeaderStalled(leader: number, ms: number): boolean {
    const since = this.busyLeaders.get(leader);
    return since !== undefined && Date.now() - since > ms;
  }

  private queueOf(topic: string, partition: number): PartitionQueue {
    let partitions = this.queues.get(topic);
    if (!partitions) {
      partitions = [];
      this.queues.set(topic, partitions);
    }
    let queue = partitions[partition];
    if (!queue) {
      queue = new PartitionQueue(topic, partition);
      partitions[partition] = queue;
    }
    return queue;
  }

  private whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.active.size === 0 && this.sendsInFlight === 0;
  }

  private leaderOf(topic: string, partition: number): number | undefined {
    return this.options.leaderOf?.(topic, partition);
  }

  private notifyIfIdle(): void {
    if (!this.isIdle() || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    waiters.forEach((resolve) => resolve());
  }

  private schedule(): void {
    if (this.waiting.size === 0 || this.queuedMessages === 0 || this.immediate) return;
    const full =
      this.queuedMessages >= this.options.maxBatchMessages ||
      this.queuedBytes >= this.options.maxBatchBytes;
    if (!this.draining && !full && this.lingerTimer) return;
    const oldest = this.oldestWaiting();
    if (oldest === undefined) return;
    const wait = oldest + this.options.lingerMs - Date.now();
    if (this.draining || full || wait <= 0) {
      this.clearTimers();
      // setImmediate, not a direct call: requests parsed in the same tick share the flush.
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        this.flush();
      });
      return;
    }
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined;
      this.flush();
    }, wait);
  }

  /** When the oldest record that a flush could take now was queued. */
  private oldestWaiting(): number | undefined {
    let oldest: number | undefined;
    for (const queue of this.waiting) {
      const head = queue.peek();
      if (!head) {
        this.waiting.delete(queue);
        continue;
      }
      if (this.busyLeaders.has(this.leaderOf(queue.topic, queue.partition))) continue;
      const at = head.request.enqueuedAt;
      if (oldest === undefined || at < oldest) oldest = at;
    }
    return oldest;
  }

  private clearTimers(): void {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
  }

  private flush(): void {
    this.clearTimers();
    const groups = this.take();
    if (groups.length === 0) {
      this.notifyIfIdle();
      return;
    }
    for (const group of groups) this.startSend(group);
  }

  private startSend(group: SendGroup): void {
    const { items, bytes, leader, queues } = group;
    this.sendsInFlight += 1;
    this.busyLeaders.set(leader, Date.now());
    this.inFlightMessages += items.length;
    this.inFlightBytes += bytes;
    this.sendItems(items, leader)
      .catch(() => {
        // sendItems settles every request itself; this only guards against a bug there
        // leaving requests waiting until their deadline.
        const error = new WriteError('unavailable', 'internal error while sending', true);
        items.forEach((item) => this.settle(item.request, error));
      })
      .finally(() => {
        this.sendsInFlight -= 1;
        this.busyLeaders.delete(leader);
        for (const queue of queues) {
          queue.inFlight = false;
          if (queue.peek()) this.waiting.add(queue);
        }
        this.inFlightMessages -= items.length;
        this.inFlightBytes -= bytes;
        this.schedule();
        this.notifyIfIdle();
      })
      .catch(() => undefined);
  }

  /**
   * Takes records from the waiting queues into one send per free leader while they fit,
   * oldest record first across the queues (a merge of their FIFOs by arrival), so that no
   * partition's newest records go ahead of another's older ones. A queue that gave records
   * is in flight until that send ends.
   */
  private take(): SendGroup[] {
    const { maxBatchMessages, maxBatchBytes, maxRecordBatchBytes } = this.options;
    const groups = new Map<number | undefined, SendGroup>();
    const candidates: Candidate[] = [];
    for (const queue of this.waiting) {
      if (!queue.peek()) {
        this.waiting.delete(queue);
        continue;
      }
      const leader = this.leaderOf(queue.topic, queue.partition);
      if (this.busyLeaders.has(leader)) continue;
      let group = groups.get(leader);
      if (!group) {
        group = { leader, items: [], bytes: 0, queues: [], full: false };
        groups.set(leader, group);
      }
      const partitionLimit = maxRecordBatchBytes(queue.topic) - RECORD_BATCH_OVERHEAD_BYTES;
      candidates.push({ queue, group, inPartition: 0, partitionLimit });
    }
    while (candidates.length > 0) {
      let best = -1;
      let bestItem: QueuedRecord | undefined;
      for (let i = candidates.length - 1; i >= 0; i -= 1) {
        const candidate = candidates[i] as Candidate;
        const head = candidate.group.full ? undefined : candidate.queue.peek();
        if (!head) {
          // The last candidate moves into this slot; it was visited already.
          if (best === candidates.length - 1) best = i;
          removeAt(candidates, i);
          continue;
        }
        if (!bestItem || head.seq < bestItem.seq) {
          best = i;
          bestItem = head;
        }
      }
      if (!bestItem) break;
      const candidate = candidates[best] as Candidate;
      const { group, queue } = candidate;
      const { record, request } = bestItem;
      const sendFits =
        group.items.length < maxBatchMessages &&
        (group.items.length === 0 || group.bytes + record.bytes <= maxBatchBytes);
      if (!sendFits) {
        // This send is full: the rest waits for the next one, in order.
        group.full = true;
        continue;
      }
      if (
        candidate.inPartition > 0 &&
        candidate.inPartition + record.bytes > candidate.partitionLimit
      ) {
        // This partition's record batch is full; other partitions may still fit.
        removeAt(candidates, best);
        continue;
      }
      queue.shift();
      if (candidate.inPartition === 0) {
        queue.inFlight = true;
        this.waiting.delete(queue);
        group.queues.push(queue);
      }
      group.items.push(bestItem);
      group.bytes += record.bytes;
      candidate.inPartition += record.bytes;
      request.unsentMessages -= 1;
      request.unsentBytes -= record.bytes;
      this.queuedMessages -= 1;
      this.queuedBytes -= record.bytes;
    }
    return [...groups.values()].filter((group) => group.items.length > 0);
  }

  /** Sends records and settles their requests; never rejects. */
  private async sendItems(items: QueuedRecord[], leader: number | undefined): Promise<void> {
    const batches = new Map<string, PlacedRecord[]>();
    const partitions = new Map<string, QueuedRecord[]>();
    for (const item of items) {
      const { topic } = item.request;
      const records = batches.get(topic) ?? [];
      records.push(item.record);
      batches.set(topic, records);
      const key = partitionKeyOf(topic, item.record.partition);
      const group = partitions.get(key) ?? [];
      group.push(item);
      partitions.set(key, group);
    }
    let acks: PartitionAck[];
    try {
      acks = await this.options.send(
        [...batches].map(([topic, records]) => ({ topic, records })),
        leader,
      );
    } catch (error) {
      await this.handleFailure(items, error, leader);
      return;
    }
    for (const [topic, records] of batches) this.options.onBatchSent?.(topic, records.length);
    const baseOffsets = new Map(
      acks.map((ack) => [partitionKeyOf(ack.topic, ack.partition), ack.baseOffset]),
    );
    for (const [key, group] of partitions) {
      const base = parseOffset(baseOffsets.get(key));
      if (base === undefined) {
        const error = new WriteError(
          'unavailable',
          'Kafka did not acknowledge a partition of this request',
          true,
        );
        group.forEach((item) => this.settle(item.request, error));
        continue;
      }
      group.forEach((item, position) => this.deliver(item, base + BigInt(position)));
    }
  }

  private async handleFailure(
    items: QueuedRecord[],
    error: unknown,
    leader: number | undefined,
  ): Promise<void> {
    const failure = this.options.sendFailure(error);
    this.options.onSendFailure?.(failure);
    const requests = [...new Set(items.map((item) => item.request))].filter(
      (request) => !request.settled,
    );
    if (failure.requestSpecific && requests.length > 1) {
      for (const request of requests) {
        if (request.settled) continue;
        await this.sendItems(
          items.filter((item) => item.request === request),
          leader,
        );
      }
      return;
    }
    requests.forEach((request) => this.settle(request, failure));
  }

  private deliver(item: QueuedRecord, offset: bigint): void {
    const { request } = item;
    if (request.settled) return;
    request.results[item.index] = { partition: item.record.partition, offset: offset.toString() };
    request.remaining -= 1;
    if (request.remaining === 0) this.settle(request);
  }

  private settle(request: PendingRequest, error?: WriteError): void {
    if (request.settled) return;
    request.settled = true;
    request.signal.removeEventListener('abort', request.onAbort);
    this.active.delete(request);
    this.queuedMessages -= request.unsentMessages;
    this.queuedBytes -= request.unsentBytes;
    request.unsentMessages = 0;
    request.unsentBytes = 0;
    if (error) request.reject(error);
    else request.resolve(request.results);
    this.notifyIfIdle();
  }
}

const partitionKeyOf = (topic: string, partition: number) => `${topic}\u0000${partition}`;

function timedOut(buffered: boolean): WriteError {
  return new WriteError(
    'timeout',
    buffered
      ? 'Kafka did not acknowledge before the request deadline; the messages may have been written'
      : 'the request deadline passed before its messages were buffered',
    buffered,
  );
}

function parseOffset(value: string | undefined): bigint | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return BigInt(value);
}
