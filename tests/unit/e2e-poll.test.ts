import { poll, PollTimeoutError } from '../../scripts/lib/poll';

function fakeClock() {
  let now = 0;
  return { now: () => now, sleep: async (ms: number) => void (now += ms) };
}

describe('e2e poll', () => {
  test('returns the first value and prints a status only when it changes', async () => {
    const clock = fakeClock();
    const lines: string[] = [];
    const statuses = ['0/2 ready', '0/2 ready', '1/2 ready', 'done'];
    let call = 0;
    const value = await poll({
      what: 'Deployment x',
      timeoutMs: 60_000,
      intervalMs: 1_000,
      log: (line) => lines.push(line),
      ...clock,
      check: async () => {
        const status = statuses[call++] ?? 'done';
        return { status, value: status === 'done' ? 42 : undefined };
      },
    });
    expect(value).toBe(42);
    expect(lines).toEqual([
      'Deployment x: 0/2 ready (0 s)',
      'Deployment x: 1/2 ready (2 s)',
      'Deployment x: done (3 s)',
    ]);
  });

  test('a throwing check is "not yet"; the deadline ends it with the last status', async () => {
    const clock = fakeClock();
    const attempt = poll({
      what: 'Kafka',
      timeoutMs: 5_000,
      intervalMs: 1_000,
      log: () => undefined,
      ...clock,
      check: async () => {
        throw new Error('connection refused');
      },
    });
    await expect(attempt).rejects.toThrow(PollTimeoutError);
    await expect(attempt).rejects.toThrow(
      /5 s waiting for Kafka; last: not yet: connection refused/,
    );
    expect(clock.now()).toBe(5_000);
  });
});
