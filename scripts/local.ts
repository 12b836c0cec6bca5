/**
 * `npm run local`: the whole system on this machine, no Docker and no Kubernetes.
 * Starts Kafka (one node on 127.0.0.1:9092, or three with --brokers 3), creates the
 * topics, starts the producer API and the consumer as child processes that log to this
 * terminal, and on Ctrl-C (or SIGTERM) stops the services gracefully, then Kafka.
 */
import type { KafkaCluster } from './kafka/harness';
import { startLocalKafka } from './system/local-system';
import { startService, stoppedCleanly, type RunningService } from './lib/services';

interface Options {
  brokers: 1 | 3;
  /** First Kafka client port; a three-node cluster uses this one and the next two. */
  port: number;
  /** The producer API's port; the management ports are the next two. */
  apiPort: number;
  /** A second listener for clients in Docker containers (Conduktor), as on the kind cluster. */
  dockerListener: boolean;
}

/** The ports and name the kind cluster's `docker` listener advertises (conduktor/README.md). */
const DOCKER_LISTENER_FIRST_PORT = 19192;
const DOCKER_HOST = 'host.docker.internal';

const USAGE =
  'usage: npm run local -- [--brokers 1|3] [--port 9092] [--api-port 8080] [--docker-listener]';

export function parseArgs(argv: string[]): Options {
  const options: Options = { brokers: 1, port: 9092, apiPort: 8080, dockerListener: false };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--docker-listener') {
      options.dockerListener = true;
    } else if (flag === '--brokers' && (value === '1' || value === '3')) {
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

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const ports = Array.from({ length: options.brokers }, (_, i) => options.port + i);
  say(
    `starting Kafka (${options.brokers} node${options.brokers > 1 ? 's' : ''}) on 127.0.0.1:${ports.join(', ')}`,
  );
  let cluster: KafkaCluster | undefined = undefined;
  const services: RunningService[] = [];
  let stopping = false;

  /** True when every service ended as a stop signal asks. */
  const stopServicesThenKafka = async (): Promise<boolean> => {
    const exits = await Promise.all(services.map((service) => service.stop('SIGTERM')));
    say(`services exited with ${exits.join(', ')}`);
    await cluster?.stop();
    say('Kafka stopped; bye');
    return exits.every(stoppedCleanly);
  };
  /** Stops everything once and exits; called from handlers that cannot wait for it. */
  const stopAll = (reason: string, code: number): void => {
    if (stopping) return;
    stopping = true;
    say(`${reason}: stopping the services, then Kafka`);
    stopServicesThenKafka().then(
      (clean) => process.exit(clean ? code : 1),
      // The harness's "ports still open after the brokers exited", say: one line and exit 1
      // rather than Node's dump of an unhandled rejection.
      (error: unknown) => {
        say(`stopping failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stopAll('Ctrl-C', 0));
  process.on('SIGTERM', () => stopAll('SIGTERM', 0));

  const dockerListener = {
    name: 'DOCKER',
    // Docker Engine on Linux reaches the host through the bridge, not the loopback.
    bindHost: '0.0.0.0',
    ports: Array.from({ length: options.brokers }, (_, i) => DOCKER_LISTENER_FIRST_PORT + i),
    advertisedHost: DOCKER_HOST,
  };
  // The services bind after Kafka has picked its controller ports: those must not take theirs.
  const servicePorts = [0, 1, 2].map((i) => options.apiPort + i);
  cluster = await startLocalKafka({
    brokers: options.brokers,
    port: options.port,
    avoidPorts: servicePorts,
    ...(options.dockerListener ? { extraListeners: [dockerListener] } : {}),
    log: say,
  });
  if (stopping) return;
  say(`Kafka is up: KAFKA_BROKERS=${cluster.bootstrap} (broker logs: ${cluster.logFile})`);
  if (options.dockerListener) {
    say(`Kafka for Docker containers (Conduktor): ${cluster.extraBootstrap['DOCKER'] ?? '?'}`);
  }
  const kafkaEnv = { KAFKA_BROKERS: cluster.bootstrap };
  const api = options.apiPort;
  const producerManagement = api + 1;
  const consumerManagement = api + 2;
  // The services get the terminal directly: JSON logs, or pretty ones on a TTY.
  services.push(
    startService('producer', {
      env: { ...kafkaEnv, HTTP_PORT: String(api) },
      managementPort: producerManagement,
      output: 'inherit',
      baseEnv: 'inherit',
      detached: true,
    }),
    startService('consumer', {
      env: kafkaEnv,
      managementPort: consumerManagement,
      output: 'inherit',
      baseEnv: 'inherit',
      detached: true,
    }),
  );
  for (const service of services) {
    service.exited.then(
      (exit) => {
        if (!stopping) stopAll(`a service exited unexpectedly (${exit})`, 1);
      },
      (error: unknown) => stopAll(`${service.name} could not be watched (${String(error)})`, 1),
    );
  }
  say(
    `producer API   http://127.0.0.1:${api}  (POST /v1/topics/events/messages, GET /openapi.json)`,
  );
  say(`producer mgmt  http://127.0.0.1:${producerManagement}  (/livez, /readyz, /metrics)`);
  say(`consumer mgmt  http://127.0.0.1:${consumerManagement}  (/livez, /readyz, /metrics)`);
  const toolEnv =
    cluster.brokers[0] === '127.0.0.1:9092' ? '' : `KAFKA_BROKERS=${cluster.bootstrap} `;
  say(
    `Kafka's tools  ${toolEnv}npm run kafka -- topics --describe --topic events  (tour: docs/concepts.md)`,
  );
  say('Ctrl-C stops everything');
}

if (require.main === module) {
  main().catch((error: unknown) => {
    say(`failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
