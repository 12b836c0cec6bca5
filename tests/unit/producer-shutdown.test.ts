import pino from 'pino';
import { Batcher, type PartitionAck } from '../../services/producer/batcher';
import { ApiError } from '../../services/producer/errors';
import { mapSendError } from '../../services/producer/kafka-errors';
import type { OutgoingRecord } from '../../services/producer/records';
import { finishRequests, type ClosableServer } from '../../services/producer/shutdown';

const logger = pino({ level: 'silent' });
const record: OutgoingRecord = {
  key: null,
  value: '1',
  headers: undefined,
  partition: 0,
  bytes: 40,
};

function batcherWith(send: () => Promise<PartitionAck[]>): Batcher {
  return new Batcher({
    send,
    mapError: mapSendError,
    lingerMs: 60_000,
    maxBatchMessages: 100,
    maxBatchBytes: 100_000,
    bufferMaxMessages: 1000,
    bufferMaxBytes: 1_000_000,
    maxRecordBatchBytes: () => 1_000_000,
    requestTimeoutMs: 60_000,
  });
}

function fakeServer(): ClosableServer & { cutOff: boolean; finish: () => void } {
  let finish = () => undefined as void;
  const closed = new Promise<void>((resolve) => (finish = resolve));
  const server = {
    cutOff: false,
    finish: () => finish(),
    close: () => closed,
    closeIdle: () => undefined,
    closeAll: () => {
      server.cutOff = true;
      finish();
    },
  };
  return server;
}

describe('finishing requests at shutdown', () => {
  test('flushes lingering batches at once and returns when the server has closed', async () => {
    const batcher = batcherWith(async () => [{ topic: 't', partition: 0, baseOffset: '0' }]);
    const server = fakeServer();
    const answer = batcher.submit('t', [record]);
    const finishing = finishRequests(server, batcher, 10_000, logger);
    await expect(answer).resolves.toEqual([{ partition: 0, offset: '0' }]);
    server.finish(); // the last response went out
    await finishing;
    expect(server.cutOff).toBe(false);
  });

  test('at the deadline the waiting requests get 503 shutting_down and the step fails', async () => {
    const batcher = batcherWith(() => new Promise<PartitionAck[]>(() => undefined)); // Kafka never answers
    const server = fakeServer();
    const answer = batcher.submit('t', [record]).catch((error: unknown) => error);
    const started = Date.now();
    await expect(finishRequests(server, batcher, 300, logger)).rejects.toThrow(
      'abandoned 1 requests at the shutdown deadline',
    );
    expect(Date.now() - started).toBeLessThan(3_000);
    const error = (await answer) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe('shutting_down');
    expect(error.status).toBe(503);
    expect(server.cutOff).toBe(true);
    await expect(batcher.submit('t', [record])).rejects.toMatchObject({ code: 'shutting_down' });
  });
});
