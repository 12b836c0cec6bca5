/**
 * Structured pino JSON logs. Credentials are redacted wherever they appear; pretty
 * output only on an interactive terminal (and only where pino-pretty is installed,
 * which it is not in the production image).
 */
import pino, { type Logger, type LoggerOptions } from 'pino';

export type { Logger };

export const REDACTED_PATHS = [
  'password',
  '*.password',
  'sasl',
  '*.sasl',
  'apiKey',
  'apiKeys',
  '*.apiKey',
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'KAFKA_SASL_PASSWORD',
  'API_KEYS',
  '*.KAFKA_SASL_PASSWORD',
  '*.API_KEYS',
];

export interface LoggerSettings {
  service: string;
  level: string;
  /** Where to write; defaults to stdout. Tests pass a stream to capture lines. */
  destination?: pino.DestinationStream;
  /** The file descriptor written to when no destination is given (stdout's by default). */
  fd?: number;
}

/**
 * Written before the call returns. pino's default stdout stream writes on libuv's thread pool
 * and flushes what is left at exit: a line being written then can land after the lines
 * flushed behind it, so a log could end with 'shutting down' after 'stopped'. Services log
 * little per request, so the synchronous write costs nothing that shows.
 */
export function synchronousDestination(fd = 1): pino.DestinationStream {
  return pino.destination({ dest: fd, sync: true });
}

function prettyTransportAvailable(): boolean {
  try {
    require.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    base: { service: settings.service, pid: process.pid },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  if (settings.destination) return pino(options, settings.destination);
  if (process.stdout.isTTY && prettyTransportAvailable()) {
    return pino({ ...options, transport: { target: 'pino-pretty' } });
  }
  return pino(options, synchronousDestination(settings.fd));
}
