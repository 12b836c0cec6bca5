import pino from 'pino';
import { ApiError, apiErrorFromWriteError } from '../../services/producer/errors';
import { isWriteError, WriteError } from '../../services/producer/kafka';
import { Batcher } from '../../services/producer/kafka/batcher';
import { sendFailure } from '../../services/producer/kafka/kafkajs-errors';
import type { PartitionAck } from '../../services/producer/kafka/leader-senders';
import type { PlacedRecord } from '../../services/producer/kafka/placement';
import {
  finishRequests,
  type ClosableServer,
  type DrainableWriter,
} from '../../services/producer/shutdown';

const logger = pino({ level: 'silent' });
const record: PlacedRecord = {
  key: null,
  value: '1',
  headers: undefined,
  partition: 0,
  bytes: 40,
};

/** The Kafka writer's batcher, as shutdown sees the writer (KafkaWriter.abandon does the same). */
function writerWith(send: () => Promise<PartitionAck[]>) {
  const batcher = new Batcher({
    send,
    sendFailure,
    lingerMs: 60_000,
    maxBatchMessages: 100,
    maxBatchBytes: 100_000,
    bufferMaxMessages: 1000,
    bufferMaxBytes: 1_000_000,
    maxRecordBatchBytes: () => 1_000_000,
  });
  const writer: DrainableWriter & { submit: () => Promise<unknown> } = {
    drain: () => batcher.drain(),
    load: () => batcher.load(),
    abandon: (message) => batcher.close(new WriteError('closed', message, true)),
    submit: () => batcher.submit('t', [record], new AbortController().signal),
  };
  return writer;
}

/** What the client is answered with. */
const answered = (error: unknown) =>
  isWriteError(error) ? apiErrorFromWriteError(error, { requestTimeoutMs: 60_000 }) : error;

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
    const writer = writerWith(async () => [{ topic: 't', partition: 0, baseOffset: '0' }]);
    const server = fakeServer();
    const answer = writer.submit();
    const finishing = finishRequests(server, writer, 10_000, logger);
    await expect(answer).resolves.toEqual([{ partition: 0, offset: '0' }]);
    server.finish(); // the last response went out
    await finishing;
    expect(server.cutOff).toBe(false);
  });

  test('at the deadline the waiting requests get 503 shutting_down and the step fails', async () => {
    const writer = writerWith(() => new Promise<PartitionAck[]>(() => undefined)); // Kafka never answers
    const server = fakeServer();
    const answer = writer.submit().catch(answered);
    const started = Date.now();
    await expect(finishRequests(server, writer, 300, logger)).rejects.toThrow(
      'abandoned 1 requests at the shutdown deadline',
    );
    expect(Date.now() - started).toBeLessThan(3_000);
    const error = (await answer) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe('shutting_down');
    expect(error.status).toBe(503);
    expect(server.cutOff).toBe(true);
    await expect(writer.submit().catch(answered)).resolves.toMatchObject({
      code: 'shutting_down',
    });
  });
});
