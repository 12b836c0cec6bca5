/**
 * The Dockerfile: hadolint, its rules for the runtime image, and the image's file set.
 * No image can be built here (no Docker), so the file set is assembled the way the
 * Dockerfile builds it (support/image.ts: build context filtered by .dockerignore,
 * production dependencies from the lockfile, the compiled services) and each service is
 * started from it with `node`, as the image's command does. A file missing from the image
 * makes a service fail to start, and so this test.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort } from '../support/service-process';
import {
  assemble,
  type Assembled,
  buildContext,
  dockerignoreMatcher,
  listFiles,
  parseDockerfile,
} from './support/image';
import { gitLsFiles, ROOT, run } from './support/tools';

jest.setTimeout(240_000);

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const dockerignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8');
const work = mkdtempSync(join(tmpdir(), 'image-files-'));
const cache = new Map<string, string>();
afterAll(() => rmSync(work, { recursive: true, force: true }));

const assembled = new Map<string, Assembled>();
let assemblies = 0;

/** Assembles a target into a fresh folder (once per Dockerfile text and target). */
function assembleTarget(target: string, text = dockerfile): Assembled {
  const key = `${target}\n${text}`;
  const done = assembled.get(key);
  if (done) return done;
  assemblies += 1;
  const image = assemble(target, {
    dockerfile: text,
    context: buildContext(gitLsFiles(), dockerignore),
    workDir: join(work, `${assemblies}-${target}`),
    cache,
  });
  assembled.set(key, image);
  return image;
}

interface Started {
  code: number | string | null;
  livez: number | undefined;
  metrics: string | undefined;
  output: string;
}

/** Starts the image's command in its workdir and waits for the management port (or the exit). */
async function start(image: Assembled, timeoutMs = 30_000): Promise<Started> {
  // Node looks for node_modules in every parent folder: none may exist above the image root,
  // or a dependency missing from the image would be found there.
  for (let dir = image.root; dir !== dirname(dir); dir = dirname(dir)) {
    if (dir !== image.root) expect(existsSync(join(dir, 'node_modules'))).toBe(false);
  }
  const [program, ...args] = [...image.entrypoint, ...image.cmd];
  expect(program).toBe('node');
  const cwd = join(image.root, image.workdir);
  const managementPort = await freePort();
  const httpPort = await freePort();
  const child = spawn(
    process.execPath,
    args.map((arg) => (arg.startsWith('/') ? join(image.root, arg) : arg)),
    {
      cwd,
      env: {
        ...image.env,
        PATH: dirname(process.execPath),
        MANAGEMENT_PORT: String(managementPort),
        HTTP_PORT: String(httpPort),
        // Nothing listens there: the services must still reach their management port.
        KAFKA_BROKERS: '127.0.0.1:9',
        // Above the producer's PRODUCE_TIMEOUT_MS default (10 s), as its config requires.
        SHUTDOWN_TIMEOUT_MS: '12000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal)),
  );
  let livez: number | undefined;
  let metrics: string | undefined;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && child.exitCode === null && livez === undefined) {
    try {
      livez = (await fetch(`http://127.0.0.1:${managementPort}/livez`)).status;
      metrics = await (await fetch(`http://127.0.0.1:${managementPort}/metrics`)).text();
    } catch {
      await new Promise((done) => setTimeout(done, 200));
    }
  }
  if (child.exitCode === null) child.kill('SIGTERM');
  const code = await exited;
  return { code, livez, metrics, output };
}

test('hadolint finds nothing', () => {
  const result = run('hadolint', ['--no-color', 'Dockerfile']);
  expect(result.stdout + result.stderr).toBe('');
  expect(result.status).toBe(0);
});

test('the runtime stages: pinned Node LTS, numeric non-root user, node as PID 1 on compiled JavaScript', () => {
  const stages = parseDockerfile(dockerfile);
  for (const target of ['producer', 'consumer']) {
    const stage = stages.find((item) => item.name === target);
    expect(stage).toBeDefined();
    const image = assembleTarget(target);
    expect(image.user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect([...image.entrypoint, ...image.cmd]).toEqual([
      'node',
      '--enable-source-maps',
      `dist/services/${target}/main.js`,
    ]);
  }
  for (const stage of stages.filter((item) => !stages.some((other) => other.name === item.from))) {
    // Every external base image: node, an LTS major (22 or 24), an exact version.
    expect(stage.from).toMatch(/^node:(22|24)\.\d+\.\d+-[a-z]+-slim$/);
  }
  const runtime = stages
    .flatMap((stage) => stage.instructions)
    .filter((item) => ['CMD', 'ENTRYPOINT'].includes(item.keyword));
  expect(runtime.map((item) => item.args).join('\n')).not.toMatch(/npm/);
});

test('.dockerignore: last match wins, ! re-includes, a folder covers its files', () => {
  const ignored = dockerignoreMatcher(dockerignore);
  expect(ignored('services/producer/main.ts')).toBe(false);
  expect(ignored('package-lock.json')).toBe(false);
  expect(ignored('tests/unit/x.test.ts')).toBe(true);
  expect(ignored('node_modules/pino/package.json')).toBe(true);
  expect(ignored('.cache/tools/bin/helm')).toBe(true);
  expect(ignored('services/producer/x.test.ts')).toBe(true);
  const own = dockerignoreMatcher('dist\n*.md\n!README.md\nsecrets/**\n');
  expect(own('dist/a.js')).toBe(true);
  expect(own('docs/x.md')).toBe(false);
  expect(own('x.md')).toBe(true);
  expect(own('README.md')).toBe(false);
  expect(own('secrets/a/b')).toBe(true);
});

describe.each(['producer', 'consumer'])('the %s image', (target) => {
  let image: Assembled;
  beforeAll(() => {
    image = assembleTarget(target);
  });

  test('holds production dependencies only, compiled services, no sources, tests or tools', () => {
    const app = join(image.root, image.workdir);
    const files = listFiles(app);
    expect(files).toContain(`dist/services/${target}/main.js`);
    expect(files).toContain('package.json');
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages)
      .filter(([path, meta]) => path.startsWith('node_modules/') && meta.dev === true)
      .map(([path]) => path);
    expect(devOnly.length).toBeGreaterThan(0);
    for (const path of devOnly)
      expect({ path, present: existsSync(join(app, path)) }).toEqual({ path, present: false });
    const own = files.filter((file) => !file.startsWith('node_modules/'));
    expect(
      own.filter(
        (file) =>
          /(^|\/)(tests|scripts|helm|k8s)\//.test(file) ||
          (file.endsWith('.ts') && !file.endsWith('.d.ts')),
      ),
    ).toEqual([]);
    // Read-only root filesystem and a user that owns nothing: everything must be readable by others.
    const unreadable = files.filter((file) => (statSync(join(app, file)).mode & 0o004) === 0);
    expect(unreadable).toEqual([]);
  });

  test("starts with node from the image's files and answers on its management port", async () => {
    const started = await start(image);
    expect({ livez: started.livez, output: started.livez === 200 ? '' : started.output }).toEqual({
      livez: 200,
      output: '',
    });
    expect(started.metrics).toContain('process_cpu_seconds_total');
    // node is PID 1 in the image and must handle SIGTERM itself: the process exits with a
    // code (0, or 1 when Kafka never answered before the deadline), not killed by the signal.
    expect(typeof started.code).toBe('number');
  });
});

test('the test fails when the image lacks a file: without node_modules the producer does not start', async () => {
  const broken = dockerfile.replace(/^COPY --from=deps .*node_modules.*$/m, '');
  expect(broken).not.toBe(dockerfile);
  const image = assembleTarget('producer', broken);
  const started = await start(image, 15_000);
  expect(started.livez).toBeUndefined();
  expect(started.code).not.toBe(0);
  expect(started.output).toMatch(/Cannot find (module|package)/);
});

test('assembly follows the Dockerfile: an unknown RUN fails instead of being skipped', () => {
  const changed = dockerfile.replace(
    'RUN npm run build',
    'RUN npm run build && npm run something-new',
  );
  expect(() => assembleTarget('producer', changed)).toThrow(
    /does not know how to do RUN npm run something-new/,
  );
});

test('COPY of a path .dockerignore excludes fails like docker build would', () => {
  const changed = dockerfile.replace(
    'COPY services ./services',
    'COPY services ./services\nCOPY tests ./tests',
  );
  expect(() => assembleTarget('producer', changed)).toThrow(
    /COPY tests: nothing in the build context/,
  );
});
