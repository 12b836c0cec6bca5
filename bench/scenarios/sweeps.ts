/**
 * 8–10. How cost grows: each point of a sweep is a scenario of its own (repeated, summarized
 * and paired like every other), and bench/lib/sweep-charts.ts draws the lines.
 * - 8: value size (100 B, 1 KiB, 10 KiB, 100 KiB) for raw kafkajs, our API and the Bridge,
 *   single-message requests over 64 connections; fewer messages for larger values.
 * - 9: connections (1 to 256) for our API's single-message requests; p50 and p99 with them.
 * - 10: our consumer and raw kafkajs + JSON.parse at 1, 3 and 6 partitions consumed at once.
 */
import { VALUE_BYTES } from '../lib/payload';
import type { Context, Scenario } from '../lib/scenario';
import { runOurConsumer } from './consumer';
import { runApi, runBridge, SHAPE_B, type Shape } from './http';
import { runRawConsumer, runRawProducer } from './raw';

export const VALUE_SIZES = [100, 1_024, 10_240, 102_400];
export const CONNECTIONS = [1, 4, 16, 64, 256];
export const CONSUMER_CONCURRENCY = [1, 3, 6];

/** Larger values get proportionally fewer messages, down to a twentieth. */
const LARGEST_REDUCTION = 20;
/** At 1 connection each request waits for its acknowledgement: a few hundred per connection do. */
const REQUESTS_PER_CONNECTION = 300;

export function sizeLabel(bytes: number): string {
  if (bytes < 1_024) return `${bytes} B`;
  return `${Math.round(bytes / 1_024)} KiB`;
}

function forSize(count: number, bytes: number, atLeast: number): number {
  const share = Math.min(1, Math.max(1 / LARGEST_REDUCTION, VALUE_BYTES / bytes));
  return Math.max(atLeast, Math.round(count * share));
}

function singleMessageShape(valueBytes: number, connections: number): Shape {
  return {
    perRequest: 1,
    connections,
    valueBytes,
    counts: (ctx: Context) => {
      const { warmupRequests, requests } = SHAPE_B.counts(ctx);
      // autocannon needs at least one request per connection in each run.
      const cap = (n: number) =>
        Math.max(connections, Math.min(n, connections * REQUESTS_PER_CONNECTION));
      return {
        warmupRequests: cap(forSize(warmupRequests, valueBytes, connections)),
        requests: cap(forSize(requests, valueBytes, connections)),
      };
    },
  };
}

function valueSizeSweep(): Scenario[] {
  return VALUE_SIZES.flatMap((bytes, index): Scenario[] => {
    const size = sizeLabel(bytes);
    const tag = size.replace(' ', '');
    const letter = (series: number) => String.fromCharCode(97 + index * 3 + series);
    const shape = singleMessageShape(bytes, SHAPE_B.connections);
    const rawId = `size-raw-${tag}`;
    const apiId = `size-api-${tag}`;
    const bridgeId = `size-bridge-${tag}`;
    return [
      {
        id: rawId,
        ref: `8${letter(0)}`,
        title: `value size ${size}: raw kafkajs producer, batches as our batcher's`,
        group: 'sweep',
        primary: 'msgsPerSec',
        better: 'higher',
        sweep: { sweep: 'value-size', series: 'raw kafkajs', x: bytes },
        run: (ctx) =>
          runRawProducer(ctx, rawId, bytes, {
            warmup: forSize(ctx.profile.rawProducer.warmup, bytes, 100),
            messages: forSize(ctx.profile.rawProducer.messages, bytes, 500),
          }),
      },
      {
        id: apiId,
        ref: `8${letter(1)}`,
        title: `value size ${size}: our API, 1 msg/request, 64 connections`,
        group: 'sweep',
        primary: 'msgsPerSec',
        better: 'higher',
        ratios: [
          { label: 'CPU per message, ours ÷ raw kafkajs', over: rawId, field: 'cpuUsPerMsg' },
          { label: 'ours ÷ Bridge', over: bridgeId },
        ],
        sweep: { sweep: 'value-size', series: 'our API', x: bytes },
        run: (ctx) => runApi(ctx, shape, apiId),
      },
      {
        id: bridgeId,
        ref: `8${letter(2)}`,
        title: `value size ${size}: Strimzi Kafka Bridge, 1 msg/request, 64 connections`,
        group: 'bridge',
        primary: 'msgsPerSec',
        better: 'higher',
        sweep: { sweep: 'value-size', series: 'Kafka Bridge', x: bytes },
        unavailable: (ctx) => ('unavailable' in ctx.bridge ? ctx.bridge.unavailable : undefined),
        run: (ctx) => runBridge(ctx, shape, bridgeId),
      },
    ];
  });
}

function concurrencySweep(): Scenario[] {
  return CONNECTIONS.map((connections, index): Scenario => {
    const id = `connections-api-${connections}`;
    return {
      id,
      ref: `9${String.fromCharCode(97 + index)}`,
      title: `${connections} connection${connections > 1 ? 's' : ''}: our API, 1 msg/request`,
      group: 'sweep',
      primary: 'msgsPerSec',
      better: 'higher',
      sweep: { sweep: 'concurrency', series: 'our API', x: connections },
      run: (ctx) => runApi(ctx, singleMessageShape(VALUE_BYTES, connections), id),
    };
  });
}

function consumerSweep(): Scenario[] {
  return CONSUMER_CONCURRENCY.flatMap((partitions, index): Scenario[] => {
    const oursId = `consumer-partitions-${partitions}`;
    const rawId = `raw-consumer-json-partitions-${partitions}`;
    const at = `${partitions} partition${partitions > 1 ? 's' : ''} at once`;
    return [
      {
        id: rawId,
        ref: `10${String.fromCharCode(97 + index * 2)}`,
        title: `${at}: raw kafkajs eachBatch + JSON.parse`,
        group: 'sweep',
        primary: 'msgsPerSec',
        better: 'higher',
        sweep: { sweep: 'consumer-partitions', series: 'raw kafkajs + JSON.parse', x: partitions },
        run: (ctx) => runRawConsumer(ctx, rawId, true, partitions),
      },
      {
        id: oursId,
        ref: `10${String.fromCharCode(98 + index * 2)}`,
        title: `${at}: our consumer service (default handler, metrics on)`,
        group: 'sweep',
        primary: 'msgsPerSec',
        better: 'higher',
        ratios: [
          {
            label: 'CPU per message, ours ÷ raw kafkajs + JSON.parse',
            over: rawId,
            field: 'cpuUsPerMsg',
          },
        ],
        sweep: { sweep: 'consumer-partitions', series: 'our consumer', x: partitions },
        run: (ctx) => runOurConsumer(ctx, oursId, partitions),
      },
    ];
  });
}

/** Every sweep point, in the order they run. */
export const SWEEPS: Scenario[] = [...valueSizeSweep(), ...concurrencySweep(), ...consumerSweep()];
