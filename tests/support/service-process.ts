/**
 * Runs a built service (dist/services/<name>/main.js) as a real child process, the way
 * it runs in a pod: its JSON logs captured to a file, its management port polled, and
 * stopped with a real signal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export type ServiceName = 'producer' | 'consumer';

const ROOT = resolve(__dirname, '..', '..');
export const LOG_DIR = join(ROOT, 'reports', 'service-logs');

export interface ServiceProcess {
  readonly name: ServiceName;
  readonly child: ChildProcess;
  readonly managementUrl: string;
  readonly logFile: string;
  /** Resolves with the exit code (or the signal name) when the process has ended. */
  readonly exited: Promise<number | string>;
  /** Every JSON log line so far, parsed. */
  logs(): Array<Record<string, unknown>>;
  /** Sends a signal and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

let counter = 0;

export function startService(
  name: ServiceName,
  env: Record<string, string>,
  options: { managementPort: number; label?: string },
): ServiceProcess {
  mkdirSync(LOG_DIR, { recursive: true });
  counter += 1;
  const logFile = join(LOG_DIR, `${name}-${options.label ?? 'run'}-${process.pid}-${counter}.log`);
  const out = createWriteStream(logFile);
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'services', name, 'main.js')], {
    env: {
      PATH: process.env.PATH ?? '',
      KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      MANAGEMENT_PORT: String(options.managementPort),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Whole lines only, so stdout and stderr never interleave inside a JSON line.
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream }).on('line', (line) => out.write(`${line}\n`));
  }
  const exited = new Promise<number | string>((resolveExit) => {
    // 'close' comes after the output streams ended, so every log line is in the file by then.
    child.on('close', (code, signal) => resolveExit(code ?? signal ?? 'unknown'));
  });
  const readLogs = () => {
    const lines = readFileSync(logFile, 'utf8').split('\n');
    lines.pop(); // the text after the last newline is a line still being written
    return lines
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  };
  return {
    name,
    child,
    managementUrl: `http://127.0.0.1:${options.managementPort}`,
    logFile,
    exited,
    logs: readLogs,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const code = await exited;
      await new Promise((done) => out.end(done));
      return code;
    },
  };
}

/** Polls a URL until it answers 200; fails with the service's log file in the message. */
export async function waitForStatus(
  url: string,
  status: number,
  options: { timeoutMs?: number; service?: ServiceProcess } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (options.service && options.service.child.exitCode !== null) {
      throw new Error(`${options.service.name} exited early; log: ${options.service.logFile}`);
    }
    try {
      const response = await fetch(url);
      last = `${response.status} ${await response.text()}`;
      if (response.status === status) return;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  const where = options.service ? `; log: ${options.service.logFile}` : '';
  throw new Error(`${url} did not answer ${status} in time (last: ${last})${where}`);
}

export function waitUntilReady(service: ServiceProcess, timeoutMs = 30_000): Promise<void> {
  return waitForStatus(`${service.managementUrl}/readyz`, 200, { timeoutMs, service });
}
