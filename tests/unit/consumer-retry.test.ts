import { backoffDelay, sleep } from '../../services/consumer/retry';

describe('backoffDelay', () => {
  const policy = { initialMs: 100, maxMs: 1000 };

  it('doubles from the initial delay and stops at the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((retry) => backoffDelay(retry, policy))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });

  it('stays finite for absurd retry counts', () => {
    expect(backoffDelay(10_000, policy)).toBe(1000);
  });

  it('is 0 before the first retry and with a zero initial delay', () => {
    expect(backoffDelay(0, policy)).toBe(0);
    expect(backoffDelay(3, { initialMs: 0, maxMs: 0 })).toBe(0);
  });
});

describe('sleep', () => {
  it('resolves true after the delay', async () => {
    await expect(sleep(5)).resolves.toBe(true);
  });

  it('resolves false at once when aborted while waiting', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const waiting = sleep(10_000, controller.signal);
    controller.abort();
    await expect(waiting).resolves.toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('resolves false when the signal was aborted before', async () => {
    await expect(sleep(10_000, AbortSignal.abort())).resolves.toBe(false);
  });
});
