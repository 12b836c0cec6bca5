/** Runs bench/workers/load.ts (autocannon) in its own process and collects its result. */
import { join } from 'node:path';
import type { LoadConfig, LoadResult } from '../workers/load';
import { forkTracked, type Tracked } from '../../scripts/lib/processes';

export type { LoadConfig, LoadResult };

export interface LoadRun {
  readonly proc: Tracked;
  readonly result: Promise<LoadResult>;
  /** Ends a duration-bound run now; the result still arrives. */
  stop(): void;
}

type Reply = { type: 'result'; result: LoadResult } | { type: 'error'; message: string };

export function startLoad(label: string, config: LoadConfig): LoadRun {
  const proc = forkTracked(`load-${label}`, join(__dirname, '..', 'workers', 'load.js'));
  const result = new Promise<LoadResult>((resolve, reject) => {
    proc.child.once('message', (reply: Reply) => {
      if (reply.type === 'result') resolve(reply.result);
      else reject(new Error(`load generator: ${reply.message}`));
    });
    proc.exited.then(
      (code) =>
        reject(
          new Error(
            `load generator exited (${code}) without a result; log ${proc.logFile}:\n${proc.tail()}`,
          ),
        ),
      reject,
    );
  });
  proc.child.send({ type: 'run', config });
  return {
    proc,
    result: result.finally(() => proc.stop('SIGTERM', 5_000)),
    stop: () => {
      if (proc.child.connected) proc.child.send({ type: 'stop' });
    },
  };
}

export async function runLoad(label: string, config: LoadConfig): Promise<LoadResult> {
  return startLoad(label, config).result;
}

/** Every request that did not end in 2xx: connection errors, timeouts, other statuses. */
export function failedRequests(result: LoadResult): number {
  return result.errors + result.non2xx;
}
