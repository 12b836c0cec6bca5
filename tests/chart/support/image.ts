/**
 * Assembles the file set of an image target the way its Dockerfile would, without Docker:
 * stages are folders, FROM another stage copies it, COPY copies from the build context
 * (the repo filtered by .dockerignore) or from a stage, and the few RUN commands the
 * Dockerfile uses are done for real (npm ci --omit=dev, npm run build) or emulated where
 * the result is the same (npm ci with dev dependencies = the repo's own node_modules,
 * installed from the same lockfile). A RUN this module does not know fails the test, so
 * the Dockerfile cannot drift away from what is tested.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { ROOT } from './tools';

export interface Instruction {
  keyword: string;
  args: string;
}
export interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

/** Parses a Dockerfile into stages (comments, line continuations and ARG defaults handled). */
export function parseDockerfile(text: string): Stage[] {
  const lines: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    lines.push(current + line);
    current = '';
  }
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const match = /^(\S+)\s+(.*)$/.exec(line);
    if (!match) throw new Error(`cannot parse Dockerfile line: ${line}`);
    const keyword = match[1]!.toUpperCase();
    const rest = match[2]!.replace(/\$\{(\w+)\}/g, (_, name: string) => args[name] ?? '');
    if (keyword === 'ARG' && stages.length === 0) {
      const [name, value] = rest.split('=');
      args[name!] = value ?? '';
      continue;
    }
    if (keyword === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!from) throw new Error(`cannot parse FROM ${rest}`);
      stages.push({ name: from[2] ?? String(stages.length), from: from[1]!, instructions: [] });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (!stage) throw new Error(`${keyword} before the first FROM`);
    stage.instructions.push({ keyword, args: rest });
  }
  return stages;
}

/** Docker's .dockerignore rules: last matching pattern wins, `!` re-includes, a match on a folder covers its contents. */
export function dockerignoreMatcher(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!');
      const pattern = posix
        .normalize((negate ? line.slice(1) : line).replace(/^\/+/, ''))
        .replace(/\/+$/, '');
      const source = pattern
        .split('/')
        .map((part) =>
          part === '**'
            ? '.*'
            : part
                .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                .replace(/\*/g, '[^/]*')
                .replace(/\?/g, '[^/]'),
        )
        .join('/')
        .replace(/\.\*\//g, '(?:.*/)?');
      return { negate, regex: new RegExp(`^${source}$`) };
    });
  return (path: string) => {
    const parts = path.split('/');
    let excluded = false;
    for (const rule of rules) {
      for (let i = 1; i <= parts.length; i += 1) {
        if (rule.regex.test(parts.slice(0, i).join('/'))) {
          excluded = !rule.negate;
          break;
        }
      }
    }
    return excluded;
  };
}

/** The files of the build context: the repo's tracked and untracked (not git-ignored) files, less .dockerignore. */
export function buildContext(files: readonly string[], dockerignore: string): string[] {
  const ignored = dockerignoreMatcher(dockerignore);
  return files.filter((file) => existsSync(join(ROOT, file)) && !ignored(file));
}

export interface AssembleOptions {
  dockerfile: string;
  context: readonly string[];
  workDir: string;
  /** Reuse of stage folders between assemblies of the same Dockerfile. */
  cache?: Map<string, string>;
  log?: (line: string) => void;
}

export interface Assembled {
  root: string;
  workdir: string;
  entrypoint: string[];
  cmd: string[];
  user: string | undefined;
  env: Record<string, string>;
}

function splitJson(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) {
    throw new Error(`exec form expected, got ${args}`);
  }
  return parsed as string[];
}

function copyInto(source: string, destination: string): void {
  mkdirSync(dirname(destination), { recursive: true });
  cpSync(source, destination, { recursive: true, dereference: true });
}

export function assemble(target: string, options: AssembleOptions): Assembled {
  const stages = parseDockerfile(options.dockerfile);
  const byName = new Map(stages.map((stage) => [stage.name, stage]));
  const log = options.log ?? (() => undefined);
  const built = new Map<string, Assembled>();

  const build = (name: string): Assembled => {
    const done = built.get(name);
    if (done) return done;
    const stage = byName.get(name);
    if (!stage) throw new Error(`no stage ${name} in the Dockerfile`);
    const root = join(options.workDir, `stage-${name}`);
    let state: Assembled;
    if (byName.has(stage.from)) {
      const base = build(stage.from);
      copyInto(base.root, root);
      state = {
        ...base,
        root,
        env: { ...base.env },
        entrypoint: [...base.entrypoint],
        cmd: [...base.cmd],
      };
    } else {
      mkdirSync(root, { recursive: true });
      state = { root, workdir: '/', entrypoint: [], cmd: [], user: undefined, env: {} };
    }
    const inStage = (path: string) => join(root, posix.resolve(state.workdir, path));
    for (const { keyword, args } of stage.instructions) {
      switch (keyword) {
        case 'WORKDIR':
          state.workdir = posix.resolve(state.workdir, args);
          mkdirSync(inStage('.'), { recursive: true });
          break;
        case 'ENV':
          for (const match of args.matchAll(/(\w+)=(\S+)/g)) state.env[match[1]!] = match[2]!;
          break;
        case 'USER':
          state.user = args;
          break;
        case 'ENTRYPOINT':
          state.entrypoint = splitJson(args);
          state.cmd = [];
          break;
        case 'CMD':
          state.cmd = splitJson(args);
          break;
        case 'EXPOSE':
        case 'LABEL':
        case 'ARG':
          break;
        case 'COPY': {
          const words = args.split(/\s+/);
          const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
          const paths = words.filter((word) => !word.startsWith('--'));
          const destination = paths.pop()!;
          for (const source of paths) {
            if (from !== undefined) {
              const other = build(from);
              const path = join(other.root, posix.resolve(other.workdir, source));
              if (!existsSync(path))
                throw new Error(`COPY --from=${from} ${source}: not in stage ${from}`);
              const target = destination.endsWith('/')
                ? join(inStage(destination), posix.basename(source))
                : inStage(destination);
              copyInto(path, target);
              continue;
            }
            const prefix = source.replace(/\/+$/, '');
            const matched = options.context.filter(
              (file) => file === prefix || file.startsWith(`${prefix}/`),
            );
            if (matched.length === 0)
              throw new Error(`COPY ${source}: nothing in the build context (.dockerignore?)`);
            for (const file of matched) {
              const inside = file === prefix ? posix.basename(file) : relative(prefix, file);
              const target =
                file === prefix &&
                !destination.endsWith('/') &&
                paths.length === 1 &&
                destination !== './'
                  ? inStage(destination)
                  : join(inStage(destination), inside);
              copyInto(join(ROOT, file), target);
            }
          }
          break;
        }
        case 'RUN':
          for (const command of args.split('&&').map((part) => part.trim()))
            runStep(command, inStage('.'), log, options.cache);
          break;
        default:
          throw new Error(
            `the image test does not know the instruction ${keyword}: teach tests/chart/support/image.ts`,
          );
      }
    }
    built.set(name, state);
    return state;
  };
  return build(target);
}

function runStep(
  command: string,
  cwd: string,
  log: (line: string) => void,
  cache?: Map<string, string>,
): void {
  const words = command.split(/\s+/);
  const npm = (args: string[]) =>
    execFileSync('npm', args, {
      cwd,
      stdio: 'pipe',
      env: { ...process.env, npm_config_update_notifier: 'false' },
    });
  if (words[0] === 'npm' && words[1] === 'ci') {
    if (words.includes('--omit=dev')) {
      const cached = cache?.get('npm ci --omit=dev');
      if (cached) {
        cpSync(cached, join(cwd, 'node_modules'), { recursive: true, verbatimSymlinks: true });
        return;
      }
      log('npm ci --omit=dev (for real, from the lockfile)');
      npm(['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund']);
      cache?.set('npm ci --omit=dev', join(cwd, 'node_modules'));
      return;
    }
    if (words.includes('--include=dev')) {
      // Same lockfile, all dependencies: what the repo's node_modules already is (CI ran npm ci).
      symlinkSync(join(ROOT, 'node_modules'), join(cwd, 'node_modules'), 'dir');
      return;
    }
  }
  if (command === 'npm run build') {
    log('npm run build');
    npm(['run', 'build']);
    return;
  }
  if (command === 'npm cache clean --force') return; // empties npm's cache outside /app: no effect on the file set
  throw new Error(
    `the image test does not know how to do RUN ${command}: teach tests/chart/support/image.ts`,
  );
}

/** Every file below a folder, relative to it. */
export function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const rel = prefix === '' ? name : `${prefix}/${name}`;
    return statSync(path).isDirectory() ? listFiles(path, rel) : [rel];
  });
}
