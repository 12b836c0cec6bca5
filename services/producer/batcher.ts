/**
 * The batcher coalesces the records of concurrent requests into one Kafka request per
 * leader broker and flush (kafkajs has no linger of its own: every send() is a request).
 *
 * - One FIFO queue of records. A partition is in at most ONE send in flight: with the
 *   idempotent producer a failed send has its sequence numbers rolled back and is
 *   retried; a second send of that partition in flight at that moment would take those
 *   sequence numbers and land first, reordering a key. So a partition's queue order is
 *   its log order.
 * - Sends are grouped by the partition's leader (as the cluster monitor last saw it), with
 *   at most one send in flight per leader. A broker that stops answering holds up only the
 *   requests for the partitions it leads; the other brokers' partitions keep flowing. (One
 *   send for every partition would make all requests wait for the slowest broker, and fail
 *   them all when it is gone.) Without leader information everything is one group.
 * - A flush takes records in queue order while they fit: BATCH_MAX_MESSAGES, BATCH_MAX_BYTES
 *   per send, and per partition the topic's max.message.bytes (each partition's records
 *   travel as one record batch, and the broker refuses a batch above that size). Records of
 *   a busy partition or leader stay queued, in order.
 * - Every record knows its partition before it is queued, and kafkajs keeps the order
 *   of a partition's records in the request, so the acknowledgement's base offset for a
 *   partition plus the record's position among that partition's records is its offset.
 *   Each request is resolved with its own results, in its own order.
 * - A flush leaves when the oldest queued record has waited BATCH_LINGER_MS, at once
 *   when a batch is full, and right after the previous send when that took longer.
 * - The buffer (queued + in flight) is bounded in messages and bytes: a request that
 *   does not fit is refused at once (503 buffer_full) instead of waiting.
 * - A send that fails with a request-specific error (a record too large for Kafka,
 *   a record Kafka refuses) is retried one request at a time, so only the request that
 *   holds the bad record fails.
 */
import { ApiError } from './errors';
import { RECORD_BATCH_OVERHEAD_BYTES, type OutgoingRecord } from './records';

export interface RecordResult {
  partition: number;
  offset: string;
}

export interface TopicBatch {
  topic: string;
  records: OutgoingRecord[];
}

export interface PartitionAck {
  topic: string;
  partition: number;
  baseOffset: string;
}

/**
 * Sends one Kafka request; resolves with one acknowledgement per topic-partition. `leader`
 * is the broker that leads every partition in it, when known.
 */
export type SendFn = (batches: TopicBatch[], leader?: number) => Promise<PartitionAck[]>;

export interface BatcherOptions {
  send: SendFn;
  /** The error a failed send becomes for its requests; status 422 means request-specific. */
  mapError: (error: unknown) => ApiError;
  lingerMs: number;
  maxBatchMessages: number;
  maxBatchBytes: number;
  bufferMaxMessages: number;
  bufferMaxBytes: number;
  /** The topic's max.message.bytes: largest record batch of one partition. */
  maxRecordBatchBytes: (topic: string) => number;
  /** The broker that leads a partition, as last known; sends are grouped by it. */
  leaderOf?: (topic: string, partition: number) => number | undefined;
  /** A request not acknowledged within this time gets 503 produce_timeout. */
  requestTimeoutMs: number;
  onBatchSent?: (topic: string, messages: number) => void;
  onSendFailure?: (error: unknown, mapped: ApiError) => void;
}

interface PendingRequest {
  readonly topic: string;
  readonly results: RecordResult[];
  readonly enqueuedAt: number;
  remaining: number;
  unsentMessages: number;
  unsentBytes: number;
  settled: boolean;
  timer: NodeJS.Timeout | undefined;
  resolve: (results: RecordResult[]) => void;
  reject: (error: ApiError) => void;
}

interface QueuedRecord {
  readonly request: PendingRequest;
  readonly index: number;
  readonly record: OutgoingRecord;
  /** Taken into a send (records behind a busy partition may be taken before it). */
  taken: boolean;
}

/** The records of one send: one leader's. */
interface SendGroup {
  leader: number | undefined;
  items: QueuedRecord[];
  bytes: number;
  partitionBytes: Map<string, number>;
  full: boolean;
}

const partitionKeyOf = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export interface BatcherStats {
  requests: number;
  queuedMessages: number;
  inFlightMessages: number;
}

const COMPACT_AFTER = 1024;

export class Batcher {
  private queue: QueuedRecord[] = [];
  private head = 0;
  private queuedMessages = 0;
  private queuedBytes = 0;
  private inFlightMessages = 0;
  private inFlightBytes = 0;
  private sendsInFlight = 0;
  private readonly busyPartitions = new Set<string>();
  /** The leaders with a send in flight, and since when. */
  private readonly busyLeaders = new Map<number | undefined, number>();
  /** Whether a flush may find records to take: none is scanned for while this is false. */
  private takeable = false;
  private draining = false;
  private closedWith: ApiError | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly active = new Set<PendingRequest>();
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: BatcherOptions) {}

  /** Messages waiting for Kafka: queued or in the requests in flight. */
  get bufferedMessages(): number {
    return this.queuedMessages + this.inFlightMessages;
  }

  stats(): BatcherStats {
    return {
      requests: this.active.size,
      queuedMessages: this.queuedMessages,
      inFlightMessages: this.inFlightMessages,
    };
  }

  submit(topic: string, records: OutgoingRecord[]): Promise<RecordResult[]> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (records.length === 0) return Promise.resolve([]);
    const bytes = records.reduce((sum, record) => sum + record.bytes, 0);
    const buffered = this.bufferedMessages;
    const bufferedBytes = this.queuedBytes + this.inFlightBytes;
    // An empty buffer takes any request, so one larger than the limits is not refused forever.
    const overLimit =
      buffered + records.length > this.options.bufferMaxMessages ||
      bufferedBytes + bytes > this.options.bufferMaxBytes;
    if (buffered > 0 && overLimit) {
      return Promise.reject(
        new ApiError('buffer_full', 'too many messages are waiting for Kafka; retry shortly', {
          bufferedMessages: buffered,
        }),
      );
    }
    return new Promise<RecordResult[]>((resolve, reject) => {
      const request: PendingRequest = {
        topic,
        results: new Array<RecordResult>(records.length),
        enqueuedAt: Date.now(),
        remaining: records.length,
        unsentMessages: records.length,
        unsentBytes: bytes,
        settled: false,
        timer: undefined,
        resolve,
        reject,
      };
      request.timer = setTimeout(() => {
        this.settle(
          request,
          new ApiError(
            'produce_timeout',
            `Kafka did not acknowledge within ${this.options.requestTimeoutMs} ms; the messages may have been written`,
          ),
        );
      }, this.options.requestTimeoutMs);
      this.active.add(request);
      records.forEach((record, index) => {
        this.queue.push({ request, index, record, taken: false });
        if (!this.takeable && this.isFree(topic, record.partition)) this.takeable = true;
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
  failAll(error: ApiError): void {
    for (const request of [...this.active]) this.settle(request, error);
    this.queue = [];
    this.head = 0;
  }

  /** Refuses new requests and fails the waiting ones with `error`. */
  close(error: ApiError): void {
    this.closedWith = error;
    this.clearTimers();
    this.failAll(error);
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

  /** Neither the partition nor its leader has a send in flight. */
  private isFree(topic: string, partition: number): boolean {
    return (
      !this.busyPartitions.has(partitionKeyOf(topic, partition)) &&
      !this.busyLeaders.has(this.leaderOf(topic, partition))
    );
  }

  /** Whether a send to this leader has been in flight for longer than `ms`. */
  isLeaderStalled(leader: number, ms: number): boolean {
    const since = this.busyLeaders.get(leader);
    return since !== undefined && Date.now() - since > ms;
  }

  private notifyIfIdle(): void {
    if (!this.isIdle() || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    waiters.forEach((resolve) => resolve());
  }

  private schedule(): void {
    if (!this.takeable || this.queuedMessages === 0 || this.immediate) return;
    const full =
      this.queuedMessages >= this.options.maxBatchMessages ||
      this.queuedBytes >= this.options.maxBatchBytes;
    const oldest = this.oldestQueued();
    const wait = oldest === undefined ? 0 : oldest + this.options.lingerMs - Date.now();
    if (this.draining || full || wait <= 0) {
      this.clearTimers();
      // setImmediate, not a direct call: requests parsed in the same tick share the flush.
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        this.flush();
      });
      return;
    }
    this.lingerTimer ??= setTimeout(() => {
      this.lingerTimer = undefined;
      this.flush();
    }, wait);
  }

  private oldestQueued(): number | undefined {
    for (let i = this.head; i < this.queue.length; i += 1) {
      const item = this.queue[i];
      if (item && !item.taken && !item.request.settled) return item.request.enqueuedAt;
    }
    return undefined;
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
    const { items, bytes, leader } = group;
    this.sendsInFlight += 1;
    this.busyLeaders.set(leader, Date.now());
    for (const key of group.partitionBytes.keys()) this.busyPartitions.add(key);
    this.inFlightMessages += items.length;
    this.inFlightBytes += bytes;
    void this.sendItems(items, leader)
      .catch(() => {
        // sendItems settles every request itself; this only guards against a bug there
        // leaving requests waiting until their timeout.
        const error = new ApiError('internal', 'internal error');
        items.forEach((item) => this.settle(item.request, error));
      })
      .finally(() => {
        this.sendsInFlight -= 1;
        this.busyLeaders.delete(leader);
        for (const key of group.partitionBytes.keys()) this.busyPartitions.delete(key);
        this.inFlightMessages -= items.length;
        this.inFlightBytes -= bytes;
        // Records that waited for this partition or leader may go now.
        this.takeable = true;
        this.schedule();
        this.notifyIfIdle();
      });
  }

  /**
   * Takes queued records, oldest first, into one send per free leader while they fit. A
   * record whose partition or leader is busy stays queued, and so does every later record
   * of its partition.
   */
  private take(): SendGroup[] {
    const { maxBatchMessages, maxBatchBytes, maxRecordBatchBytes } = this.options;
    const groups = new Map<number | undefined, SendGroup>();
    const held = new Set<string>();
    let leftTakeable = false;
    for (let i = this.head; i < this.queue.length; i += 1) {
      const item = this.queue[i];
      if (!item || item.taken || item.request.settled) continue;
      const { record, request } = item;
      const key = partitionKeyOf(request.topic, record.partition);
      if (held.has(key) || this.busyPartitions.has(key)) continue;
      const leader = this.leaderOf(request.topic, record.partition);
      if (this.busyLeaders.has(leader)) {
        held.add(key);
        continue;
      }
      let group = groups.get(leader);
      if (!group) {
        group = { leader, items: [], bytes: 0, partitionBytes: new Map(), full: false };
        groups.set(leader, group);
      }
      const inPartition = group.partitionBytes.get(key) ?? 0;
      const partitionLimit = maxRecordBatchBytes(request.topic) - RECORD_BATCH_OVERHEAD_BYTES;
      const fits =
        !group.full &&
        group.items.length < maxBatchMessages &&
        (group.items.length === 0 || group.bytes + record.bytes <= maxBatchBytes) &&
        (inPartition === 0 || inPartition + record.bytes <= partitionLimit);
      if (!fits) {
        // This send is full: the rest waits for the next one, in order.
        group.full = true;
        held.add(key);
        leftTakeable = true;
        continue;
      }
      item.taken = true;
      group.items.push(item);
      group.bytes += record.bytes;
      group.partitionBytes.set(key, inPartition + record.bytes);
      request.unsentMessages -= 1;
      request.unsentBytes -= record.bytes;
      this.queuedMessages -= 1;
      this.queuedBytes -= record.bytes;
    }
    this.takeable = leftTakeable;
    this.compact();
    return [...groups.values()].filter((group) => group.items.length > 0);
  }

  /** Drops taken and settled records from the head of the queue. */
  private compact(): void {
    while (this.head < this.queue.length) {
      const item = this.queue[this.head];
      if (item && !item.taken && !item.request.settled) break;
      this.head += 1;
    }
    if (this.head >= this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > COMPACT_AFTER && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /** Sends records and settles their requests; never rejects. */
  private async sendItems(items: QueuedRecord[], leader: number | undefined): Promise<void> {
    const batches = new Map<string, OutgoingRecord[]>();
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
        const error = new ApiError(
          'kafka_unavailable',
          'Kafka did not acknowledge a partition of this request',
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
    const mapped = this.options.mapError(error);
    this.options.onSendFailure?.(error, mapped);
    const requests = [...new Set(items.map((item) => item.request))].filter(
      (request) => !request.settled,
    );
    if (mapped.status === 422 && requests.length > 1) {
      for (const request of requests) {
        if (request.settled) continue;
        await this.sendItems(
          items.filter((item) => item.request === request),
          leader,
        );
      }
      return;
    }
    requests.forEach((request) => this.settle(request, mapped));
  }

  private deliver(item: QueuedRecord, offset: bigint): void {
    const { request } = item;
    if (request.settled) return;
    request.results[item.index] = { partition: item.record.partition, offset: offset.toString() };
    request.remaining -= 1;
    if (request.remaining === 0) this.settle(request);
  }

  private settle(request: PendingRequest, error?: ApiError): void {
    if (request.settled) return;
    request.settled = true;
    clearTimeout(request.timer);
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

function parseOffset(value: string | undefined): bigint | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return BigInt(value);
}
