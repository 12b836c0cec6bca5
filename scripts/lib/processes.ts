/**
 * Every process the dev tools start (the benchmark, `npm run local`, the demos, the soak run,
 * the tests' services) goes through here, so that none outlives its owner:
 *
 * - `spawnTracked` / `forkTracked` register the child; `Tracked.stop()` signals it and waits
 *   (SIGKILL after a grace period, if given one); `stopAll()` does that for whatever is left
 *   (bench/run.ts calls it in its finally block and on SIGINT/SIGTERM).
 * - A process 'exit' hook SIGKILLs what is still running when the owner exits without stopAll.
 * - The watchdog process of scripts/watchdog.ts stops the tracked pids when the owner itself
 *   was SIGKILLed.
 *
 * Output of a child goes to a log file (its own path, or a numbered one in the log folder), or
 * to the owner's terminal; `tail()` shows the file's end for error messages.
 */
import { fork, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Watchdog } from '../watchdog';

export interface Tracked {
  readonly name: string;
  readonly child: ChildProcess;
  /** Where its output goes; undefined when it shares the owner's terminal. */
  readonly logFile: string | undefined;
  /** Resolves with the exit code, or the signal's name, when the process has ended. */
  readonly exited: Promise<number | string>;
  running(): boolean;
  /**
   * Signals the process (unless it already ended) and waits for its exit; SIGKILL after
   * `graceMs` (default 20 s; Infinity: never).
   */
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

/** A new numbered file for `name` in the log folder. */
export function newLogFile(name: string): string {
  mkdirSync(logDir, { recursive: true });
  counter += 1;
  return join(logDir, `${String(counter).padStart(3, '0')}-${name.replace(/[^\w.-]+/g, '_')}.log`);
}

function track(
  name: string,
  child: ChildProcess,
  logFile: string | undefined,
  fd: number | undefined,
  guarded = true,
): Tracked {
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
      const timer = Number.isFinite(graceMs)
        ? setTimeout(() => {
            if (running()) child.kill('SIGKILL');
          }, graceMs)
        : undefined;
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    tail: (lines = 30) => (logFile === undefined ? '' : tailOf(logFile, lines)),
  };
  if (live.size === 0) process.on('exit', killLive);
  live.add(tracked);
  const watched = guarded && child.pid !== undefined;
  if (watched && child.pid !== undefined) ensureWatchdog().track(child.pid);
  // Off the books when `exited` settles (the same two events; it never rejects).
  const forget = () => {
    if (!live.delete(tracked)) return;
    if (watched && child.pid !== undefined) watchdog?.untrack(child.pid);
    // Nothing left to guard: no exit hook, no idle watchdog process.
    if (live.size === 0) {
      process.removeListener('exit', killLive);
      watchdog?.release();
      watchdog = undefined;
    }
  };
  child.once('error', forget);
  child.once('exit', forget);
  return tracked;
}

function closeQuietly(fd: number | undefined): void {
  if (fd === undefined) return;
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

export interface SpawnTrackedOptions extends Pick<SpawnOptions, 'env' | 'cwd'> {
  /**
   * Where stdout and stderr go: a file of its own (appended to), 'inherit' (the owner's
   * terminal), or, by default, a new numbered file in the log folder.
   */
  output?: string | 'inherit';
  /** Its own process group: Ctrl-C in a terminal reaches only the owner, which stops it. */
  detached?: boolean;
  /**
   * Default true: the watchdog process stops it if the owner is SIGKILLed. False for owners
   * that start many short-lived processes and have their own end (a jest worker's).
   */
  watchdog?: boolean;
}

/** Starts a command with its stdout and stderr in a log file (or the owner's terminal). */
export function spawnTracked(
  name: string,
  command: string,
  args: string[],
  options: SpawnTrackedOptions = {},
): Tracked {
  const { output, detached, watchdog: guarded, ...spawnOptions } = options;
  if (output === 'inherit') {
    const child = spawn(command, args, { ...spawnOptions, detached, stdio: 'inherit' });
    return track(name, child, undefined, undefined, guarded);
  }
  const logFile = output ?? newLogFile(name);
  mkdirSync(dirname(logFile), { recursive: true });
  const fd = openSync(logFile, 'a');
  const child = spawn(command, args, { ...spawnOptions, detached, stdio: ['ignore', fd, fd] });
  return track(name, child, logFile, fd, guarded);
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

/** The 'exit' hook while anything is tracked: what is still running is SIGKILLed. */
function killLive(): void {
  for (const p of live) {
    if (p.running()) p.child.kill('SIGKILL');
  }
}

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
