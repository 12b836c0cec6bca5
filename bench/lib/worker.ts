/** Forks one of bench/workers/*.js, hands it its config over IPC and waits for its result. */
import { join } from 'node:path';
import { forkTracked, type Tracked } from '../../scripts/lib/processes';
import type { WorkerReply } from './serve-worker';

export interface WorkerRun<T> {
  readonly proc: Tracked;
  /** The worker's answer; the worker is stopped once it is in. */
  readonly result: Promise<T>;
  /** A message after the config (see serveWorker's onControl). */
  control(message: object): void;
}

export function startWorker<T>(
  label: string,
  worker: string,
  config: unknown,
  options: { execArgv?: string[] } = {},
): WorkerRun<T> {
  const proc = forkTracked(label, join(__dirname, '..', 'workers', `${worker}.js`), [], {
    execArgv: options.execArgv ?? [],
  });
  const result = new Promise<T>((resolve, reject) => {
    proc.child.once('message', (reply: WorkerReply<T>) => {
      if (reply.type === 'result') resolve(reply.result);
      else reject(new Error(`${label}: ${reply.message}`));
    });
    proc.exited.then(
      (code) =>
        reject(
          new Error(
            `${label} exited (${code}) without a result; log ${proc.logFile}:\n${proc.tail()}`,
          ),
        ),
      reject,
    );
  });
  proc.child.send(config as object);
  return {
    proc,
    result: result.finally(() => proc.stop('SIGTERM', 5_000)),
    control: (message) => {
      if (proc.child.connected) proc.child.send(message);
    },
  };
}

export async function runWorker<T>(
  label: string,
  worker: string,
  config: unknown,
  options: { timeoutMs?: number; execArgv?: string[] } = {},
): Promise<T> {
  const run = startWorker<T>(label, worker, config, options);
  const timeoutMs = options.timeoutMs ?? 300_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${label} gave no result within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([run.result, timedOut]);
  } finally {
    clearTimeout(timer);
    await run.proc.stop('SIGTERM', 5_000);
  }
}
