/** Forks one of bench/workers/*.js, hands it its config over IPC and waits for its result. */
import { join } from 'node:path';
import { forkTracked } from '../../scripts/lib/processes';

type Reply<T> = { type: 'result'; result: T } | { type: 'error'; message: string };

export async function runWorker<T>(
  label: string,
  worker: string,
  config: unknown,
  options: { timeoutMs?: number; execArgv?: string[] } = {},
): Promise<T> {
  const proc = forkTracked(label, join(__dirname, '..', 'workers', `${worker}.js`), [], {
    execArgv: options.execArgv ?? [],
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<T>((resolve, reject) => {
      proc.child.once('message', (reply: Reply<T>) => {
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
      timer = setTimeout(
        () => reject(new Error(`${label} gave no result within ${options.timeoutMs} ms`)),
        options.timeoutMs ?? 300_000,
      );
      proc.child.send(config as object);
    });
  } finally {
    clearTimeout(timer);
    await proc.stop('SIGTERM', 5_000);
  }
}
