/**
 * Apache Kafka's jars from Maven Central, fetched once into the git-ignored cache
 * `.cache/kafka-<version>/libs` (Maven's own repository: `.cache/m2`).
 *
 *   ensureKafkaJars(): Promise<string>   the libs dir; fetches only when the cache is missing
 *                                        or incomplete (no marker file written after success)
 *   node dist/scripts/kafka/fetch.js     the same from the command line (.ci/run pre-fetches)
 *   ensureMavenJars({...}): Promise<string>  the same for any pom's runtime dependencies
 *                                        (the benchmarks fetch Strimzi Kafka Bridge with it)
 *
 * A fetch goes to a temporary folder that is renamed into place, then the marker is written;
 * a lock folder keeps two processes (say jest and `npm run local`) from fetching at once.
 */
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '../lib/root';
import { KAFKA_VERSION } from './version';

export { KAFKA_VERSION };

const MARKER = '.fetch-complete.json';
const LOCK_WAIT_MS = 10 * 60_000;

interface Marker {
  version: string;
  jars: string[];
}

export function kafkaCacheDir(version: string = KAFKA_VERSION): string {
  return join(repoRoot(), '.cache', `kafka-${version}`);
}

/** True when the marker names this version and every jar it lists is present. */
export function isComplete(cacheDir: string, version: string): boolean {
  const markerFile = join(cacheDir, MARKER);
  if (!existsSync(markerFile)) return false;
  try {
    const marker = JSON.parse(readFileSync(markerFile, 'utf8')) as Marker;
    const libs = join(cacheDir, 'libs');
    return (
      marker.version === version &&
      marker.jars.length > 0 &&
      marker.jars.every((jar) => existsSync(join(libs, jar)))
    );
  } catch {
    return false;
  }
}

export async function ensureKafkaJars(
  version: string = KAFKA_VERSION,
  say: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<string> {
  return ensureMavenJars({
    label: 'kafka',
    what: `Apache Kafka ${version}`,
    pom: join(repoRoot(), 'scripts', 'kafka', 'pom.xml'),
    cacheDir: kafkaCacheDir(version),
    version,
    properties: { 'kafka.version': version },
    expectJar: `kafka_2.13-${version}`,
    say,
  });
}

export interface MavenJarsSpec {
  /** Starts the progress line, e.g. "kafka". */
  label: string;
  /** For the progress line, e.g. "Apache Kafka 4.3.1". */
  what: string;
  /** A pom whose runtime dependencies are the jars wanted. */
  pom: string;
  /** The jars go to `<cacheDir>/libs`, with a marker file beside it. */
  cacheDir: string;
  /** Recorded in the marker: a cache made for another version is fetched again. */
  version: string;
  /** Passed to Maven as -Dname=value. */
  properties?: Record<string, string>;
  /** A jar name prefix that must be among the results. */
  expectJar: string;
  say?: (line: string) => void;
}

/** The runtime dependencies of a pom, fetched once into a git-ignored cache; returns the libs dir. */
export async function ensureMavenJars(spec: MavenJarsSpec): Promise<string> {
  const { cacheDir, version } = spec;
  const say = spec.say ?? ((line: string) => process.stderr.write(`${line}\n`));
  const libs = join(cacheDir, 'libs');
  if (isComplete(cacheDir, version)) return libs;

  const release = await lock(`${cacheDir}.lock`);
  try {
    if (isComplete(cacheDir, version)) return libs; // another process fetched while we waited
    say(
      `${spec.label}: fetching ${spec.what} jars with Maven into ${relative(process.cwd(), libs) || libs} (once)`,
    );
    const root = repoRoot();
    const partial = join(cacheDir, `libs.partial-${process.pid}`);
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(cacheDir, { recursive: true });
    const mvnBase = ['-q', '-B', `-Dmaven.repo.local=${join(root, '.cache', 'm2')}`];
    try {
      await run('mvn', [
        ...mvnBase,
        '-f',
        spec.pom,
        ...Object.entries(spec.properties ?? {}).map(([name, value]) => `-D${name}=${value}`),
        'dependency:copy-dependencies',
        `-DoutputDirectory=${partial}`,
        '-DincludeScope=runtime',
      ]);
      const jars = readdirSync(partial).filter((name) => name.endsWith('.jar'));
      if (!jars.some((jar) => jar.startsWith(spec.expectJar))) {
        throw new Error(`Maven finished but ${partial} holds no ${spec.expectJar}*.jar`);
      }
      rmSync(join(cacheDir, MARKER), { force: true });
      rmSync(libs, { recursive: true, force: true });
      renameSync(partial, libs);
      const marker: Marker = { version, jars: jars.sort() };
      writeFileSync(join(cacheDir, MARKER), `${JSON.stringify(marker, null, 2)}\n`);
      return libs;
    } finally {
      rmSync(partial, { recursive: true, force: true });
    }
  } finally {
    release();
  }
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new Error(`${command} not found on PATH: Maven 3 is needed to fetch Kafka's jars`)
          : error,
      ),
    );
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} failed (${code ?? signal}):\n${output}`));
    });
  });
}

/** A lock folder (mkdir is atomic) holding the owner's pid; a dead owner's lock is taken over. */
async function lock(path: string): Promise<() => void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  mkdirSync(dirname(path), { recursive: true });
  for (;;) {
    try {
      mkdirSync(path);
      writeFileSync(join(path, 'pid'), String(process.pid));
      return () => rmSync(path, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (!ownerAlive(path)) {
      rmSync(path, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for the lock ${path}`);
    await sleep(500);
  }
}

function ownerAlive(lockDir: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
  } catch {
    // The owner made the folder but has not written its pid yet, or died in between.
    try {
      return Date.now() - statSync(lockDir).mtimeMs < 10_000;
    } catch {
      return false;
    }
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

if (require.main === module) {
  ensureKafkaJars()
    .then((libs) => process.stdout.write(`kafka ${KAFKA_VERSION}: ${libs}\n`))
    .catch((error: unknown) => {
      process.stderr.write(
        `kafka: fetch failed: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exit(1);
    });
}
