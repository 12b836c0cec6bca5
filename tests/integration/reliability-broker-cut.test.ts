/**
 * The producer API cut off from one broker while the brokers still reach each other: a
 * network fault between the client and one broker, not a dead broker, so Kafka moves no
 * leadership and shrinks no ISR. The partitions the other brokers lead keep being
 * acknowledged at once; the cut-off broker's partitions answer 503 after the produce
 * timeout (keyless messages go around it), and write again when the connection is back,
 * without a restart. Every message
 * acknowledged is in Kafka at the offset the API gave. (With one Kafka request for every
 * partition, the cut-off broker's request held up every client.)
 *
 * The API reaches the brokers only through per-broker forwarders, on a listener that
 * advertises the forwarders' ports; the brokers replicate on their own listener.
 */
import { startKafka, type KafkaCluster } from '../../scripts/kafka/harness';
import { withAdmin } from '../../scripts/kafka/admin';
import { Forwarder } from '../support/forwarder';
import { consumeAll } from '../support/kafka';
import type { RunningService } from '../../scripts/lib/services';
import {
  newScenario,
  pause,
  PRODUCE_TIMEOUT_MS,
  startProducer,
  stopAll,
} from './reliability-support';
import { freePorts } from '../../scripts/lib/ports';
import { waitUntil } from '../../scripts/lib/poll';

jest.setTimeout(240_000);

const KEYS = Array.from({ length: 24 }, (_, i) => `key-${i}`);

let cluster: KafkaCluster | undefined;
let forwarders: Forwarder[] = [];

beforeAll(async () => {
  const bound = await freePorts(3);
  const advertised = await freePorts(3, bound);
  cluster = await startKafka({
    nodes: 3,
    // The forwarders bind these once Kafka is up: its own ports must not take them.
    avoidPorts: advertised,
    extraListeners: [
      { name: 'CLIENTS', ports: bound, advertisedHost: '127.0.0.1', advertisedPorts: advertised },
    ],
  });
  forwarders = bound.map((port, i) => new Forwarder('127.0.0.1', advertised[i] as number, port));
  await Promise.all(forwarders.map((f) => f.start()));
}, 180_000);

afterAll(async () => {
  await Promise.all(forwarders.map((f) => f.stop()));
  await cluster?.stop();
}, 120_000);

interface Answer {
  key: string;
  status: number;
  ms: number;
  partition?: number;
  offset?: string;
}

async function produce(
  url: string,
  topic: string,
  key: string | undefined,
  n: number,
): Promise<Answer> {
  const started = Date.now();
  const response = await fetch(`${url}/v1/topics/${topic}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ ...(key ? { key } : {}), value: { key, n } }] }),
    signal: AbortSignal.timeout(PRODUCE_TIMEOUT_MS * 4),
  });
  const body = (await response.json()) as {
    results?: Array<{ partition: number; offset: string }>;
  };
  const result = body.results?.[0];
  return {
    key: key ?? '(none)',
    status: response.status,
    ms: Date.now() - started,
    ...(result ? { partition: result.partition, offset: result.offset } : {}),
  };
}

test('one broker cut off from the API: the others keep acknowledging, its partitions answer 503, then recover', async () => {
  const kafka = cluster;
  if (!kafka) throw new Error('the three-node cluster did not start');
  const scenario = await newScenario('broker-cut', kafka.brokers, { replicationFactor: 3 });
  const services: RunningService[] = [];
  try {
    const clientBrokers = kafka.extraBootstrap['CLIENTS'];
    if (!clientBrokers) throw new Error('no CLIENTS listener');
    const producer = await startProducer(scenario, 'api', {
      env: { KAFKA_BROKERS: clientBrokers },
    });
    services.push(producer.service);
    const acked: Answer[] = [];
    const send = async (key: string | undefined) => {
      const answer = await produce(producer.url, scenario.topic, key, acked.length);
      if (answer.status === 200) acked.push(answer);
      return answer;
    };

    // Where each key goes, and who leads each partition.
    const partitionOf = new Map<string, number>();
    for (const key of KEYS) {
      const answer = await send(key);
      expect(answer.status).toBe(200);
      partitionOf.set(key, answer.partition as number);
    }
    const leaders = await withAdmin(kafka.brokers, async (admin) => {
      const { topics } = await admin.fetchTopicMetadata({ topics: [scenario.topic] });
      return new Map((topics[0]?.partitions ?? []).map((p) => [p.partitionId, p.leader]));
    });
    const victim = leaders.get(partitionOf.get('key-0') as number) as number;
    const cutKeys = KEYS.filter((key) => leaders.get(partitionOf.get(key) as number) === victim);
    const otherKeys = KEYS.filter((key) => !cutKeys.includes(key));
    expect(otherKeys.length).toBeGreaterThan(0);

    await forwarders[kafka.nodeIds.indexOf(victim)]?.stop();
    const duringAll = Promise.all(KEYS.map((key) => send(key)));
    // While its send hangs, keyless messages go to the other brokers' partitions.
    await pause(1_500);
    const keyless: Answer[] = [];
    for (let i = 0; i < 12; i += 1) keyless.push(await send(undefined));
    const during = await duringAll;
    const byKey = new Map(during.map((a) => [a.key, a]));
    const others = otherKeys.map((key) => byKey.get(key) as Answer);
    const cut = cutKeys.map((key) => byKey.get(key) as Answer);
    process.stdout.write(
      `  broker ${victim} cut off: ${others.length} requests for the other brokers' partitions ` +
        `answered ${others.map((a) => a.status).join(',')} in at most ${Math.max(...others.map((a) => a.ms))} ms; ` +
        `${cut.length} for its own answered ${cut.map((a) => a.status).join(',')}\n`,
    );
    for (const answer of others) {
      expect({ key: answer.key, status: answer.status }).toEqual({ key: answer.key, status: 200 });
      // Well inside the produce timeout that the cut-off broker's requests run into.
      expect(answer.ms).toBeLessThan(PRODUCE_TIMEOUT_MS / 2);
    }
    for (const answer of cut) expect(answer.status).toBe(503);
    process.stdout.write(
      `  12 keyless requests during the cut: ${keyless.map((a) => a.status).join(',')}, ` +
        `partitions ${keyless.map((a) => a.partition).join(',')}\n`,
    );
    for (const answer of keyless) {
      expect(answer.status).toBe(200);
      expect(leaders.get(answer.partition as number)).not.toBe(victim);
    }

    await forwarders[kafka.nodeIds.indexOf(victim)]?.start();
    await waitUntil(
      `broker ${victim}'s partitions writable again`,
      async () => (await send('key-0')).status === 200,
      { timeoutMs: 60_000, intervalMs: 500 },
    );

    // Every acknowledged message is in Kafka where the API said.
    const total = await withAdmin(kafka.brokers, async (admin) =>
      (await admin.fetchTopicOffsets(scenario.topic)).reduce((sum, p) => sum + Number(p.high), 0),
    );
    expect(total).toBeGreaterThanOrEqual(acked.length);
    const stored = await consumeAll(scenario.topic, total, 60_000, { brokers: kafka.brokers });
    const at = new Set(stored.map((m) => `${m.partition}/${m.offset}`));
    const missing = acked.filter((a) => !at.has(`${a.partition}/${a.offset}`));
    expect(missing).toEqual([]);
  } finally {
    await stopAll(services);
  }
});
