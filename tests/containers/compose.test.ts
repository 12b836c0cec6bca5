/**
 * `docker compose up`: the top-level compose.yaml run for real with a Compose v2 CLI, with
 * tests/containers/compose.ci.yaml merged over it for the images no registry gives CI (Kafka:
 * the stand-in built from the Maven jars on the official image's environment contract,
 * scripts/docker/kafka-stand-in.ts; Conduktor Console, PostgreSQL, Prometheus and Grafana: left
 * out, checked with `docker compose config` only) and compose.ledger.yaml for the ledger's
 * handler. Three KRaft brokers, the topics, both service images from the Dockerfile.
 *
 * Column of DESIGN.md's table: "compose". Runs for real here: Compose v2, the services' images,
 * three brokers, a broker killed, `down`. Only a user's machine shows the official apache/kafka
 * image and the Conduktor, Prometheus and Grafana images.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { docker, dockerOk, serviceImages } from '../../scripts/docker/images';
import { ensureKafkaStandIn, type KafkaStandIn } from '../../scripts/docker/kafka-stand-in';
import { withAdmin } from '../../scripts/kafka/admin';
import { KAFKA_VERSION } from '../../scripts/kafka/version';
import {
  computeLedger,
  ledgerProblems,
  LoadGenerator,
  printLedger,
  readProcessed,
  readLedgerTopic,
  waitForProcessed,
} from '../../scripts/lib/ledger';
import { ComposeProject, mountedVolumes, stillThere, type ComposeService } from './support/compose';
import { ledgerMount, probe, type LedgerMount } from './support/containers';
import { runOk } from '../chart/support/tools';
import { renderedPods } from './support/pod';
import { describeDocker } from './support/skip';
import { freePorts } from '../../scripts/lib/ports';
import { repoRoot } from '../../scripts/lib/root';

jest.setTimeout(300_000);

const ROOT = repoRoot();
const BROKERS = ['kafka-1', 'kafka-2', 'kafka-3'] as const;
const SERVICES = ['producer', 'consumer'] as const;
const UNAVAILABLE_HERE = ['console', 'postgresql', 'prometheus', 'grafana'];

interface Ports {
  kafka: number[];
  producer: number;
  producerManagement: number;
  consumerManagement: number;
}

let standIn: KafkaStandIn;
let ports: Ports;
let ledger: LedgerMount;
/** compose.yaml alone, as a user runs it (only `config` is run on it here). */
let userProject: ComposeProject;
/** compose.yaml with the CI override and the ledger handler: the project that runs. */
let project: ComposeProject;
let upSeconds: number | undefined;
let hostBrokers: string[];

function env(): Record<string, string> {
  return {
    KAFKA_STAND_IN_IMAGE: standIn.image,
    KAFKA_1_PORT: String(ports.kafka[0]),
    KAFKA_2_PORT: String(ports.kafka[1]),
    KAFKA_3_PORT: String(ports.kafka[2]),
    PRODUCER_PORT: String(ports.producer),
    PRODUCER_MANAGEMENT_PORT: String(ports.producerManagement),
    CONSUMER_MANAGEMENT_PORT: String(ports.consumerManagement),
    LEDGER_DIR: ledger.hostDir,
    LOG_LEVEL: '',
    // conduktor/compose.yaml requires these (users keep them in conduktor/.env); Console is not
    // started here, but compose interpolates the whole file.
    CONDUKTOR_ADMIN_EMAIL: 'ci@event-pipeline.local',
    CONDUKTOR_ADMIN_PASSWORD: 'Not-used-1',
    CONDUKTOR_DB_PASSWORD: 'not-used',
  };
}

const seconds = (value: string | undefined): number => {
  const match = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(value ?? '');
  if (!match) throw new Error(`not a compose duration: ${String(value)}`);
  return Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0);
};

beforeAll(async () => {
  standIn = await ensureKafkaStandIn();
  process.stdout.write(
    `compose: Kafka stand-in ${standIn.image} ${standIn.built ? 'built' : 'already built'} in ${standIn.seconds.toFixed(1)} s (${(standIn.bytes / 1e6).toFixed(0)} MB)\n`,
  );
  const [k1, k2, k3, producer, producerManagement, consumerManagement] = await freePorts(6);
  ports = {
    kafka: [k1!, k2!, k3!],
    producer: producer!,
    producerManagement: producerManagement!,
    consumerManagement: consumerManagement!,
  };
  hostBrokers = ports.kafka.map((port) => `127.0.0.1:${port}`);
  ledger = ledgerMount('compose');
  const name = `ep-compose-${process.pid}-${Date.now().toString(36)}`;
  userProject = new ComposeProject({ name, files: ['compose.yaml'], env: env() });
  project = new ComposeProject({
    name,
    files: [
      'compose.yaml',
      'tests/containers/compose.ci.yaml',
      'tests/containers/compose.ledger.yaml',
    ],
    env: env(),
  });
});

afterAll(() => {
  // Whatever happened above: nothing of the project stays (containers, network, volumes).
  project?.run(['down', '--volumes', '--remove-orphans', '--timeout', '5'], { allowFailure: true });
});

describeDocker('compose.yaml, as users run it (docker compose config)', () => {
  test('Kafka is the official image on the tests Kafka version, three brokers and the one-shot topic service', () => {
    const { services } = userProject.config();
    for (const broker of [...BROKERS, 'kafka-init']) {
      expect({ broker, image: services[broker]?.image }).toEqual({
        broker,
        image: `apache/kafka:${KAFKA_VERSION}`,
      });
    }
    const environment = (broker: string) => services[broker]?.environment ?? {};
    expect(BROKERS.map((broker) => environment(broker).KAFKA_NODE_ID)).toEqual(['1', '2', '3']);
    for (const broker of BROKERS) {
      const all = environment(broker);
      expect({
        broker,
        replication: all.KAFKA_DEFAULT_REPLICATION_FACTOR,
        minIsr: all.KAFKA_MIN_INSYNC_REPLICAS,
        offsets: all.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR,
        transactions: all.KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR,
        transactionsIsr: all.KAFKA_TRANSACTION_STATE_LOG_MIN_ISR,
      }).toEqual({
        broker,
        replication: '3',
        minIsr: '2',
        offsets: '3',
        transactions: '3',
        transactionsIsr: '2',
      });
    }
    for (const service of SERVICES) {
      expect(services[service]?.depends_on?.['kafka-init']?.condition).toBe(
        'service_completed_successfully',
      );
    }
  });

  test('producer and consumer: the chart image names, built from the Dockerfile targets, run as the chart runs the pods', () => {
    const { services } = userProject.config();
    const pods = renderedPods();
    const images = serviceImages();
    for (const name of SERVICES) {
      const service = services[name] as ComposeService;
      const pod = pods[name];
      expect({ name, image: service.image, target: service.build?.target }).toEqual({
        name,
        image: images[name],
        target: name,
      });
      expect(service.build?.context).toBe(ROOT);
      expect({
        user: service.user,
        readOnly: service.read_only,
        capDrop: service.cap_drop,
        noNewPrivileges: service.security_opt,
        memoryBytes: Number(service.mem_limit),
        cpus: service.cpus,
        tmpfs: service.tmpfs?.map((entry) => entry.split(':')[0]),
      }).toEqual({
        user: `${pod.user}:${pod.group}`,
        readOnly: pod.readOnlyRootFilesystem,
        capDrop: pod.capDrop,
        noNewPrivileges: pod.noNewPrivileges ? ['no-new-privileges:true'] : [],
        memoryBytes: pod.memoryBytes,
        cpus: pod.cpus,
        tmpfs: pod.tmpfs.map((mount) => mount.path),
      });
      // The chart's settings, except where Kafka is: the same variables with the same values.
      const { KAFKA_BROKERS: composeBrokers, ...composeEnv } = service.environment ?? {};
      const { KAFKA_BROKERS: _podBrokers, ...podEnv } = pod.env;
      expect(composeEnv).toEqual(podEnv);
      expect(composeBrokers).toBe('kafka-1:19092,kafka-2:19092,kafka-3:19092');
      // Docker waits longer than the service's own shutdown deadline before SIGKILL.
      const deadlineSeconds = Number(pod.env.SHUTDOWN_TIMEOUT_MS) / 1000;
      expect(seconds(service.stop_grace_period)).toBeGreaterThan(deadlineSeconds);
      expect(seconds(service.stop_grace_period)).toBeLessThanOrEqual(pod.graceSeconds);
      expect(service.healthcheck?.test.join(' ')).toContain(
        `http://127.0.0.1:${pod.env.MANAGEMENT_PORT}${pod.readinessPath}`,
      );
    }
    // Host ports: the API on 8080, management 8081 (producer) and 8082 (consumer), loopback only.
    const published = (name: string) =>
      (services[name]?.ports ?? []).map((p) => `${p.host_ip}:${p.published}->${p.target}`);
    const defaults = new ComposeProject({
      name: 'ep-defaults',
      files: ['compose.yaml'],
      env: {
        ...env(),
        PRODUCER_PORT: '',
        PRODUCER_MANAGEMENT_PORT: '',
        CONSUMER_MANAGEMENT_PORT: '',
      },
    }).config().services;
    expect(
      (defaults.producer?.ports ?? []).map((p) => `${p.host_ip}:${p.published}->${p.target}`),
    ).toEqual(['127.0.0.1:8080->8080', '127.0.0.1:8081->8081']);
    expect(
      (defaults.consumer?.ports ?? []).map((p) => `${p.host_ip}:${p.published}->${p.target}`),
    ).toEqual(['127.0.0.1:8082->8081']);
    expect(published('producer')).toEqual([
      `127.0.0.1:${ports.producer}->8080`,
      `127.0.0.1:${ports.producerManagement}->8081`,
    ]);
  });

  test('Conduktor Console, PostgreSQL, Prometheus and Grafana (images not available here: checked with docker compose config only)', () => {
    const { services } = userProject.config(['monitoring']);
    // Console and its database come from conduktor/compose.yaml (included, not copied), pointed
    // at this project's brokers.
    const conduktor = parse(readFileSync(join(ROOT, 'conduktor', 'compose.yaml'), 'utf8')) as {
      services: Record<string, { image: string }>;
    };
    expect(services.console?.image).toBe(conduktor.services.console?.image);
    expect(services.postgresql?.image).toBe(conduktor.services.postgresql?.image);
    expect(services.console?.environment?.CDK_CLUSTERS_0_BOOTSTRAPSERVERS).toBe(
      'kafka-1:19092,kafka-2:19092,kafka-3:19092',
    );
    expect(services.console?.depends_on?.postgresql?.condition).toBe('service_healthy');

    // Monitoring: the chart's rules and dashboard, mounted from the chart (one source).
    const mounts = (name: string) =>
      Object.fromEntries((services[name]?.volumes ?? []).map((v) => [v.target, v.source]));
    const chartFiles = join(ROOT, 'helm', 'event-pipeline', 'files');
    expect(mounts('prometheus')['/etc/prometheus/rules/event-pipeline.yaml']).toBe(
      join(chartFiles, 'alert-rules.yaml'),
    );
    expect(mounts('grafana')['/etc/grafana/dashboards/event-pipeline.json']).toBe(
      join(chartFiles, 'dashboard.json'),
    );
    expect(services.prometheus?.profiles).toEqual(['monitoring']);
    expect(services.grafana?.profiles).toEqual(['monitoring']);

    // Prometheus scrapes each service's management port under the job names and namespace the
    // chart's rules select, so the rules evaluate here unchanged.
    const prometheus = parse(
      readFileSync(mounts('prometheus')['/etc/prometheus/prometheus.yml']!, 'utf8'),
    ) as {
      scrape_configs: Array<{
        job_name: string;
        static_configs: Array<{ targets: string[]; labels: Record<string, string> }>;
      }>;
    };
    const rules = readFileSync(join(chartFiles, 'alert-rules.yaml'), 'utf8');
    for (const name of SERVICES) {
      const job = prometheus.scrape_configs.find((c) => c.job_name === `event-pipeline-${name}`);
      const management = services[name]?.environment?.MANAGEMENT_PORT;
      expect(job?.static_configs[0]?.targets).toEqual([`${name}:${management}`]);
      const namespace = job?.static_configs[0]?.labels.namespace;
      expect(rules).toContain(`namespace="${namespace}", job="event-pipeline-${name}"`);
    }

    // What Prometheus would load: the scrape configuration with the chart's rules at the path
    // compose mounts them, checked by promtool (Prometheus' own checker).
    const work = mkdtempSync(join(tmpdir(), 'compose-prometheus-'));
    try {
      const config = readFileSync(mounts('prometheus')['/etc/prometheus/prometheus.yml']!, 'utf8');
      expect(config).toContain('/etc/prometheus/rules/*.yaml');
      writeFileSync(
        join(work, 'prometheus.yml'),
        config.replace('/etc/prometheus/rules/*.yaml', join(chartFiles, 'alert-rules.yaml')),
      );
      expect(runOk('promtool', ['check', 'config', join(work, 'prometheus.yml')])).toMatch(
        /SUCCESS: 6 rules found/,
      );
    } finally {
      rmSync(work, { recursive: true, force: true });
    }

    // The CI override leaves exactly these four out, and changes only the Kafka image otherwise.
    const ci = project.config(['monitoring']).services;
    expect(Object.keys(ci).sort()).toEqual(
      Object.keys(services)
        .filter((name) => !UNAVAILABLE_HERE.includes(name))
        .sort(),
    );
    expect(ci['kafka-1']?.image).toBe(standIn.image);
  });
});

describeDocker('docker compose up, for real (Kafka stand-in, the service images)', () => {
  test('up --wait: three brokers, the topics as the chart makes them, both services ready', async () => {
    const result = project.run(['up', '--detach', '--wait', '--wait-timeout', '240'], {
      timeoutMs: 300_000,
    });
    upSeconds = result.seconds;
    process.stdout.write(
      `compose: up --wait until every service is healthy: ${upSeconds.toFixed(1)} s\n`,
    );

    const running = project
      .containers()
      .map((c) => c.service)
      .sort();
    expect(running).toEqual([...BROKERS, 'consumer', 'kafka-init', 'producer'].sort());
    const init = project.containers().find((c) => c.service === 'kafka-init')!;
    expect(dockerOk(['inspect', '--format', '{{.State.ExitCode}}', init.id]).trim()).toBe('0');

    // Through the listener for clients on the host: every broker advertises its own port.
    const metadata = await withAdmin(hostBrokers, (admin) =>
      admin.fetchTopicMetadata({ topics: ['events', 'events-dlq'] }),
    );
    const values = parse(
      readFileSync(join(ROOT, 'helm', 'event-pipeline', 'values.yaml'), 'utf8'),
    ) as {
      kafka: { topics: Record<'events' | 'deadLetter', { partitions: number; replicas: number }> };
    };
    const shape = (topic: string) => {
      const found = metadata.topics.find((t) => t.name === topic)!;
      return {
        partitions: found.partitions.length,
        replicas: [...new Set(found.partitions.map((p) => p.replicas.length))],
      };
    };
    expect(shape('events')).toEqual({
      partitions: values.kafka.topics.events.partitions,
      replicas: [values.kafka.topics.events.replicas],
    });
    expect(shape('events-dlq')).toEqual({
      partitions: values.kafka.topics.deadLetter.partitions,
      replicas: [values.kafka.topics.deadLetter.replicas],
    });
    const brokers = await withAdmin(hostBrokers, (admin) => admin.describeCluster());
    expect(brokers.brokers.map((b) => `${b.host}:${b.port}`).sort()).toEqual(
      [...hostBrokers].sort(),
    );

    for (const port of [ports.producerManagement, ports.consumerManagement]) {
      expect(await probe(`http://127.0.0.1:${port}`, '/readyz')).toBe(200);
    }
  });

  test('messages POSTed to the API container are processed by the consumer container', async () => {
    const url = `http://127.0.0.1:${ports.producer}`;
    const response = await fetch(`${url}/v1/topics/events/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        messages: Array.from({ length: 20 }, (_, i) => ({ key: `compose-${i}`, value: { i } })),
      }),
    });
    expect(response.status).toBe(200);
    const { results } = (await response.json()) as {
      results: Array<{ partition: number; offset: string }>;
    };
    expect(results).toHaveLength(20);
    const processed = await waitForProcessed(
      ledger.processedFile,
      'events',
      results.map((r) => ({ ...r, key: null, id: undefined })),
      60_000,
    );
    const seen = new Set(processed.map((p) => `${p.partition}/${p.offset}`));
    expect(results.filter((r) => !seen.has(`${r.partition}/${r.offset}`))).toEqual([]);

    const metrics = await (
      await fetch(`http://127.0.0.1:${ports.consumerManagement}/metrics`)
    ).text();
    const count =
      /event_pipeline_consumed_messages_total\{topic="events",result="processed"[^}]*\} (\d+)/.exec(
        metrics,
      );
    expect(Number(count?.[1])).toBeGreaterThanOrEqual(20);
  });

  test('one broker container killed under load (docker compose kill kafka-2): nothing acknowledged lost', async () => {
    const load = new LoadGenerator({
      url: `http://127.0.0.1:${ports.producer}`,
      topic: 'events',
      clients: 4,
      messagesPerRequest: 5,
      pauseMs: 20,
    });
    load.start();
    await load.waitForAcks(500, 30_000);
    const killedAt = Date.now();
    await project.runAsync(['kill', 'kafka-2']);
    const kafka2 = project.containers().find((c) => c.service === 'kafka-2')!;
    // `docker wait` returns the exit status once the container has stopped: SIGKILL's 137.
    expect(dockerOk(['wait', kafka2.id]).trim()).toBe('137');
    // Long enough for the controller to fence the killed broker (broker.session.timeout.ms, 9 s)
    // and move its partitions' leadership; the load goes on meanwhile.
    await sleep(15_000);
    await load.waitForAcks(500, 60_000);
    await load.stop();
    const stoppedAt = Date.now();

    const contents = await readLedgerTopic('events', { brokers: hostBrokers });
    const processed = await waitForProcessed(
      ledger.processedFile,
      'events',
      contents.records,
      120_000,
    );
    const report = computeLedger({
      requests: load.records,
      kafka: contents,
      processed,
      faultWindows: [{ label: 'kafka-2 killed', from: killedAt, to: stoppedAt }],
    });
    printLedger('compose: kafka-2 killed under load', report);
    expect(ledgerProblems(report)).toEqual([]);
    // Clients saw answers and retriable 503s only.
    expect(Object.keys(report.answers).filter((answer) => !/^(2\d\d|503)/.test(answer))).toEqual(
      [],
    );

    // The broker comes back (its log directories kept in the container) and rejoins.
    const restarted = project.run(['up', '--detach', '--wait', '--no-deps', 'kafka-2']);
    process.stdout.write(`compose: kafka-2 back (healthy) in ${restarted.seconds.toFixed(1)} s\n`);
  });

  test('docker compose down: services exit 0, brokers end on SIGTERM, no container, network or volume left', async () => {
    const containers = project.containers();
    const ids = containers.map((c) => c.id);
    // The image declares volumes; compose.yaml puts tmpfs mounts there, so none was created.
    expect(mountedVolumes(ids)).toEqual([]);
    const network = `${project.name}_default`;
    expect(stillThere('network', [network])).toEqual([network]);

    // The exit code of each container that stops during `down`, from the engine's events.
    const events = spawn(
      'docker',
      [
        'events',
        '--filter',
        `label=com.docker.compose.project=${project.name}`,
        '--filter',
        'event=die',
        '--format',
        '{{index .Actor.Attributes "com.docker.compose.service"}} {{.Actor.Attributes.exitCode}}',
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let died = '';
    events.stdout.on('data', (chunk: Buffer) => (died += chunk.toString()));
    await sleep(500);
    const down = project.run(['down']);
    await sleep(500);
    events.kill();
    process.stdout.write(`compose: down in ${down.seconds.toFixed(1)} s\n`);

    const exitCodes = Object.fromEntries(
      died
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => line.split(' ') as [string, string]),
    );
    expect(exitCodes).toEqual({
      producer: '0',
      consumer: '0',
      // The JVM's exit status after SIGTERM (128 + 15) once Kafka's shutdown hook finished;
      // a broker Docker had to SIGKILL would show 137.
      'kafka-1': '143',
      'kafka-2': '143',
      'kafka-3': '143',
    });
    expect(stillThere('container', ids)).toEqual([]);
    expect(stillThere('network', [network])).toEqual([]);
    expect(
      docker([
        'volume',
        'ls',
        '--quiet',
        '--filter',
        `label=com.docker.compose.project=${project.name}`,
      ]).stdout.trim(),
    ).toBe('');
    expect(readProcessed(ledger.processedFile).length).toBeGreaterThan(0);
  });
});
