/**
 * `npm run demo:scale [-- --short] [--brokers 1|3] [--port 9192] [--api-port 8180]`
 *
 * One consumer instance owns all six partitions of `events`; a second and a third join the
 * group `event-consumer` and Kafka rebalances the partitions among them; then one is stopped
 * with SIGTERM and its partitions move to the others at once, because it leaves the group
 * instead of letting the others wait out its session. A steady load runs throughout, and the
 * closing ledger counts what was acknowledged, stored and processed (lost must be 0).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { KAFKA_VERSION } from '../kafka/version';
import { CONSUMER_GROUP, EVENTS_PARTITIONS, EVENTS_TOPIC } from '../system/local-system';
import { countLedger, printLedger, readProcessed, readStored, waitUntilProcessed } from './ledger';
import { SteadyLoad } from './load';
import type { DemoOptions } from './options';
import { runDemo } from './run';
import { plural, type Story } from './story';
import { DemoSystem } from './system';
import { groupState, list, settled, type GroupState } from './views';
import { waitFor } from '../lib/poll';

const USAGE =
  'usage: npm run demo:scale -- [--short] [--brokers 1|3] [--port <first Kafka port>] [--api-port <port>]';
const RATE = { requestsPerSecond: 10, messagesPerRequest: 5, keys: 12 };
const INSTANCES = ['consumer-a', 'consumer-b', 'consumer-c'] as const;

async function run(
  options: DemoOptions,
  story: Story,
  onSystem: (s: DemoSystem) => void,
): Promise<boolean> {
  const settleMs = options.short ? 2_000 : 5_000;
  story.title('Consumer group rebalancing, live', [
    `Consumer instances that share a group id share the work: Kafka gives each partition of`,
    `"${EVENTS_TOPIC}" to exactly one member of the group "${CONSUMER_GROUP}". We add two instances, then stop`,
    'one, and watch who owns what. A steady load runs throughout; nothing may be lost.',
  ]);

  story.heading('Start the system');
  story.event(
    `starting Kafka ${KAFKA_VERSION} (${plural(options.brokers, 'broker')}), topic "${EVENTS_TOPIC}" with ${EVENTS_PARTITIONS} partitions`,
  );
  const system = await DemoSystem.start({
    demo: 'scale',
    brokers: options.brokers,
    port: options.port,
    apiPort: options.apiPort,
    maxConsumers: INSTANCES.length,
  });
  onSystem(system);
  story.event(`Kafka is up: KAFKA_BROKERS=${system.cluster.bootstrap}`);
  await system.startProducer();
  story.event(`producer API ready at ${system.apiUrl}`);
  story.note(`service logs: ${system.logDir}`);
  story.note(
    `look for yourself meanwhile: KAFKA_BROKERS=${system.cluster.bootstrap} npm run kafka -- consumer-groups --describe --group ${CONSUMER_GROUP} --members --verbose`,
  );
  const load = new SteadyLoad({ apiUrl: system.apiUrl, topic: EVENTS_TOPIC, ...RATE });
  load.start();
  story.event(
    `steady load: ${RATE.requestsPerSecond * RATE.messagesPerRequest} messages/s over ${RATE.keys} keys`,
  );

  const members: string[] = [];
  let current: GroupState | undefined;
  try {
    story.heading('One instance owns every partition');
    await system.startConsumer('consumer-a');
    members.push('consumer-a');
    current = await waitSettled(system, members);
    story.event('consumer-a joined the group');
    printGroup(story, current);

    for (const label of ['consumer-b', 'consumer-c']) {
      story.heading(`Start ${label}`);
      await sleep(settleMs);
      const startedAt = performance.now();
      await system.startConsumer(label);
      members.push(label);
      const after = await waitSettled(system, members);
      story.event(
        `${label} joined; the group rebalanced ${seconds(startedAt)} after it started (members rejoin at their next heartbeat, HEARTBEAT_INTERVAL_MS)`,
      );
      printMoves(story, current, after);
      printGroup(story, after);
      if (label === 'consumer-b') {
        story.note(
          'kafkajs rebalances "eagerly": every member hands back all its partitions and gets a',
        );
        story.note(
          'new share from the round-robin assignor, so more partitions can move than strictly needed.',
        );
      }
      current = after;
    }

    story.heading('Stop consumer-b with SIGTERM');
    await sleep(settleMs);
    const leaving = system.consumers.get('consumer-b');
    if (leaving === undefined) throw new Error('consumer-b is not running');
    const signalledAt = performance.now();
    const exit = await leaving.stop('SIGTERM');
    story.event(
      `consumer-b finished the message in hand, committed its offsets and left the group: exit ${exit} after ${seconds(signalledAt)}`,
    );
    members.splice(members.indexOf('consumer-b'), 1);
    const after = await waitSettled(system, members);
    story.event(
      `the others own its partitions ${seconds(signalledAt)} after the signal; had it just vanished (kill -9), they would wait out SESSION_TIMEOUT_MS (30 s by default) first`,
    );
    printMoves(story, current, after);
    printGroup(story, after);
    await sleep(settleMs);
  } finally {
    await load.stop();
  }

  story.heading('Stop the load and count');
  story.event(`load stopped: ${load.acked.size} messages acknowledged`);
  const missing = await waitUntilProcessed(load.acked, system.processedFiles(), 60_000);
  story.event(
    missing === 0
      ? 'the consumers have processed every acknowledged message'
      : `${missing} acknowledged messages not processed after 60 s`,
  );
  const processed = readProcessed(system.processedFiles());
  const byInstance = INSTANCES.map(
    (label) => `${label} ${processed.filter((p) => p.instance === label).length}`,
  );
  story.note(`processed by instance: ${byInstance.join(', ')}`);
  const stored = await readStored(system.liveBrokers(), EVENTS_TOPIC);
  const ledger = countLedger(load.acked, stored, processed);
  printLedger(story, ledger);
  return ledger.lost === 0 && ledger.acknowledged > 0;
}

function waitSettled(system: DemoSystem, members: readonly string[]): Promise<GroupState> {
  return waitFor(
    `the group to settle with ${members.join(', ')}`,
    async () => {
      const group = await groupState(system.liveBrokers(), CONSUMER_GROUP, EVENTS_TOPIC);
      return settled(group, members, EVENTS_PARTITIONS) ? group : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 250, retryErrors: true },
  );
}

function printGroup(story: Story, group: GroupState): void {
  story.table(
    ['member', 'partitions of events'],
    group.members.map((m) => [m.clientId, list(m.partitions)]),
  );
}

/** Which partitions changed owner between two settled states. */
function printMoves(story: Story, before: GroupState | undefined, after: GroupState): void {
  const ownerBefore = owners(before);
  const moves = [...owners(after)]
    .filter(([partition, owner]) => ownerBefore.get(partition) !== owner)
    .sort(([a], [b]) => a - b);
  if (moves.length === 0) story.note('no partition moved');
  for (const [partition, owner] of moves) {
    story.note(
      `moved: ${EVENTS_TOPIC}-${partition}  ${ownerBefore.get(partition) ?? 'nobody'} -> ${owner}`,
    );
  }
}

function owners(group: GroupState | undefined): Map<number, string> {
  return new Map(
    (group?.members ?? []).flatMap((m) => m.partitions.map((p) => [p, m.clientId] as const)),
  );
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

if (require.main === module) runDemo('demo:scale', USAGE, { brokers: 1, brokerChoice: true }, run);
