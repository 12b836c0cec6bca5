import { Health } from '../../services/common/health';
import { Lifecycle } from '../../services/common/lifecycle';
import { capturedLogger } from '../support/captured-logger';

/** Timers that keep the event loop alive (an unref'd timer is not among them). */
function refTimers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
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
    const shutdown = lifecycle.shutdown('SIGTERM');
    const settled = shutdown.then(() => true);
    await new Promise((done) => setTimeout(done, 150));
    expect(exits).toEqual([1]);
    // The exit came from the deadline: the step, and so the shutdown, never ended.
    expect(await Promise.race([settled, Promise.resolve(false)])).toBe(false);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        unfinished: ['drain'],
        msg: 'shutdown deadline exceeded; exiting with work left',
      }),
    );
  });

  it('keeps the process alive while a step waits, so the deadline, not an empty event loop, ends it', async () => {
    const { logger } = capturedLogger();
    const exits: number[] = [];
    const lifecycle = new Lifecycle({
      logger,
      health: new Health(),
      timeoutMs: 200,
      exit: (c) => exits.push(c),
    });
    // A promise no timer, socket or other handle will ever settle.
    lifecycle.onShutdown('disconnect', () => new Promise(() => undefined));
    const timersBefore = refTimers();
    lifecycle.shutdown('SIGTERM').catch(() => undefined);
    await new Promise((done) => setImmediate(done));
    expect(refTimers()).toBe(timersBefore + 1);
    await new Promise((done) => setTimeout(done, 300));
    expect(exits).toEqual([1]);
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

  it('exits 1 with a fatal line when a shutdown begun by a signal fails itself', async () => {
    const { logger, lines } = capturedLogger();
    const exits: number[] = [];
    const health = new Health();
    jest.spyOn(health, 'markShuttingDown').mockImplementation(() => {
      throw new Error('readiness could not be turned off');
    });
    const lifecycle = new Lifecycle({
      logger,
      health,
      timeoutMs: 1000,
      exit: (c) => exits.push(c),
    });
    // The handler is called here rather than by a real signal, which would reach jest too.
    const handlers = new Map<string, () => void>();
    const on = jest.spyOn(process, 'on').mockImplementation((event, listener) => {
      handlers.set(String(event), listener as () => void);
      return process;
    });
    try {
      lifecycle.installSignalHandlers();
    } finally {
      on.mockRestore();
    }
    handlers.get('SIGTERM')?.();
    await new Promise((done) => setImmediate(done));
    expect(exits).toEqual([1]);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'fatal',
        reason: 'SIGTERM',
        msg: 'shutdown failed; exiting now',
        err: expect.objectContaining({ message: 'readiness could not be turned off' }),
      }),
    );
  });
});
