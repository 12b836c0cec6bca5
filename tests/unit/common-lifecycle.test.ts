import { Writable } from 'node:stream';
import { Health } from '../../services/common/health';
import { Lifecycle } from '../../services/common/lifecycle';
import { createLogger } from '../../services/common/logger';

function capturedLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ service: 'test', level: 'debug', destination }) };
}

describe('lifecycle', () => {
  it('turns readiness off first, runs the steps in order, then exits 0', async () => {
    const { logger } = capturedLogger();
    const health = new Health();
    const order: string[] = [];
    const exits: number[] = [];
    const lifecycle = new Lifecycle({
      logger,
      health,
      timeoutMs: 1000,
      exit: (c) => exits.push(c),
    });
    lifecycle.onShutdown('stop intake', async () => {
      order.push(`intake (ready=${health.readiness().ok})`);
    });
    lifecycle.onShutdown('disconnect', async () => {
      order.push('disconnect');
    });
    await Promise.all([lifecycle.shutdown('SIGTERM'), lifecycle.shutdown('SIGTERM')]);
    expect(order).toEqual(['intake (ready=false)', 'disconnect']);
    expect(exits).toEqual([0]);
  });

  it('exits 1 at the deadline and logs the steps left unfinished', async () => {
    const { logger, lines } = capturedLogger();
    const exits: number[] = [];
    const lifecycle = new Lifecycle({
      logger,
      health: new Health(),
      timeoutMs: 50,
      exit: (c) => exits.push(c),
    });
    lifecycle.onShutdown('drain', () => new Promise(() => undefined));
    void lifecycle.shutdown('SIGTERM');
    await new Promise((done) => setTimeout(done, 150));
    expect(exits).toEqual([1]);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        unfinished: ['drain'],
        msg: 'shutdown deadline exceeded; exiting with work left',
      }),
    );
  });

  it('goes on after a failing step and exits 1', async () => {
    const { logger } = capturedLogger();
    const exits: number[] = [];
    const lifecycle = new Lifecycle({
      logger,
      health: new Health(),
      timeoutMs: 1000,
      exit: (c) => exits.push(c),
    });
    const ran: string[] = [];
    lifecycle.onShutdown('a', async () => {
      throw new Error('broken');
    });
    lifecycle.onShutdown('b', async () => {
      ran.push('b');
    });
    await lifecycle.shutdown('SIGTERM');
    expect(ran).toEqual(['b']);
    expect(exits).toEqual([1]);
  });
});
