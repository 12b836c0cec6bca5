import pino from 'pino';
import { Registry } from 'prom-client';
import type { DeadLetterSink, Failure } from '../../services/consumer/dead-letter';
import { handle as defaultHandle } from '../../services/consumer/handler';
import {
  UnprocessableMessageError,
  type ConsumedMessage,
  type Handler,
  type HandlerContext,
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
    expect(await processor.process(message('0'), signal)).toBe('processed');
    expect(await count('processed')).toBe(1);
  });

  it('retries a failing handler, then dead-letters with the attempt count', async () => {
    const attempts: number[] = [];
    const { processor, deadLetters, count } = setup(async (_m, { attempt }) => {
      attempts.push(attempt);
      throw new Error('database down');
    });
    expect(await processor.process(message('5'), signal)).toBe('dead_lettered');
    expect(attempts).toEqual([1, 2, 3]);
    expect(deadLetters.written).toHaveLength(1);
    expect(deadLetters.written[0]?.failure).toMatchObject({
      reason: 'retries-exhausted',
      attempts: 3,
    });
    expect(await count('retried')).toBe(2);
    expect(await count('dead_lettered')).toBe(1);
  });

  it('gives the outcome of a handler that returns no promise at once, with its metrics', async () => {
    const registry = new Registry();
    const metrics = createConsumerMetrics(registry, ['events']);
    const processor = new MessageProcessor({
      handler: defaultHandle,
      deadLetters: new FakeDeadLetters(),
      metrics,
      logger: pino({ level: 'silent' }),
      maxRetries: 2,
      backoff: { initialMs: 1, maxMs: 2 },
      deadLetterTimeoutMs: 1000,
    });
    // Not a promise: the runner awaits nothing for this message.
    expect(processor.process(message('0'), signal)).toBe('processed');
    const text = await registry.metrics();
    expect(text).toContain('event_pipeline_processing_duration_seconds_count{topic="events"} 1');
    expect(text).toContain('event_pipeline_end_to_end_latency_seconds_count{topic="events"} 1');
    expect(text).toContain(
      'event_pipeline_consumed_messages_total{topic="events",result="processed"} 1',
    );
  });

  it('retries a handler that throws without a promise, then dead-letters it', async () => {
    const attempts: number[] = [];
    const { processor, deadLetters, count } = setup((_m, { attempt }) => {
      attempts.push(attempt);
      throw new Error('cache miss');
    });
    const outcome = processor.process(message('6'), signal);
    expect(outcome).toBeInstanceOf(Promise);
    expect(await outcome).toBe('dead_lettered');
    expect(attempts).toEqual([1, 2, 3]);
    expect(deadLetters.written[0]?.failure).toMatchObject({
      reason: 'retries-exhausted',
      attempts: 3,
    });
    expect(await count('retried')).toBe(2);
  });

  it('awaits a thenable that a handler module returns, and retries when it rejects', async () => {
    let calls = 0;
    let settled = false;
    const handler = (() => ({
      then(onFulfilled: () => void, onRejected: (error: Error) => void) {
        calls += 1;
        setTimeout(() => {
          settled = true;
          if (calls === 1) onRejected(new Error('not yet'));
          else onFulfilled();
        }, 5);
      },
    })) as unknown as Handler; // a JavaScript module may return any thenable
    const { processor, deadLetters } = setup(handler);
    expect(await processor.process(message('13'), signal)).toBe('processed');
    expect(settled).toBe(true);
    expect(calls).toBe(2);
    expect(deadLetters.calls).toBe(0);
  });

  it('hands every first attempt the same read-only context, and a retry its own', async () => {
    const contexts: HandlerContext[] = [];
    const { processor } = setup((_m, context) => {
      contexts.push(context);
      if (contexts.length === 2) throw new Error('once');
    });
    expect(await processor.process(message('14'), signal)).toBe('processed');
    expect(await processor.process(message('15'), signal)).toBe('processed');
    expect(contexts.map((c) => c.attempt)).toEqual([1, 1, 2]);
    expect(contexts[1]).toBe(contexts[0]);
    expect(Object.isFrozen(contexts[0])).toBe(true);
    expect(() => {
      (contexts[0] as { attempt: number }).attempt = 5;
    }).toThrow(TypeError);
  });

  it('succeeds on a retry without dead-lettering', async () => {
    let calls = 0;
    const { processor, deadLetters } = setup(async () => {
      calls += 1;
      if (calls === 1) throw new Error('flaky');
    });
    expect(await processor.process(message('1'), signal)).toBe('processed');
    expect(deadLetters.calls).toBe(0);
  });

  it('dead-letters a value that is not JSON at once', async () => {
    const { processor, deadLetters, count } = setup(defaultHandle);
    expect(await processor.process(message('2', 'not json'), signal)).toBe('dead_lettered');
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
    expect(await processor.process(message('4'), controller.signal)).toBe('interrupted');
    expect(deadLetters.calls).toBe(0);
  });

  it('reports a failed dead-letter write as blocked, and retries only the write next time', async () => {
    let handlerCalls = 0;
    const { processor, deadLetters } = setup(async () => {
      handlerCalls += 1;
      throw new UnprocessableMessageError('bad');
    });
    deadLetters.next = () => Promise.reject(new Error('dead-letter topic unavailable'));
    expect(await processor.process(message('7'), signal)).toBe('blocked');
    deadLetters.next = () => Promise.resolve();
    expect(await processor.process(message('7'), signal)).toBe('dead_lettered');
    expect(handlerCalls).toBe(1);
    expect(deadLetters.calls).toBe(2);
  });

  it('waits again for a slow dead-letter write instead of writing twice', async () => {
    let finish: () => void = () => undefined;
    const { processor, deadLetters } = setup(async () => {
      throw new UnprocessableMessageError('bad');
    }, 20);
    deadLetters.next = () => new Promise<void>((resolve) => (finish = resolve));
    expect(await processor.process(message('8'), signal)).toBe('blocked');
    finish();
    expect(await processor.process(message('8'), signal)).toBe('dead_lettered');
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
    expect(await processor.process(message('10'), controller.signal)).toBe('interrupted');
  });

  it('still waits for the letter of a message whose last attempt ended after shutdown began', async () => {
    // The message in hand is finished: its letter is written and its offset may be committed.
    const controller = new AbortController();
    const { processor, deadLetters, count } = setup(async () => {
      controller.abort();
      throw new UnprocessableMessageError('bad');
    });
    deadLetters.next = () => new Promise<void>((resolve) => setTimeout(resolve, 20));
    expect(await processor.process(message('11'), controller.signal)).toBe('dead_lettered');
    expect(await count('dead_lettered')).toBe(1);
  });

  it('forgets a blocked write when the partition continues at another offset', async () => {
    const { processor, deadLetters } = setup(defaultHandle);
    deadLetters.next = () => Promise.reject(new Error('unavailable'));
    expect(await processor.process(message('9', 'x'), signal)).toBe('blocked');
    expect(await processor.process(message('12'), signal)).toBe('processed');
  });
});
