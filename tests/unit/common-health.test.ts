import { Health } from '../../services/common/health';

describe('health', () => {
  it('is ready only when every readiness check passes and shutdown has not begun', () => {
    let connected = false;
    const health = new Health().addReadinessCheck('kafka', () => ({
      ok: connected,
      detail: connected ? 'connected' : 'not connected',
    }));
    expect(health.readiness()).toEqual({
      ok: false,
      checks: { kafka: { ok: false, detail: 'not connected' } },
    });
    connected = true;
    expect(health.readiness().ok).toBe(true);
    health.markShuttingDown();
    expect(health.readiness()).toEqual({
      ok: false,
      checks: {
        kafka: { ok: true, detail: 'connected' },
        shutdown: { ok: false, detail: 'shutting down' },
      },
    });
  });

  it('keeps liveness apart from readiness and turns a throwing check into a failure', () => {
    const health = new Health()
      .addReadinessCheck('kafka', () => ({ ok: false }))
      .addLivenessCheck('consumer', () => {
        throw new Error('crashed for good');
      });
    health.markShuttingDown();
    expect(health.liveness()).toEqual({
      ok: false,
      checks: { consumer: { ok: false, detail: 'crashed for good' } },
    });
    expect(new Health().liveness().ok).toBe(true);
  });
});
