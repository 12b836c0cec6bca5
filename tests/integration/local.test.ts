/**
 * `npm run local` end to end: Kafka, topics and both services come up, a message sent to
 * the API is processed by the consumer, and Ctrl-C (SIGINT to the process group, as a
 * terminal sends it) brings everything down with exit 0 and no broker left behind.
 */
import { spawn } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { waitForStatus } from '../../scripts/lib/services';
import { freePort } from '../../scripts/lib/ports';
import { repoRoot } from '../../scripts/lib/root';

const ROOT = repoRoot();

function metricValue(metrics: string, name: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** A port whose next `count - 1` neighbours are free too (the API and both management ports). */
async function freeRun(count: number): Promise<number> {
  for (;;) {
    const first = await freePort();
    const free = await Promise.all(
      Array.from({ length: count - 1 }, (_, i) => isFree(first + i + 1)),
    );
    if (free.every(Boolean)) return first;
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

describe('npm run local', () => {
  it('runs Kafka and both services, and Ctrl-C stops all of it with exit 0', async () => {
    const kafkaPort = await freePort();
    const apiPort = await freeRun(3);
    const child = spawn(
      process.execPath,
      [
        join(ROOT, 'dist', 'scripts', 'local.js'),
        '--port',
        String(kafkaPort),
        '--api-port',
        String(apiPort),
      ],
      {
        env: { ...process.env, LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    );
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    // A failure shows what `npm run local` printed, and an early exit fails at once.
    const explain = (error: unknown) =>
      new Error(
        `${error instanceof Error ? error.message : String(error)}\n` +
          `npm run local (exit ${String(child.exitCode)}) printed:\n${output.slice(-4000)}`,
      );
    const ready = async (port: number, timeoutMs: number) => {
      const early = exited.then((code) => {
        throw new Error(`npm run local exited early with ${String(code)}`);
      });
      await Promise.race([
        waitForStatus(`http://127.0.0.1:${port}/readyz`, 200, { timeoutMs }),
        early,
      ]).catch((error: unknown) => {
        throw explain(error);
      });
    };
    try {
      await ready(apiPort + 1, 90_000);
      await ready(apiPort + 2, 60_000);
      expect(output).toContain(`KAFKA_BROKERS=127.0.0.1:${kafkaPort}`);
      expect(output).toContain(`producer API   http://127.0.0.1:${apiPort}`);

      const response = await fetch(`http://127.0.0.1:${apiPort}/v1/topics/events/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ key: 'local-1', value: { hello: 'local' } }] }),
      });
      expect(response.status).toBe(200);

      const deadline = Date.now() + 30_000;
      let processed = 0;
      while (Date.now() < deadline && processed < 1) {
        const metrics = await (await fetch(`http://127.0.0.1:${apiPort + 2}/metrics`)).text();
        processed = metricValue(
          metrics,
          'event_pipeline_consumed_messages_total{topic="events",result="processed"',
        );
        if (processed < 1) await new Promise((done) => setTimeout(done, 250));
      }
      expect(processed).toBe(1);
    } finally {
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGINT');
    }
    expect(await exited).toBe(0);
    expect(output).toContain('Kafka stopped; bye');
    await expect(fetch(`http://127.0.0.1:${apiPort}/`)).rejects.toThrow();
    const kafkaRefuses = await new Promise<boolean>((resolve) => {
      const socket = createConnection(kafkaPort, '127.0.0.1');
      socket.on('connect', () => (socket.destroy(), resolve(false)));
      socket.on('error', () => resolve(true));
    });
    expect(kafkaRefuses).toBe(true);
  }, 180_000);
});
