/**
 * Kafka's own command-line tools, run from the jars the harness already fetched: no Kafka
 * download, no `bin/` folder.
 *
 *   npm run kafka -- topics --describe --topic events
 *   npm run kafka -- consumer-groups --describe --group event-consumer
 *   npm run kafka -- help                       the list of tools
 *
 * A tool's name is its script's name in a Kafka distribution without `kafka-` and `.sh`, so
 * `npm run kafka -- topics ...` here is `kafka-topics.sh ...` there (in a Strimzi pod:
 * /opt/kafka/bin/kafka-topics.sh), with the same options. `--bootstrap-server` is added when
 * it is missing: $KAFKA_BROKERS, or 127.0.0.1:9092 (`npm run local`).
 */
import { spawn } from 'node:child_process';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureKafkaJars } from './fetch';
import { KAFKA_VERSION } from './version';

export interface KafkaTool {
  mainClass: string;
  /** What it shows; printed by `help`. */
  summary: string;
  /** argparse tools take their options after a subcommand (`cluster list-endpoints --bootstrap-server`). */
  subcommands?: readonly string[];
}

export const TOOLS: Readonly<Record<string, KafkaTool>> = {
  topics: {
    mainClass: 'org.apache.kafka.tools.TopicCommand',
    summary: 'list, describe (leader, replicas, in-sync replicas), create topics',
  },
  'consumer-groups': {
    mainClass: 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
    summary: 'groups: members, their partitions, committed offsets, lag; reset offsets',
  },
  'get-offsets': {
    mainClass: 'org.apache.kafka.tools.GetOffsetShell',
    summary: 'the end offset (or the offset at a time) of each partition',
  },
  'console-consumer': {
    mainClass: 'org.apache.kafka.tools.consumer.ConsoleConsumer',
    summary: 'print messages of a topic',
  },
  'console-producer': {
    mainClass: 'org.apache.kafka.tools.ConsoleProducer',
    summary: 'write lines from stdin as messages',
  },
  configs: {
    mainClass: 'kafka.admin.ConfigCommand',
    summary: 'describe or change topic and broker configuration',
  },
  cluster: {
    mainClass: 'org.apache.kafka.tools.ClusterTool',
    summary: 'the cluster id; the brokers and their addresses (list-endpoints)',
    subcommands: ['cluster-id', 'list-endpoints', 'unregister'],
  },
  'metadata-quorum': {
    mainClass: 'org.apache.kafka.tools.MetadataQuorumCommand',
    summary: 'the KRaft controllers: which one leads the metadata log',
  },
  'log-dirs': {
    mainClass: 'org.apache.kafka.tools.LogDirsCommand',
    summary: 'which replicas each broker stores on disk, and their sizes',
  },
  'leader-election': {
    mainClass: 'org.apache.kafka.tools.LeaderElectionCommand',
    summary: 'move leadership back to the preferred replicas',
  },
  'broker-api-versions': {
    mainClass: 'org.apache.kafka.tools.BrokerApiVersionsCommand',
    summary: 'the protocol versions each broker accepts',
  },
};

const DEFAULT_BOOTSTRAP = '127.0.0.1:9092';
const NO_BOOTSTRAP_NEEDED = [
  '--bootstrap-server',
  '--bootstrap-controller',
  '--help',
  '-h',
  '--version',
];

export function defaultBootstrap(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.KAFKA_BROKERS?.trim();
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_BOOTSTRAP;
}

/** The tool's arguments with `--bootstrap-server` added where the tool expects it, unless given. */
export function withBootstrap(
  tool: KafkaTool,
  args: readonly string[],
  bootstrap: string,
): string[] {
  if (args.some((arg) => NO_BOOTSTRAP_NEEDED.includes(arg.split('=')[0] ?? arg))) return [...args];
  const option = ['--bootstrap-server', bootstrap];
  const [first, ...rest] = args;
  if (tool.subcommands !== undefined) {
    // Without a subcommand there is nothing to connect to; the tool prints its usage.
    if (first === undefined || !tool.subcommands.includes(first)) return [...args];
    return [first, ...option, ...rest];
  }
  return [...option, ...args];
}

/** Tools log warnings (say, a broker that does not answer) to stderr, as Kafka's scripts do. */
function toolsLog4jConfig(libsDir: string): string {
  const file = join(libsDir, '..', 'tools-log4j2.xml');
  if (!existsSync(file)) {
    // Written aside and renamed, so a tool started at the same moment never reads half a file.
    const partial = `${file}.${process.pid}`;
    writeFileSync(
      partial,
      `<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="ERROR">
  <Appenders>
    <Console name="STDERR" target="SYSTEM_ERR"><PatternLayout pattern="[%d] %p %m (%c)%n"/></Console>
  </Appenders>
  <Loggers><Root level="WARN"><AppenderRef ref="STDERR"/></Root></Loggers>
</Configuration>
`,
    );
    renameSync(partial, file);
  }
  return file;
}

/** The java command line of a tool. Short-lived JVMs start faster with C1 only and the serial GC. */
export function javaArgs(libsDir: string, tool: KafkaTool, args: readonly string[]): string[] {
  return [
    '-Xmx256m',
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${toolsLog4jConfig(libsDir)}`,
    '-cp',
    join(libsDir, '*'),
    tool.mainClass,
    ...args,
  ];
}

export function javaBinary(): string {
  const home = process.env.JAVA_HOME;
  return home ? join(home, 'bin', 'java') : 'java';
}

/** Runs a tool to the end and returns its exit code and everything it printed. */
export async function captureTool(
  name: string,
  args: readonly string[],
  bootstrap: string,
): Promise<{ code: number | null; output: string }> {
  const tool = TOOLS[name];
  if (tool === undefined) throw new Error(`no Kafka tool "${name}"`);
  const libsDir = await ensureKafkaJars(KAFKA_VERSION);
  const child = spawn(javaBinary(), javaArgs(libsDir, tool, withBootstrap(tool, args, bootstrap)), {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

export function usage(): string {
  const width = Math.max(...Object.keys(TOOLS).map((name) => name.length));
  const lines = Object.entries(TOOLS).map(
    ([name, tool]) => `  ${name.padEnd(width)}  ${tool.summary}`,
  );
  return [
    `usage: npm run kafka -- <tool> [options]   (Kafka ${KAFKA_VERSION}'s tools; <tool> --help for its options)`,
    '',
    ...lines,
    '',
    `--bootstrap-server defaults to $KAFKA_BROKERS or ${DEFAULT_BOOTSTRAP}.`,
    'Each tool is kafka-<tool>.sh of a Kafka distribution, e.g. kafka-topics.sh.',
  ].join('\n');
}

async function main(): Promise<number> {
  const [name, ...args] = process.argv.slice(2);
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 1 : 0;
  }
  const tool = TOOLS[name];
  if (tool === undefined) {
    process.stderr.write(`unknown tool "${name}"\n\n${usage()}\n`);
    return 1;
  }
  const libsDir = await ensureKafkaJars(KAFKA_VERSION);
  const child = spawn(
    javaBinary(),
    javaArgs(libsDir, tool, withBootstrap(tool, args, defaultBootstrap())),
    { stdio: 'inherit' },
  );
  // Ctrl-C reaches the JVM too (same process group); wait for it so its exit code is ours.
  const ignore = () => undefined;
  process.on('SIGINT', ignore);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  return new Promise((resolve) => {
    child.once('error', (error) => {
      process.stderr.write(
        `could not start ${javaBinary()}: ${error.message} (Java 17+ is needed)\n`,
      );
      resolve(1);
    });
    child.once('exit', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : 1)));
  });
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(
        `kafka tool: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
