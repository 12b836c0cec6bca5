import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../../services/common/logger';

describe('logger', () => {
  it('writes JSON lines with the service name and redacts credentials', () => {
    const output: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        output.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ service: 'producer', level: 'info', destination });
    logger.info(
      {
        sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'hunter2' },
        req: { headers: { authorization: 'Bearer key-123' } },
        config: { KAFKA_SASL_PASSWORD: 'pw-456', API_KEYS: ['key-789'] },
      },
      'started',
    );
    expect(output).toHaveLength(1);
    const line = JSON.parse(output[0] ?? '{}') as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'info', service: 'producer', msg: 'started' });
    for (const secret of ['hunter2', 'key-123', 'pw-456', 'key-789']) {
      expect(output[0]).not.toContain(secret);
    }
    expect(output[0]).toContain('[redacted]');
  });

  it('has written each line when the call returns, so an exit right after cannot reorder or drop one', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'logger-')), 'out.log');
    const fd = openSync(file, 'w');
    try {
      const logger = createLogger({ service: 'producer', level: 'info', fd });
      logger.info('shutting down');
      logger.info({ exitCode: 0 }, 'stopped');
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual([
        'shutting down',
        'stopped',
      ]);
    } finally {
      closeSync(fd);
    }
  });
});
