/**
 * The external tools of the chart tests, installed and pinned by scripts/tools/install.sh
 * (versions in scripts/tools/versions.env). A missing tool fails the test with the
 * command that installs it; CI runs that script first, so nothing is skipped.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../../scripts/lib/root';
import { pinnedVersion, readVersions } from '../../../scripts/lib/versions';

export const ROOT = repoRoot();
export const CHART = join(ROOT, 'helm', 'event-pipeline');
export const TOOLS_BIN = join(process.env.TOOLS_DIR ?? join(ROOT, '.cache', 'tools'), 'bin');
const INSTALL = 'bash scripts/tools/install.sh';

export type Tool = 'helm' | 'kube-score' | 'hadolint' | 'kubernetes-validate' | 'promtool';

/** The pinned versions, read from scripts/tools/versions.env. */
export const versions = readVersions();

export { pinnedVersion as pinned };

/** Absolute path of a tool; throws (failing the test) with the install command when absent. */
export function tool(name: Tool): string {
  const path = join(TOOLS_BIN, name);
  if (!existsSync(path)) {
    throw new Error(`${name} is not installed in ${TOOLS_BIN}: run \`${INSTALL}\` (CI does)`);
  }
  return path;
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool and returns its exit status and output, whatever the status. */
export function run(
  name: Tool,
  args: readonly string[],
  options: { cwd?: string; input?: string } = {},
): RunResult {
  const result = spawnSync(tool(name), args, {
    cwd: options.cwd ?? ROOT,
    input: options.input,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Runs a tool that must succeed; its output is in the error when it does not. */
export function runOk(name: Tool, args: readonly string[], options: { cwd?: string } = {}): string {
  const result = run(name, args, options);
  if (result.status !== 0) {
    throw new Error(
      `${name} ${args.join(' ')} exited ${result.status}\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result.stdout;
}

export function gitLsFiles(): string[] {
  return execFileSync('git', ['ls-files', '-co', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((line) => line !== '');
}
