/**
 * The service images, built from the unchanged Dockerfile with a real Docker engine: used by
 * the container tests (tests/containers) and anything else that needs the images.
 *
 *   dockerAnswers()                 true when `docker info` succeeds
 *   ensureStandIns()                the base images the Dockerfile's FROM lines name, built
 *                                   here where no registry can be reached (stand-ins.sh)
 *   serviceImages()                 { producer, consumer }: the names the chart's values give
 *   buildServiceImages()            `docker build --target <service>` of both, timed
 *
 * The legacy builder (DOCKER_BUILDKIT=0) builds them: BuildKit would pull the frontend image
 * that the Dockerfile's `# syntax=` line names, and no image can be pulled here; the legacy
 * builder reads that line as a comment. Users' machines build with BuildKit as usual.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from '../lib/root';

export type ServiceTarget = 'producer' | 'consumer';
export const SERVICE_TARGETS: readonly ServiceTarget[] = ['producer', 'consumer'];

export class DockerError extends Error {
  override readonly name = 'DockerError';
}

/** Runs the docker CLI, synchronously; the result whatever the exit status. */
export function docker(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): SpawnSyncReturns<string> {
  const result = spawnSync('docker', args, {
    cwd: repoRoot(),
    env: options.env ?? process.env,
    input: options.input,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: options.timeoutMs ?? 10 * 60_000,
  });
  if (result.error) throw new DockerError(`docker ${args.join(' ')}: ${result.error.message}`);
  return result;
}

/** Runs the docker CLI and returns its standard output; throws with its output on failure. */
export function dockerOk(
  args: readonly string[],
  options: Parameters<typeof docker>[1] = {},
): string {
  const result = docker(args, options);
  if (result.status !== 0) {
    throw new DockerError(
      `docker ${args.join(' ')} exited ${String(result.status)}\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result.stdout;
}

/** Runs the docker CLI without blocking the event loop (a test polls while `docker stop` runs). */
export function dockerAsync(
  args: readonly string[],
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { cwd: repoRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

export function dockerAnswers(): boolean {
  try {
    return docker(['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 20_000 }).status === 0;
  } catch {
    return false;
  }
}

/** Builds the stand-in base images that are missing (none where the real ones exist) and returns their names. */
export function ensureStandIns(): string[] {
  const result = spawnSync('bash', [join(repoRoot(), 'scripts', 'docker', 'stand-ins.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 15 * 60_000,
  });
  if (result.status !== 0) {
    throw new DockerError(`scripts/docker/stand-ins.sh exited ${String(result.status)}`);
  }
  return result.stdout.split('\n').filter((line) => line !== '');
}

interface ChartImageValues {
  image: { repository: string; tag: string };
}

/** The image of each service as the chart's default values name it (repository:tag). */
export function serviceImages(): Record<ServiceTarget, string> {
  const values = parse(
    readFileSync(join(repoRoot(), 'helm', 'event-pipeline', 'values.yaml'), 'utf8'),
  ) as Record<ServiceTarget, ChartImageValues>;
  const name = (target: ServiceTarget) =>
    `${values[target].image.repository}:${values[target].image.tag}`;
  return { producer: name('producer'), consumer: name('consumer') };
}

export interface BuiltImage {
  target: ServiceTarget;
  image: string;
  seconds: number;
}

/** Builds both targets of the Dockerfile under the chart's image names. */
export function buildServiceImages(
  images: Record<ServiceTarget, string> = serviceImages(),
): BuiltImage[] {
  return SERVICE_TARGETS.map((target) => {
    const started = performance.now();
    dockerOk(['build', '--quiet', '--target', target, '--tag', images[target], '.'], {
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
    });
    return { target, image: images[target], seconds: (performance.now() - started) / 1000 };
  });
}
