/**
 * A TCP forwarder in front of one broker that reads Kafka's framing (a 4-byte size, then the
 * frame) and can drop the broker's answers to chosen requests: the request reaches the broker
 * and is acted on, only the client never hears back, as when an answer is lost on the way or
 * comes after the client stopped waiting. Everything else passes unchanged and in order.
 *
 * A request frame starts with its API key (int16), API version (int16) and correlation id
 * (int32); an answer frame starts with the correlation id. Ids are per connection, so each
 * connection keeps its own set of answers to drop.
 */
import type { Socket } from 'node:net';
import { TcpServer } from '../../scripts/lib/tcp-server';

/** Kafka's API key of Produce requests. */
export const PRODUCE_API_KEY = 0;

export interface DroppedAnswer {
  apiKey: number;
  correlationId: number;
  connection: number;
  /** Epoch ms when the answer was dropped. */
  at: number;
}

/** Splits a byte stream into size-prefixed frames; hands each whole frame to `onFrame`. */
class FrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (frame: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 4) {
      const end = 4 + this.buffered.readInt32BE(0);
      if (this.buffered.length < end) return;
      this.onFrame(this.buffered.subarray(0, end));
      this.buffered = this.buffered.subarray(end);
    }
  }
}

export class AnswerDroppingForwarder extends TcpServer {
  readonly dropped: DroppedAnswer[] = [];
  /** Requests seen, by API key. */
  readonly requests = new Map<number, number>();
  private readonly toDrop = new Map<number, number>();
  private connections = 0;

  constructor(
    readonly listenHost: string,
    readonly listenPort: number,
    readonly targetPort: number,
  ) {
    super();
  }

  /** The answers to the next `count` requests with this API key are dropped. */
  dropAnswers(apiKey: number, count: number): void {
    this.toDrop.set(apiKey, (this.toDrop.get(apiKey) ?? 0) + count);
  }

  async start(): Promise<void> {
    await this.listen(this.listenPort, this.listenHost);
  }

  protected accept(client: Socket): void {
    this.connections += 1;
    const connection = this.connections;
    const upstream = this.upstreamFor(client, this.targetPort);

    /** Correlation ids whose answers are dropped, with their API key. */
    const dropping = new Map<number, number>();
    const requests = new FrameReader((frame) => {
      const apiKey = frame.readInt16BE(4);
      const correlationId = frame.readInt32BE(8);
      this.requests.set(apiKey, (this.requests.get(apiKey) ?? 0) + 1);
      const budget = this.toDrop.get(apiKey) ?? 0;
      if (budget > 0) {
        this.toDrop.set(apiKey, budget - 1);
        dropping.set(correlationId, apiKey);
      }
      upstream.write(frame);
    });
    const answers = new FrameReader((frame) => {
      const correlationId = frame.readInt32BE(4);
      const apiKey = dropping.get(correlationId);
      if (apiKey === undefined) {
        client.write(frame);
        return;
      }
      dropping.delete(correlationId);
      this.dropped.push({ apiKey, correlationId, connection, at: Date.now() });
    });
    client.on('data', (chunk: Buffer) => requests.push(chunk));
    upstream.on('data', (chunk: Buffer) => answers.push(chunk));
  }
}
