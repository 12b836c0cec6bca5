/**
 * The pinned versions of a `versions.env` file (scripts/tools/versions.env, the kind node
 * image's): plain `NAME=value` lines, comments with #. Bash sources the same files.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from './root';

/** scripts/tools/versions.env: the tools of the chart tests and the kind path. */
export const TOOL_VERSIONS = join(repoRoot(), 'scripts', 'tools', 'versions.env');

export function readVersions(file: string = TOOL_VERSIONS): Readonly<Record<string, string>> {
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => {
        const eq = line.indexOf('=');
        return [line.slice(0, eq), line.slice(eq + 1)];
      }),
  );
}

/** One pinned version; throws naming the file when it is not set. */
export function pinnedVersion(name: string, file: string = TOOL_VERSIONS): string {
  const value = readVersions(file)[name];
  if (value === undefined || value === '') {
    throw new Error(`${name} is not set in ${relative(repoRoot(), file)}`);
  }
  return value;
}
