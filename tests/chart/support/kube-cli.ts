/**
 * helm against the API server of apiserver.ts (its kubeconfig and TEST_CONTEXT, Helm's homes in
 * the server's temp folder), and the warnings the API server sent back, as helm and kubectl
 * print them on stderr.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { TEST_CONTEXT, type ApiServer } from './apiserver';
import { ROOT, tool, type RunResult } from './tools';

export function helm(server: ApiServer, args: readonly string[]): RunResult {
  const home = join(server.dir, 'helm');
  const result = spawnSync(
    tool('helm'),
    [...args, '--kubeconfig', server.kubeconfig, '--kube-context', TEST_CONTEXT],
    {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      timeout: 120_000,
      env: {
        ...process.env,
        HELM_CACHE_HOME: join(home, 'cache'),
        HELM_CONFIG_HOME: join(home, 'config'),
        HELM_DATA_HOME: join(home, 'data'),
      },
    },
  );
  if (result.error) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** helm that must succeed; its output is in the error when it does not. */
export function helmOk(server: ApiServer, args: readonly string[]): RunResult {
  const result = helm(server, args);
  if (result.status !== 0) {
    throw new Error(
      `helm ${args.join(' ')} exited ${result.status}\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result;
}

/** Lines of stderr that carry a warning (kubectl: "Warning: ...", client-go's klog: "W1201 ..."). */
export function warnings(stderr: string): string[] {
  return stderr.split('\n').filter((line) => /warn/i.test(line) || /^W\d{4} /.test(line));
}
