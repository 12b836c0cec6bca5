import pino from 'pino';
import { Registry } from 'prom-client';
import type { DeadLetterSink, Failure } from '../../services/consumer/dead-letter';
import { handle as defaultHandle } from '../../services/consumer/handler';
import {
  UnprocessableMessageError,
  type ConsumedMessage,
  type Handler,
} from '../../services/consumer/message';
import { createConsumerMetrics } from '../../services/consumer/metrics';
import { MessageProcessor } from '../../services/consumer/processor';

const message = (offset: string, value = '{"id":1}'): ConsumedMessage => ({
  topic: 'events',
  partition: 0,
  offset,
  key: Buffer.from('k'),
  value: Buffer.from(value),
  headers: {},
  timestamp: Date.now(),
});

class FakeDeadLetters implements DeadLetterSink {
  written: Array<{ offset: string; failure: Failure }> = [];
  calls = 0;
  next: () => Promise<void> = () => Promise.resolve();
  async write(m: ConsumedMessage, failure: Failure): Promise<void> {
    this.calls += 1;
    await this.next();
    this.written.push({ offset: m.offset, failure });
  }
}

function setup(handler: Handler, deadLetterTimeoutMs = 1000) {
  const registry = new Registry();
  const metrics = createConsumerMetrics(registry, ['events']);
  const deadLetters = new FakeDeadLetters();
  const processor = new MessageProcessor({
    handler,
    deadLetters,
    metrics,
    logger: pino({ level: 'silent' }),
    maxRetries: 2,
    backoff: { initialMs: 1, maxMs: 2 },
    deadLetterTimeoutMs,
  });
  const count = async (result: string) =>
    (await metrics.consumed.get()).values.find((v) => v.labels.result === result)?.value;
  return { processor, deadLetters, count };
}

const signal = new AbortController().signal;

describe('MessageProcessor', () => {
  it('processes a message the handler accepts', async () => {
    const { processor, count } = setup(defaultHandle);
    await expect(processor.process(message('0'), signal)).resolves.toBe('processed');
    expect(await count('processed')).toBe(1);
  });

  it('retries a failing handler, then dead-letters with the attempt count', async () => {
    const attempts: number[] = [];
    const { processor, deadLetters, count } = setup(async (_m, { attempt }) => {
      attempts.push(attempt);
      throw new Error('database down');
    });
    await expect(processor.process(message('5'), signal)).resolves.toBe('dead_lettered');
    expect(attempts).toEqual([1, 2, 3]);
    expect(deadLetters.written).toHaveLength(1);
    expect(deadLetters.written[0]?.failure).toMatchObject({
      reason: 'retries-exhausted',
      attempts: 3,
    });
    expect(await count('retried')).toBe(2);
    expect(await count('dead_lettered')).toBe(1);
  });

  it('succeeds on a retry without dead-lettering', async () => {
    let calls = 0;
    const { processor, deadLetters } = setup(async () => {
      calls += 1;
      if (calls === 1) throw new Error('flaky');
    });
    await expect(processor.process(message('1'), signal)).resolves.toBe('processed');
    expect(deadLetters.calls).toBe(0);
  });

  it('dead-letters a value that is not JSON at once', async () => {
    const { processor, deadLetters, count } = setup(defaultHandle);
    await expect(processor.process(message('2', 'not json'), signal)).resolves.toBe(
      'dead_lettered',
    );
    expect(deadLetters.written[0]?.failure).toMatchObject({ reason: 'unprocessable', attempts: 1 });
    expect(deadLetters.written[0]?.failure.error).toBeInstanceOf(UnprocessableMessageError);
    expect(await count('retried')).toBe(0);
  });

  it('treats any error with retriable: false as unprocessable', async () => {
    const { processor, deadLetters } = setup(async () => {
      throw Object.assign(new Error('schema mismatch'), { retriable: false });
    });
    await processor.process(message('3'), signal);
    expect(deadLetters.written[0]?.failure.reason).toBe('unprocessable');
  });

  it('stops retrying on shutdown and leaves the message uncommitted', async () => {
    const controller = new AbortController();
    const { processor, deadLetters } = setup(async () => {
      controller.abort();
      throw new Error('fails while shutting down');
    });
    await expect(processor.process(message('4'), controller.signal)).resolves.toBe('interrupted');
    expect(deadLetters.calls).toBe(0);
  });

  it('reports a failed dead-letter write as blocked, and retries only the write next time', async () => {
    let handlerCalls = 0;
    const { processor, deadLetters } = setup(async () => {
      handlerCalls += 1;
      throw new UnprocessableMessageError('bad');
    });
    deadLetters.next = () => Promise.reject(new Error('dead-letter topic unavailable'));
    await expect(processor.process(message('7'), signal)).resolves.toBe('blocked');
    deadLetters.next = () => Promise.resolve();
    await expect(processor.process(message('7'), signal)).resolves.toBe('dead_lettered');
    expect(handlerCalls).toBe(1);
    expect(deadLetters.calls).toBe(2);
  });

  it('waits again for a slow dead-letter write instead of writing twice', async () => {
    let finish: () => void = () => undefined;
    const { processor, deadLetters } = setup(async () => {
      throw new UnprocessableMessageError('bad');
    }, 20);
    deadLetters.next = () => new Promise<void>((resolve) => (finish = resolve));
    await expect(processor.process(message('8'), signal)).resolves.toBe('blocked');
    finish();
    await expect(processor.process(message('8'), signal)).resolves.toBe('dead_lettered');
    expect(deadLetters.calls).toBe(1);
  });

  it('stops waiting for a dead-letter write when shutdown begins during the wait', async () => {
    const controller = new AbortController();
    const { processor, deadLetters } = setup(async () => {
      throw new UnprocessableMessageError('bad');
    }, 60_000);
    deadLetters.next = () => {
      setTimeout(() => controller.abort(), 5);
      return new Promise<void>(() => undefined);
    };
    await expect(processor.process(message('10'), controller.signal)).resolves.toBe('interrupted');
  });

  it('still waits for the letter of a message whose last attempt ended after shutdown began', async () => {
    // The message in hand is finished: its letter is written and its offset may be committed.
    const controller = new AbortController();
    const { processor, deadLetters, count } = setup(async () => {
      controller.abort();
      throw new UnprocessableMessageError('bad');
    });
    deadLetters.next = () => new Promise<void>((resolve) => setTimeout(resolve, 20));
    await expect(processor.process(message('11'), controller.signal)).resolves.toBe(
      'dead_lettered',
    );
    expect(await count('dead_lettered')).toBe(1);
  });

  it('forgets a blocked write when the partition continues at another offset', async () => {
    const { processor, deadLetters } = setup(defaultHandle);
    deadLetters.next = () => Promise.reject(new Error('unavailable'));
    await expect(processor.process(message('9', 'x'), signal)).resolves.toBe('blocked');
    await expect(processor.process(message('12'), signal)).resolves.toBe('processed');
  });
});
