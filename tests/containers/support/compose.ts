/**
 * The top-level compose.yaml run by a Compose v2 CLI, as one project of the compose tests.
 *
 *   const project = new ComposeProject({ name, files: [...], env: {...} });
 *   project.run(['up', '-d', '--wait'])      the CLI's result (throws on a non-zero exit)
 *   project.config()                         `docker compose config --format json`, parsed
 *   project.containers()                     the project's containers, as the engine lists them
 *
 * The CLI is the one scripts/tools/install.sh builds (.cache/tools/bin/docker-compose) when it is
 * there, else the machine's own `docker compose` (a user's Docker Desktop or Engine).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { dockerOk } from '../../../scripts/docker/images';
import { repoRoot } from '../../../scripts/lib/root';

export interface ComposeCli {
  command: string;
  /** Arguments before compose's own: ['compose'] for the Docker CLI plugin. */
  prefix: string[];
}

export function composeCli(): ComposeCli {
  const built = join(repoRoot(), '.cache', 'tools', 'bin', 'docker-compose');
  return existsSync(built)
    ? { command: built, prefix: [] }
    : { command: 'docker', prefix: ['compose'] };
}

export class ComposeError extends Error {
  override readonly name = 'ComposeError';
}

export interface ComposeResult {
  status: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Services of `docker compose config --format json`, with the fields the tests read. */
export interface ComposeService {
  image?: string;
  profiles?: string[];
  user?: string;
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  tmpfs?: string[];
  mem_limit?: string;
  cpus?: number;
  stop_grace_period?: string;
  environment?: Record<string, string | null>;
  ports?: Array<{ target: number; published: string; host_ip?: string }>;
  volumes?: Array<{ type: string; source?: string; target: string; read_only?: boolean }>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  build?: { context: string; target?: string; dockerfile?: string };
  command?: string[];
}

export interface ComposeConfig {
  name: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

export interface ComposeContainer {
  id: string;
  service: string;
}

export class ComposeProject {
  readonly name: string;
  private readonly cli = composeCli();
  private readonly files: readonly string[];
  private readonly env: Record<string, string>;

  constructor(options: { name: string; files: readonly string[]; env: Record<string, string> }) {
    this.name = options.name;
    this.files = options.files;
    this.env = options.env;
  }

  private args(args: readonly string[]): string[] {
    return [
      ...this.cli.prefix,
      '--project-name',
      this.name,
      '--project-directory',
      repoRoot(),
      ...this.files.flatMap((file) => ['--file', file]),
      ...args,
    ];
  }

  private environment(extra: Record<string, string>): NodeJS.ProcessEnv {
    return { ...process.env, ...this.env, ...extra };
  }

  /** Runs compose and waits; throws with its output when it fails (unless `allowFailure`). */
  run(
    args: readonly string[],
    options: { allowFailure?: boolean; env?: Record<string, string>; timeoutMs?: number } = {},
  ): ComposeResult {
    const started = performance.now();
    const result = spawnSync(this.cli.command, this.args(args), {
      cwd: repoRoot(),
      env: this.environment(options.env ?? {}),
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      timeout: options.timeoutMs ?? 5 * 60_000,
    });
    if (result.error) throw new ComposeError(`compose ${args.join(' ')}: ${result.error.message}`);
    const outcome = {
      status: result.status,
      stdout: result.stdout,
      stderr: result.stderr,
      seconds: (performance.now() - started) / 1000,
    };
    if (result.status !== 0 && !options.allowFailure) {
      throw new ComposeError(
        `compose ${args.join(' ')} exited ${String(result.status)}\n${result.stdout}\n${result.stderr}`,
      );
    }
    return outcome;
  }

  /** The same without blocking the event loop (the load generator keeps running meanwhile). */
  runAsync(args: readonly string[]): Promise<ComposeResult> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const child = spawn(this.cli.command, this.args(args), {
        cwd: repoRoot(),
        env: this.environment({}),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (status) => {
        const seconds = (performance.now() - started) / 1000;
        if (status === 0) resolve({ status, stdout, stderr, seconds });
        else
          reject(
            new ComposeError(
              `compose ${args.join(' ')} exited ${String(status)}\n${stdout}\n${stderr}`,
            ),
          );
      });
    });
  }

  config(profiles: readonly string[] = []): ComposeConfig {
    const { stdout } = this.run([
      ...profiles.flatMap((profile) => ['--profile', profile]),
      'config',
      '--format',
      'json',
    ]);
    return JSON.parse(stdout) as ComposeConfig;
  }

  /** Every container of the project, running or not (by the label compose puts on them). */
  containers(): ComposeContainer[] {
    const out = dockerOk([
      'ps',
      '--all',
      '--filter',
      `label=com.docker.compose.project=${this.name}`,
      '--format',
      '{{.ID}}\t{{.Label "com.docker.compose.service"}}',
    ]);
    return out
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => {
        const [id = '', service = ''] = line.split('\t');
        return { id, service };
      });
  }
}

/** The names of the volumes mounted into these containers (named and anonymous). */
export function mountedVolumes(ids: readonly string[]): string[] {
  if (ids.length === 0) return [];
  return dockerOk([
    'inspect',
    '--format',
    '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}',
    ...ids,
  ])
    .split(/\s+/)
    .filter((name) => name !== '');
}

/** The first of `names` that the engine still knows, as `docker <kind> inspect` finds it. */
export function stillThere(kind: 'container' | 'network' | 'volume', names: readonly string[]) {
  return names.filter(
    (name) => spawnSync('docker', [kind, 'inspect', name], { stdio: 'ignore' }).status === 0,
  );
}
