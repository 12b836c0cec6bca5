import { Counter, Registry } from 'prom-client';
import { Health } from '../../services/common/health';
import { createLogger } from '../../services/common/logger';
import { startManagementServer, type ManagementServer } from '../../services/common/management';

describe('management server', () => {
  let server: ManagementServer;
  let ready = false;
  let base: string;

  beforeAll(async () => {
    const registry = new Registry();
    new Counter({ name: 'test_things_total', help: 'things', registers: [registry] }).inc(3);
    const health = new Health().addReadinessCheck('kafka', () => ({ ok: ready }));
    server = await startManagementServer({
      port: 0,
      host: '127.0.0.1',
      health,
      registry,
      logger: createLogger({ service: 'test', level: 'silent' }),
    });
    base = `http://127.0.0.1:${server.port}`;
  });

  afterAll(() => server.close());

  it('answers /livez with 200 and /readyz with the state of its checks', async () => {
    expect((await fetch(`${base}/livez`)).status).toBe(200);
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({
      status: 'unavailable',
      checks: { kafka: { ok: false } },
    });
    ready = true;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it('serves the registry in the Prometheus text format', async () => {
    const response = await fetch(`${base}/metrics`);
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(await response.text()).toContain('test_things_total 3');
  });

  it('answers unknown paths with 404 and other methods with 405, as JSON', async () => {
    const missing = await fetch(`${base}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      error: { code: 'not_found', message: 'no route /nope' },
    });
    const wrong = await fetch(`${base}/metrics`, { method: 'POST' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, HEAD');
  });
});
