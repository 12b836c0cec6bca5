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
});
