/**
 * Every process the benchmark starts goes through here, so that none outlives it:
 *
 * - `spawnTracked` / `forkTracked` register the child; `Tracked.stop()` signals it and waits
 *   (SIGKILL after a grace period); `stopAll()` does that for whatever is left (run.ts calls it
 *   in its finally block and on SIGINT/SIGTERM).
 * - A process 'exit' hook SIGKILLs what is still running when the bench exits without stopAll.
 * - The watchdog process of scripts/watchdog.ts stops the tracked pids when the bench itself
 *   was SIGKILLed.
 *
 * Output of every child goes to a log file under the run's log folder; `tail()` shows its end
 * for error messages.
 */
import { fork, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Watchdog } from '../../scripts/watchdog';

export interface Tracked {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** Resolves with the exit code, or the signal's name, when the process has ended. */
  readonly exited: Promise<number | string>;
  running(): boolean;
  /** Signals the process and waits for its exit; SIGKILL after `graceMs` (default 20 s). */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | string>;
  /** The last lines of its output. */
  tail(lines?: number): string;
}

const live = new Set<Tracked>();
let logDir = join(process.cwd(), 'reports', 'bench', 'logs');
let counter = 0;
let watchdog: Watchdog | undefined;

export function setLogDir(dir: string): void {
  logDir = dir;
  mkdirSync(dir, { recursive: true });
}

export function getLogDir(): string {
  return logDir;
}

function newLogFile(name: string): string {
  mkdirSync(logDir, { recursive: true });
  counter += 1;
  return join(logDir, `${String(counter).padStart(3, '0')}-${name.replace(/[^\w.-]+/g, '_')}.log`);
}

function track(name: string, child: ChildProcess, logFile: string, fd: number): Tracked {
  const exited = new Promise<number | string>((resolve) => {
    child.once('error', (error) => {
      closeQuietly(fd);
      resolve(`error: ${error.message}`);
    });
    child.once('exit', (code, signal) => {
      closeQuietly(fd);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  const running = () =>
    child.exitCode === null && child.signalCode === null && child.pid !== undefined;
  const tracked: Tracked = {
    name,
    child,
    logFile,
    exited,
    running,
    stop: async (signal: NodeJS.Signals = 'SIGTERM', graceMs = 20_000) => {
      if (running()) child.kill(signal);
      const timer = setTimeout(() => {
        if (running()) child.kill('SIGKILL');
      }, graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    tail: (lines = 30) => tailOf(logFile, lines),
  };
  live.add(tracked);
  if (child.pid !== undefined) ensureWatchdog().track(child.pid);
  // Off the books when `exited` settles (the same two events; it never rejects).
  const forget = () => {
    live.delete(tracked);
    if (child.pid !== undefined) watchdog?.untrack(child.pid);
  };
  child.once('error', forget);
  child.once('exit', forget);
  return tracked;
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

/** Starts a command with its stdout and stderr in a log file. */
export function spawnTracked(
  name: string,
  command: string,
  args: string[],
  options: Pick<SpawnOptions, 'env' | 'cwd'> = {},
): Tracked {
  const logFile = newLogFile(name);
  const fd = openSync(logFile, 'a');
  const child = spawn(command, args, { ...options, stdio: ['ignore', fd, fd] });
  return track(name, child, logFile, fd);
}

/** Forks a Node module with an IPC channel (for the bench's own workers). */
export function forkTracked(
  name: string,
  modulePath: string,
  args: string[] = [],
  options: { env?: NodeJS.ProcessEnv; execArgv?: string[] } = {},
): Tracked {
  const logFile = newLogFile(name);
  const fd = openSync(logFile, 'a');
  const child = fork(modulePath, args, {
    env: options.env ?? process.env,
    execArgv: options.execArgv ?? [],
    stdio: ['ignore', fd, fd, 'ipc'],
  });
  return track(name, child, logFile, fd);
}

/** Stops every process still running: SIGTERM, SIGKILL after `graceMs`. */
export async function stopAll(graceMs = 10_000): Promise<void> {
  await Promise.all([...live].map((p) => p.stop('SIGTERM', graceMs)));
  watchdog?.release();
  watchdog = undefined;
}

export function liveProcesses(): string[] {
  return [...live].map((p) => `${p.name} (pid ${p.child.pid})`);
}

process.on('exit', () => {
  for (const p of live) {
    if (p.running()) p.child.kill('SIGKILL');
  }
});

export function tailOf(file: string, lines = 30): string {
  try {
    const size = statSync(file).size;
    const text = readFileSync(file)
      .subarray(Math.max(0, size - 64 * 1024))
      .toString('utf8');
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch {
    return '';
  }
}

function ensureWatchdog(): Watchdog {
  watchdog ??= new Watchdog();
  return watchdog;
}
