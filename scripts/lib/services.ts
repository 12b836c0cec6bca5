/**
 * Our services as child processes, for `npm run local`, the demos, the soak run, the benchmark
 * and the integration tests: the built dist/services/<name>/main.js, run the way it runs in a
 * pod. Each is a tracked process (processes.ts: none outlives its owner), its output goes to
 * a log file or the owner's terminal, and it is stopped with exactly one signal (as
 * Kubernetes does; a second one means "exit now" to the services).
 *
 *   const producer = startService('producer', { managementPort, env: { HTTP_PORT: '8080' } });
 *   await waitUntilReady(producer);   // /readyz answers 200; fails early if it exits
 *   producer.logs()                   // its JSON log lines so far
 *   await producer.stop()             // SIGTERM, then its exit code (or signal name)
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnTracked, type Tracked } from './processes';
import { freePorts } from './ports';
import { waitFor } from './poll';
import { repoRoot } from './root';

export type ServiceName = 'producer' | 'consumer';

export interface ServiceOptions {
  /** The service's management port (/livez, /readyz, /metrics). */
  managementPort: number;
  /** Its settings (win over everything below). */
  env?: Record<string, string>;
  /**
   * The environment underneath: 'clean' (default), only PATH and the owner's KAFKA_BROKERS,
   * so that a test sees the services' own defaults; 'inherit', all of the owner's.
   */
  baseEnv?: 'clean' | 'inherit';
  /**
   * Where stdout and stderr go: a file (appended to), 'inherit' (the owner's terminal), or by
   * default a new file reports/service-logs/<name>-<label>-<pid>-<n>.log.
   */
  output?: string | 'inherit';
  /** A name for messages and the default log file; default: the service name. */
  label?: string;
  /** The build to run (the folder holding services/); default: this checkout's dist/. */
  distDir?: string;
  /** Arguments for node itself (say --cpu-prof). */
  nodeArgs?: string[];
  /** Its own process group: Ctrl-C in a terminal reaches only the owner, which stops it. */
  detached?: boolean;
}

/**
 * The tracked process's child, logFile, exited, running() and stop(), except that stop()
 * sends one signal and, unless given a grace period, waits as long as it takes.
 */
export interface RunningService extends Pick<
  Tracked,
  'child' | 'logFile' | 'exited' | 'running' | 'stop'
> {
  readonly name: ServiceName;
  readonly label: string;
  readonly proc: Tracked;
  readonly managementUrl: string;
  /** Every whole JSON log line so far, parsed (none with output 'inherit'). */
  logs(): Array<Record<string, unknown>>;
}

export const SERVICE_LOG_DIR = join(repoRoot(), 'reports', 'service-logs');
let started = 0;

export function serviceMain(name: ServiceName, distDir = join(repoRoot(), 'dist')): string {
  return join(distDir, 'services', name, 'main.js');
}

export function startService(name: ServiceName, options: ServiceOptions): RunningService {
  const label = options.label ?? name;
  started += 1;
  let output = options.output;
  if (output === undefined) {
    mkdirSync(SERVICE_LOG_DIR, { recursive: true });
    output = join(SERVICE_LOG_DIR, `${name}-${label}-${process.pid}-${started}.log`);
  }
  const base: NodeJS.ProcessEnv =
    options.baseEnv === 'inherit'
      ? process.env
      : {
          PATH: process.env.PATH ?? '',
          ...(process.env.KAFKA_BROKERS ? { KAFKA_BROKERS: process.env.KAFKA_BROKERS } : {}),
        };
  const proc = spawnTracked(
    label,
    process.execPath,
    [...(options.nodeArgs ?? []), serviceMain(name, options.distDir)],
    {
      env: {
        ...base,
        KAFKAJS_NO_PARTITIONER_WARNING: '1',
        MANAGEMENT_PORT: String(options.managementPort),
        ...options.env,
      },
      output,
      detached: options.detached,
    },
  );
  return {
    name,
    label,
    proc,
    child: proc.child,
    managementUrl: `http://127.0.0.1:${options.managementPort}`,
    logFile: proc.logFile,
    exited: proc.exited,
    running: proc.running,
    stop: (signal: NodeJS.Signals = 'SIGTERM', graceMs = Infinity) => proc.stop(signal, graceMs),
    logs: () => (proc.logFile === undefined ? [] : jsonLines(proc.logFile)),
  };
}

function jsonLines(file: string): Array<Record<string, unknown>> {
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.pop(); // the text after the last newline is a line still being written
  return lines
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const where = (service: RunningService) =>
  service.logFile === undefined ? '' : `; log: ${service.logFile}`;

/**
 * Polls `url` until it answers `status`; fails early when `service` (if given) exits, with
 * the end of its log.
 */
export async function waitForStatus(
  url: string,
  status: number,
  options: { timeoutMs?: number; service?: RunningService } = {},
): Promise<void> {
  const { service } = options;
  const timeoutMs = options.timeoutMs ?? 60_000;
  let last = 'no answer';
  await waitFor(
    `${url} to answer ${status}`,
    async () => {
      if (service !== undefined && !service.running()) {
        throw new Error(
          `${service.label} exited (${await service.exited})${where(service)}\n${service.proc.tail()}`,
        );
      }
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
        last = `${response.status} ${await response.text()}`;
        return response.status === status;
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
        return false;
      }
    },
    { timeoutMs, intervalMs: 100 },
  ).catch((error: unknown) => {
    if (service !== undefined && !service.running()) throw error;
    const label = service === undefined ? url : `${service.label} (${url})`;
    throw new Error(
      `${label} did not answer ${status} within ${timeoutMs} ms (last: ${last})${service ? `${where(service)}\n${service.proc.tail()}` : ''}`,
    );
  });
}

/** Polls /readyz until it answers 200; fails early if the service exits. */
export function waitUntilReady(service: RunningService, timeoutMs = 60_000): Promise<void> {
  return waitForStatus(`${service.managementUrl}/readyz`, 200, { timeoutMs, service });
}

const FATAL = 60; // pino's level number for fatal

/**
 * True when the service has exited because a port it was given was taken: its last fatal log
 * line (a log file may hold earlier runs) is the start-up failure with code EADDRINUSE.
 */
export function exitedOnTakenPort(service: RunningService): boolean {
  if (service.running() || service.logFile === undefined) return false;
  const fatal = service.logs().filter((line) => line.level === FATAL);
  const err = fatal[fatal.length - 1]?.err as { code?: unknown } | undefined;
  return err?.code === 'EADDRINUSE';
}

const PORT_ATTEMPTS = 3;

/**
 * Starts a service on ports the OS says are free (its management port and the settings named
 * in `portSettings`, e.g. HTTP_PORT) and waits until it answers `until` with 200. A free port
 * can be taken by another process before the service binds it (on a busy machine, the local
 * port of someone's outgoing connection); the service then exits with EADDRINUSE, and it is
 * started again on new ports, at most three times in all.
 */
export async function startOnFreePorts(
  name: ServiceName,
  options: Omit<ServiceOptions, 'managementPort'> & {
    portSettings?: readonly string[];
    until?: '/readyz' | '/livez';
    timeoutMs?: number;
    /** How ports are chosen (tests hand out a taken one); default: freePorts. */
    choosePorts?: (count: number) => Promise<number[]>;
  },
): Promise<{ service: RunningService; ports: Record<string, number> }> {
  const {
    portSettings = [],
    until = '/readyz',
    timeoutMs = 60_000,
    choosePorts = freePorts,
    ...serviceOptions
  } = options;
  for (let attempt = 1; ; attempt += 1) {
    const [managementPort = 0, ...settingPorts] = await choosePorts(1 + portSettings.length);
    const ports: Record<string, number> = {};
    portSettings.forEach((setting, index) => (ports[setting] = settingPorts[index] ?? 0));
    const env = { ...serviceOptions.env };
    for (const [setting, port] of Object.entries(ports)) env[setting] = String(port);
    const service = startService(name, { ...serviceOptions, managementPort, env });
    try {
      await waitForStatus(`${service.managementUrl}${until}`, 200, { timeoutMs, service });
      return { service, ports };
    } catch (error) {
      await service.stop('SIGKILL');
      if (attempt >= PORT_ATTEMPTS || !exitedOnTakenPort(service)) throw error;
    }
  }
}

/** True for the ways a service may end after a stop signal. */
export function stoppedCleanly(exit: number | string): boolean {
  return exit === 0 || exit === 'SIGTERM' || exit === 'SIGINT';
}
