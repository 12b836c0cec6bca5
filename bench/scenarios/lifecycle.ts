/**
 * 7. Lifecycle.
 * - producer-sigterm: our API under the 3a load gets SIGTERM; time until the process exits,
 *   its exit code, whether every acknowledged message is in the topic, and how many requests
 *   were answered with an error status while it stopped (connection errors once the port is
 *   closed are not counted: the load generator keeps trying until it is stopped).
 * - rebalance-sigterm / rebalance-sigkill: two consumers share a 6-partition topic while
 *   messages trickle in; one is stopped. The pause is the time from the signal until the
 *   survivor reports all 6 partitions assigned (its assigned_partitions gauge, scraped every
 *   50 ms). After SIGTERM the leaver says goodbye to the group; after SIGKILL the group waits
 *   for its session timeout.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { consumerSpec } from '../../services/common/config';
import { benchKafka, messagesIn, PARTITIONS, withTopic } from '../lib/kafka';
import { startLoad } from '../lib/load';
import { benchValueText, fixedBody } from '../lib/payload';
import { sumOf } from '../lib/prom';
import type { Context, Measurement, Scenario } from '../lib/scenario';
import { startConsumer, startProducer, type RunningService } from '../lib/services';
import { DLQ_TOPIC } from './consumer';
import { SHAPE_A } from './http';
import { waitFor } from '../../scripts/lib/poll';

const ASSIGNED = 'event_pipeline_consumer_assigned_partitions';
const PRODUCED = 'event_pipeline_produced_messages_total';

export const producerSigterm: Scenario = {
  id: 'producer-sigterm',
  ref: '7a',
  title: 'producer API: SIGTERM to exit under the 3a load',
  group: 'lifecycle',
  primary: 'exitMs',
  better: 'lower',
  async run(ctx) {
    const topic = ctx.unique('sigterm');
    return withTopic(ctx.brokers, topic, async () => {
      const label = `producer-sigterm-${ctx.round}`;
      const producer = await startProducer([topic], { brokers: ctx.brokers, label });
      try {
        const load = startLoad(label, {
          url: `${producer.apiUrl}/v1/topics/${topic}/messages`,
          headers: { 'content-type': 'application/json' },
          body: fixedBody(SHAPE_A.perRequest, 'api'),
          connections: SHAPE_A.connections,
          warmupRequests: 0,
          durationSec: ctx.profile.lifecycle.loadBeforeSignalMs / 1000 + 60,
          timeoutSec: 30,
        });
        // The load generator needs a moment to start: count from the first acknowledged request.
        await waitFor(
          'the first acknowledged request',
          async () =>
            (sumOf(await producer.metrics(), PRODUCED, { topic, result: 'acked' }) ?? 0) > 0,
          { timeoutMs: 30_000, intervalMs: 50, retryErrors: true },
        );
        await sleep(ctx.profile.lifecycle.loadBeforeSignalMs);
        const signalledAt = performance.now();
        producer.proc.child.kill('SIGTERM');
        const code = await producer.proc.exited;
        const exitMs = performance.now() - signalledAt;
        load.stop();
        const result = await load.result;
        const acked = (result.statusCodes['200'] ?? 0) * SHAPE_A.perRequest;
        const inTopic = await messagesIn(ctx.brokers, topic);
        return {
          figures: {
            exitMs,
            exitCode: typeof code === 'number' ? code : -1,
            ackedMessages: acked,
            lostMessages: Math.max(0, acked - inTopic),
            refusedRequests: result.non2xx,
          },
          notes: code === 0 ? [] : [`exit ${code}; log ${producer.proc.logFile}`],
        };
      } finally {
        await producer.stop('SIGKILL');
      }
    });
  },
};

async function assigned(service: RunningService): Promise<number | undefined> {
  return sumOf(await service.metrics(), ASSIGNED);
}

/** Sends `rate` messages/s of JSON to `topic` until stopped. */
function trickle(brokers: string[], topic: string, rate: number): { stop(): Promise<void> } {
  const producer = benchKafka(brokers, 'bench-trickle').producer({ allowAutoTopicCreation: false });
  let running = true;
  const value = benchValueText();
  const loop = (async () => {
    await producer.connect();
    for (let tick = 0; running; tick += 1) {
      const messages = Array.from({ length: Math.max(1, Math.round(rate / 10)) }, () => ({
        value,
      }));
      await producer.send({ topic, acks: -1, messages }).catch(() => undefined);
      await sleep(100);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop.catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
    },
  };
}

async function rebalance(ctx: Context, signal: 'SIGTERM' | 'SIGKILL'): Promise<Measurement> {
  const { sessionTimeoutMs, heartbeatIntervalMs, trickleRate } = ctx.profile.lifecycle;
  const session = sessionTimeoutMs ?? consumerSpec.SESSION_TIMEOUT_MS.defaultValue ?? 30_000;
  const env: Record<string, string> = {};
  if (sessionTimeoutMs !== undefined) env.SESSION_TIMEOUT_MS = String(sessionTimeoutMs);
  if (heartbeatIntervalMs !== undefined) env.HEARTBEAT_INTERVAL_MS = String(heartbeatIntervalMs);
  const topic = ctx.unique(`rebalance-${signal.toLowerCase()}`);
  const group = ctx.unique('rebalance-group');
  const label = `rebalance-${signal.toLowerCase()}-${ctx.round}`;
  return withTopic(ctx.brokers, topic, async () => {
    const flow = trickle(ctx.brokers, topic, trickleRate);
    const options = { brokers: ctx.brokers, env };
    const survivor = await startConsumer([topic], group, DLQ_TOPIC, {
      ...options,
      label: `${label}-a`,
    });
    let leaver: RunningService | undefined;
    try {
      leaver = await startConsumer([topic], group, DLQ_TOPIC, {
        ...options,
        label: `${label}-b`,
        waitJoined: false,
      });
      const b = leaver;
      await waitFor(
        'both consumers to own partitions',
        async () => {
          const [x, y] = [await assigned(survivor), await assigned(b)];
          return x !== undefined && y !== undefined && x > 0 && y > 0 && x + y === PARTITIONS;
        },
        { timeoutMs: session + 60_000, intervalMs: 100, retryErrors: true },
      );
      const signalledAt = performance.now();
      b.proc.child.kill(signal);
      // Never rejects: awaited below, and harmless if the wait in between fails.
      const leaverExit = b.proc.exited.then(() => performance.now() - signalledAt);
      await waitFor(
        'the survivor to own every partition',
        async () => (await assigned(survivor)) === PARTITIONS,
        { timeoutMs: session + 60_000, intervalMs: 50, retryErrors: true },
      );
      const pauseMs = performance.now() - signalledAt;
      const leaverExitMs = await leaverExit;
      return {
        figures: {
          pauseMs,
          sessionTimeoutMs: session,
          ...(signal === 'SIGTERM' ? { leaverExitMs } : {}),
        },
      };
    } finally {
      await leaver?.stop('SIGKILL');
      await survivor.stop('SIGTERM');
      await flow.stop();
    }
  });
}

export const rebalanceSigterm: Scenario = {
  id: 'rebalance-sigterm',
  ref: '7b',
  title: 'consumer group: rebalance pause after SIGTERM of 1 of 2 consumers',
  group: 'lifecycle',
  primary: 'pauseMs',
  better: 'lower',
  ratios: [{ label: 'SIGTERM ÷ SIGKILL pause', over: 'rebalance-sigkill' }],
  run: (ctx) => rebalance(ctx, 'SIGTERM'),
};

export const rebalanceSigkill: Scenario = {
  id: 'rebalance-sigkill',
  ref: '7c',
  title: 'consumer group: rebalance pause after SIGKILL of 1 of 2 consumers',
  group: 'lifecycle',
  primary: 'pauseMs',
  better: 'lower',
  run: (ctx) => rebalance(ctx, 'SIGKILL'),
};
