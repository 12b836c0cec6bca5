/**
 * `npm run local`: the whole system on this machine, no Docker and no Kubernetes.
 * Starts Kafka (one node on 127.0.0.1:9092, or three with --brokers 3), creates the
 * topics, starts the producer API and the consumer as child processes that log to this
 * terminal, and on Ctrl-C (or SIGTERM) stops the services gracefully, then Kafka.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { startKafka, type KafkaCluster } from './kafka/harness';

interface Options {
  brokers: 1 | 3;
  /** First Kafka client port; a three-node cluster uses this one and the next two. */
  port: number;
  /** The producer API's port; the management ports are the next two. */
  apiPort: number;
}

const USAGE = 'usage: npm run local -- [--brokers 1|3] [--port 9092] [--api-port 8080]';

export function parseArgs(argv: string[]): Options {
  const options: Options = { brokers: 1, port: 9092, apiPort: 8080 };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--brokers' && (value === '1' || value === '3')) {
      options.brokers = Number(value) as 1 | 3;
      i += 1;
    } else if ((flag === '--port' || flag === '--api-port') && value && /^\d{1,5}$/.test(value)) {
      options[flag === '--port' ? 'port' : 'apiPort'] = Number(value);
      i += 1;
    } else {
      throw new Error(`unknown or incomplete option "${flag ?? ''}"\n${USAGE}`);
    }
  }
  return options;
}

const say = (line: string) => process.stderr.write(`[local] ${line}\n`);

function startService(name: 'producer' | 'consumer', env: Record<string, string>): ChildProcess {
  // The services get the terminal directly: JSON logs, or pretty ones on a TTY. They run in
  // their own process group so that Ctrl-C reaches only this script, which then sends each
  // exactly one SIGTERM, as Kubernetes would (a second signal means "exit now" to them).
  const child = spawn(process.execPath, [join(__dirname, '..', 'services', name, 'main.js')], {
    env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1', ...env },
    stdio: 'inherit',
    detached: true,
  });
  process.on('exit', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

function exitOf(child: ChildProcess): Promise<number | string> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  if (child.signalCode !== null) return Promise.resolve(child.signalCode);
  return new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const ports = Array.from({ length: options.brokers }, (_, i) => options.port + i);
  say(
    `starting Kafka (${options.brokers} node${options.brokers > 1 ? 's' : ''}) on 127.0.0.1:${ports.join(', ')}`,
  );
  const replicationFactor = options.brokers === 3 ? 3 : 1;
  let cluster: KafkaCluster | undefined = undefined;
  const children: ChildProcess[] = [];
  let stopping = false;

  const stopAll = async (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    say(`${reason}: stopping the services, then Kafka`);
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    }
    const exits = await Promise.all(children.map(exitOf));
    say(`services exited with ${exits.join(', ')}`);
    await cluster?.stop();
    say('Kafka stopped; bye');
    const clean = exits.every((exit) => exit === 0 || exit === 'SIGTERM' || exit === 'SIGINT');
    process.exit(clean ? code : 1);
  };
  process.on('SIGINT', () => void stopAll('Ctrl-C', 0));
  process.on('SIGTERM', () => void stopAll('SIGTERM', 0));

  cluster = await startKafka({
    nodes: options.brokers,
    ports,
    topics: [
      { name: 'events', partitions: 6, replicationFactor },
      { name: 'events-dlq', partitions: 6, replicationFactor },
    ],
    log: say,
  });
  if (stopping) return;
  say(`Kafka is up: KAFKA_BROKERS=${cluster.bootstrap} (broker logs: ${cluster.logFile})`);
  const kafkaEnv = { KAFKA_BROKERS: cluster.bootstrap };
  const [api, producerManagement, consumerManagement] = [0, 1, 2].map((i) => options.apiPort + i);
  children.push(
    startService('producer', {
      ...kafkaEnv,
      HTTP_PORT: String(api),
      MANAGEMENT_PORT: String(producerManagement),
    }),
  );
  children.push(
    startService('consumer', { ...kafkaEnv, MANAGEMENT_PORT: String(consumerManagement) }),
  );
  for (const child of children) {
    void exitOf(child).then((exit) => {
      if (!stopping) void stopAll(`a service exited unexpectedly (${exit})`, 1);
    });
  }
  say(
    `producer API   http://127.0.0.1:${api}  (POST /v1/topics/events/messages, GET /openapi.json)`,
  );
  say(`producer mgmt  http://127.0.0.1:${producerManagement}  (/livez, /readyz, /metrics)`);
  say(`consumer mgmt  http://127.0.0.1:${consumerManagement}  (/livez, /readyz, /metrics)`);
  say('Ctrl-C stops everything');
}

if (require.main === module) {
  main().catch((error: unknown) => {
    say(`failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
