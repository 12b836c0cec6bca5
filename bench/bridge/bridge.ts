/**
 * Strimzi Kafka Bridge, the peer HTTP producer: its jars fetched with Maven into
 * .cache/kafka-bridge-<version>/libs (bench/bridge/pom.xml), run from them with a config file
 * written here, against the benchmark's broker.
 *
 * If Maven cannot resolve the artifact, the Bridge scenarios are reported as unavailable with
 * the reason, and the rest of the bench runs. Jars from elsewhere (the release archive's
 * libs/ folder) can be used with --bridge-libs <dir> or BENCH_BRIDGE_LIBS.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bench-bridge-'));
  const config = join(dir, 'application.properties');
  writeFileSync(
    config,
    [
      `bridge.id=bench-bridge`,
      `kafka.bootstrap.servers=${brokers.join(',')}`,
      'kafka.producer.acks=all',
      'http.enabled=true',
      'http.host=127.0.0.1',
      `http.port=${port}`,
      'http.consumer.enabled=false',
      'http.producer.enabled=true',
      'amqp.enabled=false',
      '',
    ].join('\n'),
  );
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
  const proc = spawnTracked(label, javaBinary(), [
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
        const response = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2_000) });
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
