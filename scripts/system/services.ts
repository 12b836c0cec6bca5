/**
 * The built services (dist/services/<name>/main.js) as child processes, for `npm run local`
 * and the demos: their logs go to this terminal or to a file, each is stopped with exactly
 * one signal (as Kubernetes does; a second one means "exit now" to them), and none outlives
 * this process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export type ServiceName = 'producer' | 'consumer';

export interface ServiceOptions {
  env: Record<string, string>;
  /** The service's management port (/livez, /readyz, /metrics). */
  managementPort: number;
  /** 'inherit': the terminal's stdout and stderr; otherwise a file that gets both. */
  output: 'inherit' | { logFile: string };
  /** A name for messages; default: the service name. */
  label?: string;
}

export interface RunningService {
  readonly name: ServiceName;
  readonly label: string;
  readonly child: ChildProcess;
  readonly managementUrl: string;
  readonly logFile: string | undefined;
  /** The exit code, or the signal's name, once the process has ended. */
  readonly exited: Promise<number | string>;
  running(): boolean;
  /** Sends one signal (unless it already ended) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

const DIST = join(__dirname, '..', '..');

export function startService(name: ServiceName, options: ServiceOptions): RunningService {
  const inherit = options.output === 'inherit';
  // Their own process group: Ctrl-C reaches only the owner, which then stops them in order.
  const child = spawn(process.execPath, [join(DIST, 'services', name, 'main.js')], {
    env: {
      ...process.env,
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      MANAGEMENT_PORT: String(options.managementPort),
      ...options.env,
    },
    stdio: inherit ? 'inherit' : ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let logFile: string | undefined;
  let closeLog: () => Promise<void> = async () => undefined;
  if (options.output !== 'inherit') {
    logFile = options.output.logFile;
    mkdirSync(dirname(logFile), { recursive: true });
    const out = createWriteStream(logFile, { flags: 'a' });
    child.stdout?.pipe(out, { end: false });
    child.stderr?.pipe(out, { end: false });
    closeLog = () => new Promise((done) => out.end(done));
  }
  const killOnExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);
  const exited = exitOf(child).then(async (code) => {
    process.removeListener('exit', killOnExit);
    await closeLog();
    return code;
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    label: options.label ?? name,
    child,
    managementUrl: `http://127.0.0.1:${options.managementPort}`,
    logFile,
    exited,
    running,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (running()) child.kill(signal);
      return exited;
    },
  };
}

export function exitOf(child: ChildProcess): Promise<number | string> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  if (child.signalCode !== null) return Promise.resolve(child.signalCode);
  return new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
}

/** Polls /readyz until it answers 200; fails early if the service exits. */
export async function waitUntilReady(service: RunningService, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    if (!service.running()) {
      throw new Error(
        `${service.label} exited while starting (${await service.exited})${service.logFile ? `; log: ${service.logFile}` : ''}`,
      );
    }
    try {
      const response = await fetch(`${service.managementUrl}/readyz`);
      last = `${response.status} ${await response.text()}`;
      if (response.status === 200) return;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${service.label} was not ready within ${timeoutMs} ms (last: ${last})${service.logFile ? `; log: ${service.logFile}` : ''}`,
      );
    }
    await sleep(200);
  }
}

/** True for the ways a service may end after a stop signal. */
export function stoppedCleanly(exit: number | string): boolean {
  return exit === 0 || exit === 'SIGTERM' || exit === 'SIGINT';
}
