/**
 * `npm run demo:failover [-- --short] [--port 9192] [--api-port 8180]`
 *
 * On a three-broker Kafka on this machine, while the producer API takes a steady load: find
 * the leader of partition events-0, kill that broker (SIGKILL), watch a follower take over,
 * restart the broker, watch it catch up into the in-sync replicas, hand leadership back to
 * it, and count: every acknowledged message must be in Kafka and processed. Exit 0 only if
 * nothing was lost. --short (or DEMO_SHORT=1) shortens the phases of load, not the steps.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { captureTool } from '../kafka/tool';
import { KAFKA_VERSION } from '../kafka/version';
import { CONSUMER_GROUP, EVENTS_TOPIC } from '../system/local-system';
import { countLedger, printLedger, readProcessed, readStored, waitUntilProcessed } from './ledger';
import { SteadyLoad, type LoadWindow } from './load';
import type { DemoOptions } from './options';
import { runDemo } from './run';
import { plural, type Story } from './story';
import { DemoSystem } from './system';
import { list, partitionStates, samePartitionState, type PartitionState } from './views';
import { waitFor } from '../lib/poll';

const USAGE =
  'usage: npm run demo:failover -- [--short] [--port <first Kafka port>] [--api-port <port>]';
const WATCHED = 0;
const RATE = { requestsPerSecond: 20, messagesPerRequest: 5, keys: 12 };

interface Phases {
  warmUpMs: number;
  degradedMs: number;
}

const FULL: Phases = { warmUpMs: 10_000, degradedMs: 10_000 };
const SHORT: Phases = { warmUpMs: 3_000, degradedMs: 3_000 };

async function run(
  options: DemoOptions,
  story: Story,
  onSystem: (s: DemoSystem) => void,
): Promise<boolean> {
  const phases = options.short ? SHORT : FULL;
  story.title('Kafka failover, live', [
    'Three Kafka brokers run on this machine. While the producer API takes a steady load, we kill',
    `the broker that leads partition ${EVENTS_TOPIC}-${WATCHED}, watch a follower take its place, bring the broker`,
    'back, and count at the end: every message the API acknowledged must be in Kafka and processed.',
  ]);

  story.heading('Start the system');
  story.event(
    `starting Kafka ${KAFKA_VERSION}: 3 brokers, topic "${EVENTS_TOPIC}" with 6 partitions, 3 replicas each`,
  );
  const system = await DemoSystem.start({
    demo: 'failover',
    brokers: 3,
    port: options.port,
    apiPort: options.apiPort,
    maxConsumers: 1,
  });
  onSystem(system);
  const { cluster } = system;
  story.event(`Kafka is up: KAFKA_BROKERS=${cluster.bootstrap}`);
  story.note('(min.insync.replicas=2: a write is acknowledged once 2 of the 3 replicas have it)');
  await system.startProducer();
  await system.startConsumer('consumer-a');
  story.event(
    `producer API ready at ${system.apiUrl}; consumer ready in group "${CONSUMER_GROUP}"`,
  );
  story.note(`service logs: ${system.logDir}`);
  story.note(
    `look for yourself meanwhile: KAFKA_BROKERS=${cluster.bootstrap} npm run kafka -- topics --describe --topic ${EVENTS_TOPIC}`,
  );

  story.heading('A steady load');
  const load = new SteadyLoad({ apiUrl: system.apiUrl, topic: EVENTS_TOPIC, ...RATE });
  load.start();
  story.event(
    `sending ${RATE.requestsPerSecond} requests/s of ${RATE.messagesPerRequest} messages (${RATE.requestsPerSecond * RATE.messagesPerRequest} messages/s, ${RATE.keys} keys); a 503 is retried after its Retry-After`,
  );
  await sleep(phases.warmUpMs);
  const report = loadReporter(story);
  report(load.takeWindow(), (t) => story.event(t), `${phases.warmUpMs / 1000} s of load: `);

  try {
    story.heading(`Who leads ${EVENTS_TOPIC}-${WATCHED}?`);
    const before = await partitionStates(system.liveBrokers(), EVENTS_TOPIC);
    printPartitions(story, before);
    const watched = before.find((p) => p.partition === WATCHED);
    if (watched === undefined || watched.leader < 0)
      throw new Error(`${EVENTS_TOPIC}-${WATCHED} has no leader`);
    const victim = watched.leader;
    const followers = watched.replicas.filter((id) => id !== victim);
    const alsoLed = before
      .filter((p) => p.leader === victim && p.partition !== WATCHED)
      .map((p) => `${EVENTS_TOPIC}-${p.partition}`);
    story.note(
      `Broker ${victim} is the leader: producers write ${EVENTS_TOPIC}-${WATCHED} to it and consumers read it from it.`,
    );
    story.note(
      `Brokers ${followers.join(' and ')} are followers: they copy every write. In sync: ${list(watched.isr)}.`,
    );

    story.heading(`Kill broker ${victim}`);
    const pid = cluster.nodes().find((n) => n.id === victim)?.pid;
    const killedAt = performance.now();
    await cluster.stopNode(victim, 'SIGKILL');
    story.event(`broker ${victim} killed with SIGKILL (pid ${pid}): no goodbye, no handover`);
    if (alsoLed.length > 0)
      story.note(`it also led ${alsoLed.join(', ')}; those move the same way`);
    story.note(
      `Writes to ${EVENTS_TOPIC}-${WATCHED} now wait: its leader does not answer, and the cluster has not noticed yet.`,
    );
    const failedOver = await watchPartition(
      story,
      system,
      WATCHED,
      (p) => p.leader >= 0 && p.leader !== victim,
      60_000,
      watched,
    );
    const failoverSeconds = ((performance.now() - killedAt) / 1000).toFixed(1);
    story.event(
      `broker ${failedOver.leader}, a follower until now, leads ${EVENTS_TOPIC}-${WATCHED} (${failoverSeconds} s after the kill); in sync: ${list(failedOver.isr)}`,
    );
    story.note(
      'Kafka waits broker.session.timeout.ms (9 s by default) without a heartbeat before it',
    );
    story.note(
      'declares a broker dead; then the controller picks a new leader from the in-sync replicas.',
    );
    report(load.takeWindow(), (t) => story.note(t), 'Meanwhile the producer API: ');

    story.heading(`Keep writing with broker ${victim} down`);
    await sleep(phases.degradedMs);
    report(load.takeWindow(), (t) => story.event(t), `${phases.degradedMs / 1000} s more: `);
    story.note(`2 replicas in sync still meet min.insync.replicas=2, so acks=all writes succeed.`);
    const degraded = await partitionStates(system.liveBrokers(), EVENTS_TOPIC);
    printPartitions(story, degraded);

    story.heading(`Restart broker ${victim}`);
    story.event(`starting broker ${victim} again, on its old data folder`);
    const restartAt = performance.now();
    await cluster.startNode(victim);
    const servingAt = performance.now();
    story.event(
      `broker ${victim} serves again (${((servingAt - restartAt) / 1000).toFixed(1)} s to start); it fetches what it missed from the leaders`,
    );
    const caughtUp = await watchPartition(
      story,
      system,
      WATCHED,
      (p) => p.isr.includes(victim),
      120_000,
      failedOver,
    );
    story.event(
      `broker ${victim} is back in sync ${((performance.now() - servingAt) / 1000).toFixed(1)} s later, as a follower: leader ${caughtUp.leader}, in sync ${list(caughtUp.isr)}`,
    );

    story.heading('Leadership goes back to the preferred replica');
    story.note(
      `Broker ${victim} is first in the replica list ${list(watched.replicas)}: the "preferred" leader. Kafka moves`,
    );
    story.note(
      'leadership back by itself (it checks every leader.imbalance.check.interval.seconds, 300 s);',
    );
    story.note("we ask for it now, with Kafka's own tool:");
    const electionArgs = [
      '--election-type',
      'PREFERRED',
      '--topic',
      EVENTS_TOPIC,
      '--partition',
      String(WATCHED),
    ];
    story.note(`$ npm run kafka -- leader-election ${electionArgs.join(' ')}`);
    const election = await captureTool(
      'leader-election',
      electionArgs,
      system.liveBrokers().join(','),
    );
    if (election.code !== 0)
      throw new Error(`leader-election exited with ${election.code}: ${election.output}`);
    for (const line of election.output.split('\n').filter((l) => l.trim() !== ''))
      story.note(`  ${line.trim()}`);
    const restored = await watchPartition(
      story,
      system,
      WATCHED,
      (p) => p.leader === victim && p.isr.length === 3,
      30_000,
      caughtUp,
    );
    story.event(
      `${EVENTS_TOPIC}-${WATCHED}: leader ${restored.leader}, replicas ${list(restored.replicas)}, in sync ${list(restored.isr)}: as before the kill`,
    );
  } finally {
    await load.stop();
  }

  story.heading('Stop the load and count');
  const totals = load.totals();
  story.event(
    `load stopped: ${totals.requests} requests, ${load.acked.size} messages acknowledged; ${plural(totals.retriedRequests, 'request')} needed a retry`,
  );
  const missing = await waitUntilProcessed(load.acked, system.processedFiles(), 60_000);
  story.event(
    missing === 0
      ? 'the consumer has processed every acknowledged message'
      : `${missing} acknowledged messages not processed after 60 s`,
  );
  const stored = await readStored(system.liveBrokers(), EVENTS_TOPIC);
  story.event(`read ${EVENTS_TOPIC} back from Kafka: ${stored.length} messages in 6 partitions`);
  const ledger = countLedger(load.acked, stored, readProcessed(system.processedFiles()));
  printLedger(story, ledger);
  return ledger.lost === 0 && ledger.acknowledged > 0;
}

/** Prints each change of the partition's leader or in-sync replicas until `done` holds. */
async function watchPartition(
  story: Story,
  system: DemoSystem,
  partition: number,
  done: (p: PartitionState) => boolean,
  timeoutMs: number,
  from: PartitionState,
): Promise<PartitionState> {
  let last = from;
  return waitFor(
    `${EVENTS_TOPIC}-${partition} to change`,
    async () => {
      const states = await partitionStates(system.liveBrokers(), EVENTS_TOPIC);
      const now = states.find((p) => p.partition === partition);
      if (now === undefined) return undefined;
      if (!samePartitionState(now, last) && !done(now)) {
        story.event(
          `${EVENTS_TOPIC}-${partition}: leader ${now.leader < 0 ? 'none' : now.leader}, in sync ${list(now.isr)}`,
        );
      }
      last = now;
      return done(now) ? now : undefined;
    },
    { timeoutMs: timeoutMs, intervalMs: 250, retryErrors: true },
  );
}

function printPartitions(story: Story, states: readonly PartitionState[]): void {
  story.table(
    ['partition', 'leader', 'replicas', 'in sync'],
    states.map((p) => [
      `${EVENTS_TOPIC}-${p.partition}`,
      p.leader < 0 ? 'none' : String(p.leader),
      list(p.replicas),
      list(p.isr),
    ]),
  );
}

/** Prints load windows; the first one with 503 answers also gets the why. */
function loadReporter(story: Story) {
  let explained = false;
  return (window: LoadWindow, say: (text: string) => void, prefix: string): void => {
    say(`${prefix}${describeWindow(window)}`);
    if (window.refused.size === 0 || explained) return;
    explained = true;
    story.note(
      'Rather than hold a request while Kafka is unsure, the API answers 503 with Retry-After;',
    );
    story.note(
      'the client sends the same messages again. If the first try reached Kafka after all, they',
    );
    story.note(
      'are stored twice (the ledger counts them), but an acknowledged message is never lost.',
    );
  };
}

function describeWindow(window: LoadWindow): string {
  const parts = [
    `${window.acked} messages acknowledged`,
    `slowest answer ${(window.slowestMs / 1000).toFixed(1)} s`,
  ];
  const refused = [...window.refused.values()].reduce((sum, n) => sum + n, 0);
  if (refused > 0) {
    const codes = [...window.refused].map(([code, n]) => `${code} ${n}`).join(', ');
    parts.push(`${plural(refused, 'answer')} 503 (${codes}), sent again after Retry-After`);
  }
  if (window.failed > 0) parts.push(`${plural(window.failed, 'other failure')} (sent again)`);
  if (window.pending > 0) parts.push(`${plural(window.pending, 'request')} still waiting`);
  return parts.join(', ');
}

if (require.main === module)
  runDemo('demo:failover', USAGE, { brokers: 3, brokerChoice: false }, run);
