/**
 * Shared pieces of the reliability tests: the producer API and ledger consumers as real
 * processes on a given cluster, a scenario's topic, readiness polling, and the ledger run
 * that reads Kafka, waits for the consumer and computes the report.
 */
import {
  computeLedger,
  newProcessedFile,
  printLedger,
  readLedgerTopic,
  waitForProcessed,
  writeLedgerHandler,
  type FaultWindow,
  type LedgerReport,
  type RequestRecord,
} from '../../scripts/lib/ledger';
import { createTopic, uniqueTopic } from '../support/kafka';
import {
  startOnFreePorts,
  startService,
  waitUntilReady,
  type RunningService,
} from '../../scripts/lib/services';
import { freePort } from '../../scripts/lib/ports';

export const PRODUCE_TIMEOUT_MS = 5_000;
export const SESSION_TIMEOUT_MS = 6_000;

export interface Scenario {
  label: string;
  brokers: string[];
  topic: string;
  deadLetterTopic: string;
  groupId: string;
  processedFile: string;
  handlerModule: string;
}

/** A fresh topic (6 partitions), dead-letter topic and group for one scenario. */
export async function newScenario(
  label: string,
  brokers: string[],
  options: { replicationFactor?: number } = {},
): Promise<Scenario> {
  const topic = uniqueTopic(`rel-${label}`);
  const deadLetterTopic = `${topic}-dlq`;
  const replicationFactor = options.replicationFactor ?? -1;
  // Not kafkajs' waitForLeaders: it asks the broker that took the request, which in KRaft may
  // not know the new topic yet, and gives up on "does not host this topic-partition" (a CI run
  // failed there); createTopic polls the cluster's metadata until every partition is led.
  await createTopic(topic, 6, replicationFactor, { brokers });
  await createTopic(deadLetterTopic, 1, replicationFactor, { brokers });
  return {
    label,
    brokers,
    topic,
    deadLetterTopic,
    groupId: `${topic}-group`,
    processedFile: newProcessedFile(label),
    handlerModule: writeLedgerHandler({ name: `ledger-${label}` }),
  };
}

export interface ProducerInstance {
  service: RunningService;
  httpPort: number;
  url: string;
}

/**
 * Starts the producer API and waits until it is ready: on free ports, or with `httpPort` on
 * that one (a restart that clients keep sending to).
 */
export async function startProducer(
  scenario: Scenario,
  label: string,
  options: { httpPort?: number; env?: Record<string, string> } = {},
): Promise<ProducerInstance> {
  const settings = {
    env: {
      KAFKA_BROKERS: scenario.brokers.join(','),
      TOPICS: scenario.topic,
      PRODUCE_TIMEOUT_MS: String(PRODUCE_TIMEOUT_MS),
      SHUTDOWN_TIMEOUT_MS: '15000',
      LOG_LEVEL: 'info',
      ...options.env,
    },
    label: `${scenario.label}-${label}`,
  };
  let service: RunningService;
  let httpPort: number;
  if (options.httpPort === undefined) {
    const started = await startOnFreePorts('producer', {
      ...settings,
      portSettings: ['HTTP_PORT'],
    });
    service = started.service;
    httpPort = started.ports.HTTP_PORT ?? 0;
  } else {
    httpPort = options.httpPort;
    service = startService('producer', {
      ...settings,
      env: { ...settings.env, HTTP_PORT: String(httpPort) },
      managementPort: await freePort(),
    });
    await waitUntilReady(service, 60_000);
  }
  return { service, httpPort, url: `http://127.0.0.1:${httpPort}` };
}

/** Starts a ledger consumer on a free management port and waits until it has joined. */
export async function startLedgerConsumer(
  scenario: Scenario,
  instance: string,
  options: { env?: Record<string, string> } = {},
): Promise<RunningService> {
  const { service } = await startOnFreePorts('consumer', {
    env: {
      KAFKA_BROKERS: scenario.brokers.join(','),
      TOPICS: scenario.topic,
      CONSUMER_GROUP_ID: scenario.groupId,
      DLQ_TOPIC: scenario.deadLetterTopic,
      HANDLER_MODULE: scenario.handlerModule,
      LEDGER_PROCESSED_FILE: scenario.processedFile,
      LEDGER_INSTANCE: instance,
      LEDGER_DELAY_MS: '2',
      LOG_LEVEL: 'info',
      SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
      HEARTBEAT_INTERVAL_MS: '1000',
      LAG_REFRESH_INTERVAL_MS: '1000',
      SHUTDOWN_TIMEOUT_MS: '15000',
      ...options.env,
    },
    label: `${scenario.label}-${instance}`,
  });
  return service;
}

/** Status of a management endpoint, or 'down' when nothing answers. */
export async function probe(
  service: RunningService,
  path: '/readyz' | '/livez',
): Promise<number | 'down'> {
  try {
    const response = await fetch(`${service.managementUrl}${path}`, {
      signal: AbortSignal.timeout(2_000),
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 'down';
  }
}

export const pause = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * Reads the topic, waits until the consumers processed all of it, prints and returns the
 * ledger. Fault windows may be a function: it runs once processing is complete, so a window
 * can end at something that happened late (a consumer rejoining after a broker fault).
 */
export async function settleLedger(
  scenario: Scenario,
  requests: readonly RequestRecord[],
  windows: { restart?: FaultWindow[]; faults?: FaultWindow[] | (() => FaultWindow[]) } = {},
): Promise<LedgerReport> {
  const kafka = await readLedgerTopic(scenario.topic, {
    brokers: scenario.brokers,
    timeoutMs: 60_000,
  });
  const processed = await waitForProcessed(
    scenario.processedFile,
    scenario.topic,
    kafka.records,
    60_000,
  );
  const report = computeLedger({
    requests,
    kafka,
    processed,
    restartWindows: windows.restart,
    faultWindows: typeof windows.faults === 'function' ? windows.faults() : windows.faults,
  });
  printLedger(scenario.label, report);
  return report;
}

/** Time of the last 'joined consumer group' line of `service` (0 if none). */
export function lastJoinAt(service: RunningService): number {
  const joins = service.logs().filter((line) => line['msg'] === 'joined consumer group');
  const last = joins.at(-1);
  return last === undefined ? 0 : Date.parse(String(last['time']));
}

/** Stops whatever is still running; never throws (for finally blocks). */
export async function stopAll(services: Array<RunningService | undefined>): Promise<void> {
  await Promise.all(services.map((service) => service?.stop('SIGKILL').catch(() => undefined)));
}
