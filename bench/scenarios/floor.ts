/**
 * 3c/3d/3e. The floor under the single-message request: the 3b load against a server that
 * answers it with nothing in between (bench/workers/http-floor.ts), node:http alone, express
 * with express.json(), and express with our API's body reader. Their CPU per request is what Node and express cost on this
 * machine before any work of ours; our API's ratio over them says how much is left to cut.
 */
import { join } from 'node:path';
import { producerSpec } from '../../services/common/config';
import { forkTracked, type Tracked } from '../../scripts/lib/processes';
import type { Context, Measurement, Scenario } from '../lib/scenario';
import type { FloorConfig, FloorFramework, FloorReply } from '../workers/http-floor';
import { fixedBody } from '../lib/payload';
import { SHAPE_B, loadFigures, warmThenMeasure } from './http';

const START_TIMEOUT_MS = 15_000;

interface FloorServer {
  url: string;
  cpuSeconds(): Promise<number>;
  stop(): Promise<void>;
}

function nextReply<T extends FloorReply['type']>(
  proc: Tracked,
  type: T,
): Promise<Extract<FloorReply, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.child.off('message', onMessage);
      reject(new Error(`${proc.name} did not answer ${type} in time; log ${proc.logFile}`));
    }, START_TIMEOUT_MS);
    const onMessage = (message: FloorReply) => {
      if (message.type !== type) return;
      clearTimeout(timer);
      proc.child.off('message', onMessage);
      resolve(message as Extract<FloorReply, { type: T }>);
    };
    proc.child.on('message', onMessage);
  });
}

async function startFloor(framework: FloorFramework, label: string): Promise<FloorServer> {
  const proc = forkTracked(label, join(__dirname, '..', 'workers', 'http-floor.js'));
  const config: FloorConfig = {
    framework,
    maxBodyBytes: producerSpec.MAX_BODY_BYTES.defaultValue ?? 1_048_576,
  };
  const listening = nextReply(proc, 'listening');
  proc.child.send(config);
  const { port } = await listening.catch(async (error: unknown) => {
    await proc.stop('SIGKILL');
    throw error;
  });
  return {
    url: `http://127.0.0.1:${port}`,
    async cpuSeconds() {
      const answer = nextReply(proc, 'cpu');
      proc.child.send({ type: 'cpu' });
      return (await answer).cpuSec;
    },
    async stop() {
      await proc.stop('SIGTERM', 5_000);
    },
  };
}

async function runFloor(ctx: Context, framework: FloorFramework, id: string): Promise<Measurement> {
  const label = `${id}-${ctx.round}`;
  const server = await startFloor(framework, label);
  try {
    let cpuBefore = 0;
    const { measured } = await warmThenMeasure(
      label,
      {
        url: `${server.url}/v1/topics/floor/messages`,
        headers: { 'content-type': 'application/json' },
        body: fixedBody(SHAPE_B.perRequest, 'api'),
        connections: SHAPE_B.connections,
      },
      SHAPE_B.counts(ctx),
      async () => {
        cpuBefore = await server.cpuSeconds();
      },
    );
    const cpuAfter = await server.cpuSeconds();
    const messages = measured.requests * SHAPE_B.perRequest;
    return {
      figures: {
        ...loadFigures(measured, SHAPE_B.perRequest),
        cpuUsPerMsg: messages > 0 ? ((cpuAfter - cpuBefore) * 1e6) / messages : undefined,
      },
    };
  } finally {
    await server.stop();
  }
}

export const nodeHttpFloor: Scenario = {
  id: 'http-floor-1x64',
  ref: '3c',
  title:
    'floor: node:http reads the body, JSON.parse, answers (no Kafka), 1 msg/request, 64 connections',
  group: 'floor',
  primary: 'msgsPerSec',
  better: 'higher',
  run: (ctx) => runFloor(ctx, 'node', 'http-floor-1x64'),
};

export const expressFloor: Scenario = {
  id: 'express-floor-1x64',
  ref: '3d',
  title: 'floor: express + express.json(), answers (no Kafka), 1 msg/request, 64 connections',
  group: 'floor',
  primary: 'msgsPerSec',
  better: 'higher',
  ratios: [
    {
      label: 'CPU per message, express ÷ node:http',
      over: 'http-floor-1x64',
      field: 'cpuUsPerMsg',
    },
  ],
  run: (ctx) => runFloor(ctx, 'express', 'express-floor-1x64'),
};

export const expressLeanFloor: Scenario = {
  id: 'express-lean-floor-1x64',
  ref: '3e',
  title:
    "floor: express + our API's body reader, answers (no Kafka), 1 msg/request, 64 connections",
  group: 'floor',
  primary: 'msgsPerSec',
  better: 'higher',
  ratios: [
    {
      label: 'CPU per message, ours ÷ express.json()',
      over: 'express-floor-1x64',
      field: 'cpuUsPerMsg',
    },
  ],
  run: (ctx) => runFloor(ctx, 'express-lean', 'express-lean-floor-1x64'),
};
