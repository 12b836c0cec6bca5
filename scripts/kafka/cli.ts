/**
 * A Kafka for people, until Ctrl-C:
 *
 *   node dist/scripts/kafka/cli.js start [--nodes 1|3] [--port 9092] [--topic name[:partitions]]...
 *
 * Three nodes listen on --port, --port+1 and --port+2; without --port the ports are free ones.
 */
import { startKafka, type StartKafkaOptions, type TopicSpec } from './harness';

const USAGE = 'usage: cli.js start [--nodes 1|3] [--port 9092] [--topic name[:partitions]]...';

export function parseCliArgs(argv: string[]): StartKafkaOptions {
  const [command, ...rest] = argv;
  if (command !== 'start') throw new Error(USAGE);
  let nodes: 1 | 3 = 1;
  let port: number | undefined;
  const topics: TopicSpec[] = [];
  for (let i = 0; i < rest.length; i += 2) {
    const flag = rest[i];
    const value = rest[i + 1] ?? '';
    if (flag === '--nodes' && (value === '1' || value === '3')) nodes = value === '3' ? 3 : 1;
    else if (flag === '--port' && /^\d+$/.test(value)) port = Number(value);
    else if (flag === '--topic' && /^[\w.-]+(:\d+)?$/.test(value)) {
      const [name = value, partitions] = value.split(':');
      topics.push(partitions === undefined ? { name } : { name, partitions: Number(partitions) });
    } else throw new Error(`bad or incomplete option "${flag ?? ''}"\n${USAGE}`);
  }
  const ports = port === undefined ? undefined : Array.from({ length: nodes }, (_, i) => port + i);
  return { nodes, ports, topics };
}

async function main(): Promise<void> {
  const say = (line: string) => process.stderr.write(`[kafka] ${line}\n`);
  const cluster = await startKafka({ ...parseCliArgs(process.argv.slice(2)), log: say });
  say(`KAFKA_BROKERS=${cluster.bootstrap}`);
  say(`broker logs: ${cluster.logFile}`);
  say('Ctrl-C stops it');
  const stop = (signal: string) => {
    say(`${signal}: stopping`);
    cluster.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        say(`stop failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `[kafka] failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  });
}
