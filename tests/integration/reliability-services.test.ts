/**
 * Service faults under load, each with its ledger: the producer API SIGTERMed and SIGKILLed
 * (and restarted on the same port), a consumer SIGKILLed, a rolling restart of two consumers
 * (each SIGTERMed in turn), and a handler that hangs longer than the session timeout.
 *
 * The faults are in the services, so these run on the integration run's shared Kafka (one
 * node): a broker cluster of their own would add ~30 s of start and stop to CI and change
 * nothing the services do. Broker faults are in reliability-brokers.test.ts (three nodes).
 */
import { brokersFromEnv } from '../support/kafka';
import { LoadGenerator, ledgerProblems, type FaultWindow } from '../../scripts/lib/ledger';
import type { RunningService } from '../../scripts/lib/services';
import {
  SESSION_TIMEOUT_MS,
  newScenario,
  pause,
  settleLedger,
  startLedgerConsumer,
  startProducer,
  stopAll,
} from './reliability-support';
import { waitUntil } from '../../scripts/lib/poll';

jest.setTimeout(150_000);

const ACKS_BEFORE = 250;
const ACKS_AFTER = 250;

function joins(service: RunningService): number {
  return service.logs().filter((line) => line['msg'] === 'joined consumer group').length;
}

describe.each(['SIGTERM', 'SIGKILL'] as const)('producer API %s under load', (signal) => {
  test('every acknowledged message is in Kafka and processed; clients see only 503s or a refused connection', async () => {
    const scenario = await newScenario(`producer-${signal.toLowerCase()}`, brokersFromEnv());
    const services: RunningService[] = [];
    let producer = await startProducer(scenario, 'api-1');
    services.push(producer.service);
    services.push(await startLedgerConsumer(scenario, 'consumer-1'));
    const load = new LoadGenerator({ url: producer.url, topic: scenario.topic, clients: 6 });
    try {
      load.start();
      await load.waitForAcks(ACKS_BEFORE, 30_000);
      const from = Date.now();
      const code = await producer.service.stop(signal);
      expect(code).toBe(signal === 'SIGTERM' ? 0 : 'SIGKILL');
      await pause(500); // clients meet a closed port for a moment
      producer = await startProducer(scenario, 'api-2', { httpPort: producer.httpPort });
      services.push(producer.service);
      const restart: FaultWindow = {
        label: `producer ${signal} and restart`,
        from,
        to: Date.now(),
      };
      await load.waitForAcks(ACKS_AFTER, 30_000);
      await load.stop();

      const report = await settleLedger(scenario, load.records, { restart: [restart] });
      expect(ledgerProblems(report)).toEqual([]);
      // Nobody but the producer was disturbed: the consumer processed each message once.
      expect(report.duplicatesProcessed).toBe(0);
      if (signal === 'SIGTERM') {
        // A graceful stop answers every request it accepted: nothing in Kafka lacks its 200.
        expect(report.unacknowledgedInKafka).toBe(0);
      }
    } finally {
      await load.stop();
      await stopAll(services);
    }
  });
});

test('consumer SIGKILLed under load: the other instance takes over, nothing is lost, duplicates only in-flight', async () => {
  const scenario = await newScenario('consumer-sigkill', brokersFromEnv());
  const producer = await startProducer(scenario, 'api');
  const a = await startLedgerConsumer(scenario, 'consumer-a');
  const b = await startLedgerConsumer(scenario, 'consumer-b');
  const services: RunningService[] = [producer.service, a, b];
  const load = new LoadGenerator({ url: producer.url, topic: scenario.topic, clients: 6 });
  try {
    await waitUntil('both consumers to share the partitions', () => joins(a) + joins(b) >= 3, {
      timeoutMs: 30_000,
    });
    load.start();
    await load.waitForAcks(ACKS_BEFORE, 30_000);
    const from = Date.now();
    expect(await a.stop('SIGKILL')).toBe('SIGKILL');
    // The survivor owns every partition once the session timeout has passed.
    await waitUntil(
      'the survivor to own all 6 partitions',
      () =>
        b
          .logs()
          .some(
            (line) =>
              line['msg'] === 'joined consumer group' &&
              line['partitions'] === 6 &&
              Date.parse(String(line['time'])) > from,
          ),
      { timeoutMs: SESSION_TIMEOUT_MS + 20_000 },
    );
    const restarted = await startLedgerConsumer(scenario, 'consumer-a2');
    services.push(restarted);
    // In flight: what the killed instance handled and had not committed when it died.
    const fault: FaultWindow = {
      label: 'consumer SIGKILL',
      from,
      to: from,
      instances: ['consumer-a'],
    };
    await load.waitForAcks(ACKS_AFTER, 30_000);
    await load.stop();

    const report = await settleLedger(scenario, load.records, { faults: [fault] });
    expect(ledgerProblems(report)).toEqual([]);
    expect(report.clientErrorsAllowed).toEqual({});
  } finally {
    await load.stop();
    await stopAll(services);
  }
});

test('rolling restart of two consumers (SIGTERM each in turn) under load: nothing lost, exit 0', async () => {
  const scenario = await newScenario('consumer-rolling', brokersFromEnv());
  const producer = await startProducer(scenario, 'api');
  let a = await startLedgerConsumer(scenario, 'consumer-a');
  let b = await startLedgerConsumer(scenario, 'consumer-b');
  const services: RunningService[] = [producer.service, a, b];
  const load = new LoadGenerator({ url: producer.url, topic: scenario.topic, clients: 6 });
  const faults: FaultWindow[] = [];
  try {
    load.start();
    await load.waitForAcks(ACKS_BEFORE, 30_000);
    for (const which of ['a', 'b'] as const) {
      const from = Date.now();
      const old = which === 'a' ? a : b;
      expect(await old.stop('SIGTERM')).toBe(0);
      const fresh = await startLedgerConsumer(scenario, `consumer-${which}2`);
      services.push(fresh);
      if (which === 'a') a = fresh;
      else b = fresh;
      // A rebalance may hand any member's uncommitted work to another while it runs.
      faults.push({ label: `rolling restart of ${which}`, from, to: Date.now() });
      await load.waitForAcks(150, 30_000);
    }
    await load.waitForAcks(ACKS_AFTER, 30_000);
    await load.stop();

    const report = await settleLedger(scenario, load.records, { faults });
    expect(ledgerProblems(report)).toEqual([]);
    expect(report.clientErrorsAllowed).toEqual({});
  } finally {
    await load.stop();
    await stopAll(services);
  }
});

test('a handler that hangs longer than the session timeout: the member stays in the group, nothing is lost', async () => {
  const scenario = await newScenario('consumer-hang', brokersFromEnv());
  const producer = await startProducer(scenario, 'api');
  const hangMs = SESSION_TIMEOUT_MS + 3_000;
  const consumer = await startLedgerConsumer(scenario, 'consumer', {
    env: { LEDGER_HANG_MS: String(hangMs), LEDGER_HANG_AT: '100' },
  });
  const services: RunningService[] = [producer.service, consumer];
  const load = new LoadGenerator({ url: producer.url, topic: scenario.topic, clients: 4 });
  try {
    load.start();
    const hung = await waitUntil(
      'the handler to hang',
      () => consumer.logs().some((line) => line['msg'] === 'ledger handler: hanging'),
      { timeoutMs: 30_000 },
    );
    expect(hung).toBeGreaterThanOrEqual(0);
    await waitUntil(
      'the handler to finish hanging',
      () => consumer.logs().some((line) => line['msg'] === 'ledger handler: done hanging'),
      { timeoutMs: hangMs + 10_000 },
    );
    await load.waitForAcks(ACKS_AFTER, 30_000);
    await load.stop();

    const report = await settleLedger(scenario, load.records);
    expect(ledgerProblems(report)).toEqual([]);
    // Not thrown out: one join, no rebalance, no duplicate.
    expect(joins(consumer)).toBe(1);
    expect(consumer.logs().filter((l) => l['msg'] === 'consumer group is rebalancing')).toEqual([]);
    expect(report.duplicatesProcessed).toBe(0);
    expect(await consumer.stop('SIGTERM')).toBe(0);
  } finally {
    await load.stop();
    await stopAll(services);
  }
});
