/**
 * Strimzi Kafka Bridge, the peer HTTP producer: its jars fetched with Maven into
 * .cache/kafka-bridge-<version>/libs (bench/bridge/pom.xml), run from them with a config file
 * written here, against the benchmark's broker.
 *
 * If Maven cannot resolve the artifact, the Bridge scenarios are reported as unavailable with
 * the reason, and the rest of the bench runs. Jars from elsewhere (the release archive's
 * libs/ folder) can be used with --bridge-libs <dir> or BENCH_BRIDGE_LIBS.
 *
 * Both release lines run: 0.33.x (Java 17, /ready on the HTTP port) and 1.x (Java 21 or newer,
 * /ready on its management port, `http.management.port`). The version is read from the
 * kafka-bridge jar's name; a 1.x Bridge runs on BENCH_BRIDGE_JAVA_HOME, or on the first JDK
 * of at least 21 found on the machine (JAVA_HOME, then /usr/lib/jvm/*, then macOS's
 * /Library/Java/JavaVirtualMachines/*\/Contents/Home).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureMavenJars } from '../../scripts/kafka/fetch';
import { spawnTracked, type Tracked } from '../../scripts/lib/processes';
import { javaBinary } from '../lib/java';
import { freePort } from '../../scripts/lib/ports';
import { repoRoot } from '../../scripts/lib/root';
import { waitFor } from '../../scripts/lib/poll';

/** The newest 0.33.x (the last line on Java 17; later ones need Java 21). */
export const BRIDGE_VERSION = '0.33.1';
export const BRIDGE_MAIN_CLASS = 'io.strimzi.kafka.bridge.Application';
export const BRIDGE_CONTENT_TYPE = 'application/vnd.kafka.json.v2+json';

export type BridgeAvailability = { libs: string } | { unavailable: string };

/** The Bridge's version, from the kafka-bridge-<version>.jar in `libs`. */
export function bridgeVersionOf(libs: string): string {
  const jar = readdirSync(libs).find((name) => /^kafka-bridge-\d+\.\d+\.\d+.*\.jar$/.test(name));
  const version = jar?.slice('kafka-bridge-'.length, -'.jar'.length);
  if (!version) throw new Error(`${libs} holds no kafka-bridge-<version>.jar`);
  return version;
}

/** 1.x and later: Java 21+, readiness on a separate management port. */
export function isBridgeLine1(version: string): boolean {
  return Number(version.split('.')[0]) >= 1;
}

/** The major version a JDK's `release` file states (JAVA_VERSION="21.0.2" → 21). */
export function javaMajorOf(home: string): number | undefined {
  try {
    const match = /^JAVA_VERSION="(\d+)(?:\.|")/m.exec(readFileSync(join(home, 'release'), 'utf8'));
    return match?.[1] ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** A Java home of at least `major`: `preferred` (if given), else JAVA_HOME, else the first found. */
export function findJavaHome(
  major: number,
  preferred: string | undefined,
  roots: string[] = ['/usr/lib/jvm', '/Library/Java/JavaVirtualMachines'],
): string | undefined {
  if (preferred) return preferred;
  const candidates = [process.env.JAVA_HOME ?? ''].filter((home) => home !== '');
  for (const root of roots) {
    if (!existsSync(root)) continue;
    for (const name of readdirSync(root).sort()) {
      const home = join(root, name);
      candidates.push(
        existsSync(join(home, 'Contents', 'Home')) ? join(home, 'Contents', 'Home') : home,
      );
    }
  }
  return candidates.find((home) => (javaMajorOf(home) ?? 0) >= major);
}

/** The Bridge's application.properties (producer side only, acks=all). */
export function bridgeConfig(
  version: string,
  brokers: string[],
  ports: { http: number; management: number },
): string {
  const lines = [
    `bridge.id=bench-bridge`,
    `kafka.bootstrap.servers=${brokers.join(',')}`,
    'kafka.producer.acks=all',
    'http.enabled=true',
    'http.host=127.0.0.1',
    `http.port=${ports.http}`,
    'http.consumer.enabled=false',
    'http.producer.enabled=true',
  ];
  if (isBridgeLine1(version)) lines.push(`http.management.port=${ports.management}`);
  else lines.push('amqp.enabled=false');
  return [...lines, ''].join('\n');
}

export async function resolveBridge(libsOverride: string | undefined): Promise<BridgeAvailability> {
  const given = libsOverride ?? process.env.BENCH_BRIDGE_LIBS;
  if (given !== undefined && given !== '') {
    const jars = existsSync(given) ? readdirSync(given).filter((n) => n.endsWith('.jar')) : [];
    return jars.some((n) => n.startsWith('kafka-bridge'))
      ? { libs: given }
      : { unavailable: `${given} holds no kafka-bridge*.jar` };
  }
  try {
    const libs = await ensureMavenJars({
      label: 'bench',
      what: `Strimzi Kafka Bridge ${BRIDGE_VERSION}`,
      pom: join(repoRoot(), 'bench', 'bridge', 'pom.xml'),
      cacheDir: join(repoRoot(), '.cache', `kafka-bridge-${BRIDGE_VERSION}`),
      version: BRIDGE_VERSION,
      properties: { 'bridge.version': BRIDGE_VERSION },
      expectJar: `kafka-bridge-${BRIDGE_VERSION}`,
      say: () => undefined,
    });
    return { libs };
  } catch (error) {
    return {
      unavailable: `Maven could not fetch io.strimzi:kafka-bridge:${BRIDGE_VERSION}: ${mavenReason(error)}`,
    };
  }
}

/** Maven's complaint in a few words, without repository addresses. */
export function mavenReason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  if (/was not found in|Could not find artifact/.test(text))
    return 'the Maven repository does not have it';
  const line =
    text.split('\n').find((l) => l.includes('ERROR')) ?? text.split('\n')[0] ?? 'unknown error';
  return line
    .replace(/\[ERROR\]\s*/g, '')
    .replace(/[a-z][a-z0-9+.-]*:\/\/\S+/gi, '(a repository)')
    .slice(0, 200);
}

export interface RunningBridge {
  readonly url: string;
  readonly proc: Tracked;
  stop(): Promise<void>;
}

export async function startBridge(
  libs: string,
  brokers: string[],
  label: string,
): Promise<RunningBridge> {
  const version = bridgeVersionOf(libs);
  const line1 = isBridgeLine1(version);
  let java = javaBinary();
  if (line1) {
    const home = findJavaHome(21, process.env.BENCH_BRIDGE_JAVA_HOME);
    if (!home) {
      throw new Error(
        `Kafka Bridge ${version} needs Java 21 or newer: set BENCH_BRIDGE_JAVA_HOME to such a JDK`,
      );
    }
    java = join(home, 'bin', 'java');
  }
  const port = await freePort();
  const managementPort = line1 ? await freePort() : port;
  const dir = mkdtempSync(join(tmpdir(), 'bench-bridge-'));
  const config = join(dir, 'application.properties');
  writeFileSync(config, bridgeConfig(version, brokers, { http: port, management: managementPort }));
  const log4j = join(dir, 'log4j2.properties');
  writeFileSync(
    log4j,
    [
      'name=BridgeConfig',
      'appender.console.type=Console',
      'appender.console.name=STDOUT',
      'appender.console.layout.type=PatternLayout',
      'appender.console.layout.pattern=[%d] %-5p %m (%c)%n',
      'rootLogger.level=WARN',
      'rootLogger.appenderRefs=console',
      'rootLogger.appenderRef.console.ref=STDOUT',
      'logger.bridge.name=io.strimzi.kafka.bridge',
      'logger.bridge.level=INFO',
      '',
    ].join('\n'),
  );
  const proc = spawnTracked(label, java, [
    '-Xms256m',
    '-Xmx1g',
    '-XX:+UseG1GC',
    '-Djava.net.preferIPv4Stack=true',
    `-Dlog4j2.configurationFile=${log4j}`,
    '-Dvertx.disableFileCaching=true',
    '-cp',
    join(libs, '*'),
    BRIDGE_MAIN_CLASS,
    '--config-file',
    config,
  ]);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await proc.stop('SIGTERM', 15_000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      'the Kafka Bridge to be ready',
      async () => {
        if (!proc.running())
          throw new Error(`the Bridge exited (${await proc.exited}):\n${proc.tail()}`);
        const response = await fetch(`http://127.0.0.1:${managementPort}/ready`, {
          signal: AbortSignal.timeout(2_000),
        });
        await response.arrayBuffer();
        return response.status === 200 || response.status === 204;
      },
      { timeoutMs: 60_000, intervalMs: 250, retryErrors: true },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, proc, stop };
}
