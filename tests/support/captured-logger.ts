import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../services/common/logger';

export type LogLine = Record<string, unknown> & { level: string; msg: string };

/** A service logger at debug whose JSON lines are kept, parsed, for a test to read. */
export function capturedLogger(service = 'test'): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split('\n')) {
        if (text !== '') lines.push(JSON.parse(text) as LogLine);
      }
      done();
    },
  });
  return { logger: createLogger({ service, level: 'debug', destination }), lines };
}
