import { shutdownTimeline } from '../e2e/support/shutdown';

const line = (entry: Record<string, unknown>) => JSON.stringify({ level: 30, ...entry });

describe('e2e shutdown timeline', () => {
  test('times the signal and the stop from the deletion', () => {
    const lines = [
      line({ time: 900, msg: 'request' }),
      'a line that is not JSON',
      line({ time: 6_050, msg: 'shutting down', reason: 'SIGTERM', timeoutMs: 20_000 }),
      line({ time: 7_500, msg: 'stopped', elapsedMs: 1_450, exitCode: 0 }),
    ];
    expect(shutdownTimeline(lines, 1_000)).toEqual({
      reason: 'SIGTERM',
      signalAfterMs: 5_050,
      stoppedAfterMs: 6_500,
      exitCode: 0,
    });
  });

  test('reads ISO 8601 times, as the services log them', () => {
    const lines = [
      line({ time: '2026-12-02T00:00:05.000Z', msg: 'shutting down', reason: 'SIGTERM' }),
      line({ time: '2026-12-02T00:00:06.250Z', msg: 'stopped', exitCode: 0 }),
    ];
    expect(shutdownTimeline(lines, Date.parse('2026-12-02T00:00:00.000Z'))).toMatchObject({
      signalAfterMs: 5_000,
      stoppedAfterMs: 6_250,
    });
  });

  test('says what is missing', () => {
    expect(shutdownTimeline([line({ time: 1, msg: 'ready' })], 0)).toMatch(/shutting down/);
    expect(
      shutdownTimeline([line({ time: 1, msg: 'shutting down', reason: 'SIGTERM' })], 0),
    ).toMatch(/stopped/);
  });
});
