import { DeadlineError, withDeadline, withTimeout } from '../../services/common/deadline';
import { Periodic } from '../../services/common/periodic';

const never = () => new Promise<never>(() => undefined);

describe('withDeadline and withTimeout', () => {
  test('a promise that settles first keeps its value or its error', async () => {
    const signal = new AbortController().signal;
    await expect(withDeadline(Promise.resolve(7), signal)).resolves.toBe(7);
    await expect(withTimeout(Promise.reject(new Error('own')), 1000, 'x')).rejects.toThrow('own');
  });

  test('the deadline ends the wait with the reason it was given, or a DeadlineError', async () => {
    const controller = new AbortController();
    const waiting = withDeadline(never(), controller.signal, 'the probe');
    controller.abort();
    await expect(waiting).rejects.toThrow(new DeadlineError('the probe did not finish in time'));
    const own = new Error('send timed out');
    await expect(withTimeout(never(), 10, own)).rejects.toBe(own);
    // A reason given as a function is made only if the deadline passes.
    let made = 0;
    const make = () => {
      made += 1;
      return own;
    };
    await expect(withTimeout(Promise.resolve(1), 10, make)).resolves.toBe(1);
    expect(made).toBe(0);
    await expect(withTimeout(never(), 10, make)).rejects.toBe(own);
    expect(made).toBe(1);
    await expect(withTimeout(never(), 10, 'the metadata request')).rejects.toBeInstanceOf(
      DeadlineError,
    );
    // An already aborted signal fails at once.
    await expect(withDeadline(never(), AbortSignal.abort())).rejects.toBeInstanceOf(DeadlineError);
  });
});

describe('Periodic', () => {
  test('never runs twice at once; a request during a run is one more run right after', async () => {
    let running = 0;
    let most = 0;
    let runs = 0;
    let release: () => void = () => undefined;
    const periodic = new Periodic({
      run: async () => {
        runs += 1;
        running += 1;
        most = Math.max(most, running);
        await new Promise<void>((resolve) => (release = resolve));
        running -= 1;
      },
      delayAfterRunMs: () => 60_000,
    });
    const first = periodic.runNow();
    const again = [periodic.runNow(), periodic.runNow(), periodic.runNow()];
    release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs).toBe(2);
    release();
    await Promise.all([first, ...again]);
    expect(runs).toBe(2);
    expect(most).toBe(1);
    await periodic.stop();
  });

  test('runs on its schedule, sooner when asked, never after stop; a failing run does not stop it', async () => {
    jest.useFakeTimers();
    try {
      let runs = 0;
      const periodic = new Periodic({
        run: async () => {
          runs += 1;
          if (runs === 2) throw new Error('one bad run');
        },
        delayAfterRunMs: () => 1000,
      });
      periodic.start();
      await jest.advanceTimersByTimeAsync(0);
      expect(runs).toBe(1);
      await jest.advanceTimersByTimeAsync(1000);
      expect(runs).toBe(2);
      await jest.advanceTimersByTimeAsync(1000);
      expect(runs).toBe(3);
      periodic.runWithin(100);
      await jest.advanceTimersByTimeAsync(100);
      expect(runs).toBe(4);
      await periodic.stop();
      await jest.advanceTimersByTimeAsync(5000);
      expect(runs).toBe(4);
    } finally {
      jest.useRealTimers();
    }
  });
});
