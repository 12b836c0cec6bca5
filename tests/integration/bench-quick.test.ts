/**
 * `npm run bench -- --quick` against the integration suite's Kafka: proves the benchmark
 * harness works end to end (every scenario ran and produced a row with sane fields, nothing
 * failed, no process left behind). It never asserts a speed: this machine is shared.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brokersFromEnv } from '../support/kafka';
import { imageNodeVersion } from '../../scripts/lib/image-node';
import { repoRoot } from '../../scripts/lib/root';

jest.setTimeout(300_000);

const ROOT = repoRoot();
const RUN = join(ROOT, 'dist', 'bench', 'run.js');

/** Every scenario of issues 7 and 17, by the ids the bench gives them. */
const SCENARIOS = [
  'kafka-producer-perf',
  'raw-producer',
  'platformatic-producer',
  'api-100x32',
  'bridge-100x32',
  'api-1x64',
  'http-floor-1x64',
  'express-floor-1x64',
  'express-lean-floor-1x64',
  'bridge-1x64',
  'kafka-consumer-perf',
  'raw-consumer',
  'raw-consumer-json',
  'platformatic-consumer',
  'platformatic-consumer-json',
  'consumer',
  'raw-e2e',
  'e2e',
  'producer-sigterm',
  'rebalance-sigterm',
  'rebalance-sigkill',
  // How cost grows (issue 17): value size, connections, partitions consumed at once.
  ...['100B', '1KiB', '10KiB', '100KiB'].flatMap((size) => [
    `size-raw-${size}`,
    `size-api-${size}`,
    `size-bridge-${size}`,
  ]),
  ...[1, 4, 16, 64, 256].map((connections) => `connections-api-${connections}`),
  ...[1, 3, 6].flatMap((partitions) => [
    `raw-consumer-json-partitions-${partitions}`,
    `consumer-partitions-${partitions}`,
  ]),
];

const CHARTS = [
  'sweep-value-size-cpu.svg',
  'sweep-value-size-throughput.svg',
  'sweep-connections-throughput.svg',
  'sweep-connections-latency.svg',
  'sweep-consumer-throughput.svg',
  'sweep-consumer-cpu.svg',
];

interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

interface Row {
  id: string;
  ref: string;
  group: string;
  primary: string;
  status: 'ok' | 'failed' | 'unavailable';
  reason?: string;
  runs: Array<{ figures: Record<string, number | undefined>; error?: string }>;
  summary: Record<string, Spread>;
  ratios: Array<{
    label: string;
    over: string;
    field?: string;
    spread?: Spread;
    missing?: string;
  }>;
}

interface Results {
  mode: string;
  machine: { cpus: number; memoryGiB: number; node: string };
  rows: Row[];
  targets: Array<{ issue: number; target: string; status: string; detail: string }>;
}

function runBench(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [RUN, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output += chunk.toString();
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', fail);
    child.on('exit', (code) => done({ code, output }));
  });
}

let outDir: string;
let results: Results;
let output: string;

beforeAll(async () => {
  if (!existsSync(RUN)) throw new Error(`${RUN} is missing: run npm run build first`);
  outDir = mkdtempSync(join(tmpdir(), 'bench-quick-'));
  const run = await runBench(['--quick', '--brokers', brokersFromEnv().join(','), '--out', outDir]);
  output = run.output;
  if (run.code !== 0)
    throw new Error(`the quick bench exited ${run.code}:\n${output.slice(-6000)}`);
  results = JSON.parse(readFileSync(join(outDir, 'results.json'), 'utf8')) as Results;
});

afterAll(() => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

test("it ran in quick mode, on the images' Node, and describes the machine", () => {
  expect(results.mode).toBe('quick');
  // Every process of the run (services, raw kafkajs, load generator) on the Dockerfile's Node.
  expect(results.machine.node).toBe(`v${imageNodeVersion()} (the images' Node)`);
  expect(results.machine.cpus).toBeGreaterThan(0);
  expect(results.machine.memoryGiB).toBeGreaterThan(0);
});

test('every scenario has a row, and none failed', () => {
  expect(results.rows.map((r) => r.id)).toEqual(SCENARIOS);
  for (const row of results.rows) {
    if (row.status === 'unavailable') {
      // Only the Bridge may be missing (its jars come from Maven), and it says why.
      expect(row.group).toBe('bridge');
      expect(row.reason).toEqual(expect.any(String));
      continue;
    }
    expect({ id: row.id, status: row.status, reason: row.reason }).toEqual({
      id: row.id,
      status: 'ok',
      reason: undefined,
    });
  }
});

test('each measured row has its figures, no errors and nothing lost', () => {
  for (const row of results.rows.filter((r) => r.status === 'ok')) {
    expect(row.runs).toHaveLength(1);
    const primary = row.summary[row.primary];
    expect({ id: row.id, median: primary?.median }).toEqual({
      id: row.id,
      median: expect.any(Number),
    });
    expect(Number.isFinite(primary?.median)).toBe(true);
    expect(primary?.median).toBeGreaterThan(0);
    for (const field of ['errors', 'lostMessages', 'exitCode', 'duplicates']) {
      if (row.summary[field] !== undefined) {
        expect({ id: row.id, field, value: row.summary[field]?.max }).toEqual({
          id: row.id,
          field,
          value: 0,
        });
      }
    }
  }
  const api = results.rows.find((r) => r.id === 'api-100x32');
  const apiFields = ['msgsPerSec', 'reqPerSec', 'p50Ms', 'p99Ms', 'p999Ms', 'batchMean'];
  for (const field of [...apiFields, 'cpuUsPerMsg', 'loadCpuUsPerMsg']) {
    expect({ field, value: api?.summary[field]?.median }).toEqual({
      field,
      value: expect.any(Number),
    });
  }
  // CPU per message, where the service and its reference are compared by cost, not speed.
  for (const id of [
    'raw-producer',
    'raw-consumer',
    'raw-consumer-json',
    'platformatic-producer',
    'platformatic-consumer',
    'platformatic-consumer-json',
    'consumer',
    'api-1x64',
    'http-floor-1x64',
    'express-floor-1x64',
    'express-lean-floor-1x64',
  ]) {
    const cpu = results.rows.find((r) => r.id === id)?.summary['cpuUsPerMsg']?.median;
    expect({ id, cpu: cpu !== undefined && cpu > 0 }).toEqual({ id, cpu: true });
  }
  const e2e = results.rows.find((r) => r.id === 'e2e');
  expect(e2e?.summary['p50Ms']?.median).toEqual(expect.any(Number));
  expect(e2e?.summary['measured']?.median).toBeGreaterThan(0);
  // The Kafka leg alone, at the same rate: every message it sent was measured once.
  const rawE2e = results.rows.find((r) => r.id === 'raw-e2e');
  expect(rawE2e?.summary['p99Ms']?.median).toEqual(expect.any(Number));
  expect(rawE2e?.summary['measured']?.median).toBeGreaterThan(0);
  expect(rawE2e?.summary['duplicates']?.median).toBe(0);
});

test('ratios name what they compare and are computed where both sides ran', () => {
  const ratio = (id: string, over: string) =>
    results.rows.find((r) => r.id === id)?.ratios.find((x) => x.over === over);
  expect(ratio('api-100x32', 'raw-producer')?.spread?.median).toEqual(expect.any(Number));
  expect(ratio('raw-producer', 'kafka-producer-perf')?.spread?.median).toEqual(expect.any(Number));
  expect(ratio('consumer', 'raw-consumer')?.spread?.median).toEqual(expect.any(Number));
  expect(ratio('consumer', 'raw-consumer-json')?.spread?.median).toEqual(expect.any(Number));
  expect(ratio('e2e', 'raw-e2e')?.spread?.median).toEqual(expect.any(Number));
  expect(ratio('api-100x32', 'bridge-100x32')?.label).toBe('ours ÷ Bridge');
  // CPU per message against the same round's reference (issue 17's targets are such ratios).
  const cpuRatio = (id: string, over: string) =>
    results.rows
      .find((r) => r.id === id)
      ?.ratios.find((x) => x.over === over && x.field === 'cpuUsPerMsg')?.spread?.median;
  for (const [id, over] of [
    ['api-100x32', 'raw-producer'],
    ['consumer', 'raw-consumer-json'],
    ['api-1x64', 'http-floor-1x64'],
    ['api-1x64', 'express-floor-1x64'],
    ['express-floor-1x64', 'http-floor-1x64'],
    ['express-lean-floor-1x64', 'express-floor-1x64'],
    ['api-1x64', 'express-lean-floor-1x64'],
    ['platformatic-producer', 'raw-producer'],
    ['platformatic-consumer', 'raw-consumer'],
    ['platformatic-consumer-json', 'raw-consumer-json'],
  ] as const) {
    expect({ id, over, ratio: cpuRatio(id, over) }).toEqual({
      id,
      over,
      ratio: expect.any(Number),
    });
  }
  expect(results.targets.filter((t) => t.issue === 7)).toHaveLength(6);
  expect(results.targets.filter((t) => t.issue === 17)).toHaveLength(6);
  // Only the Bridge's targets may lack a measurement: every other one is judged.
  for (const target of results.targets.filter((t) => t.issue === 17)) {
    const judged = target.status === 'met' || target.status === 'missed';
    expect({ target: target.target, judged: judged || /Bridge/.test(target.target) }).toEqual({
      target: target.target,
      judged: true,
    });
  }
});

test('the Markdown table has a line per scenario, and no process was left running', () => {
  const markdown = readFileSync(join(outDir, 'results.md'), 'utf8');
  for (const { ref } of results.rows) expect(markdown).toContain(`| ${ref} |`);
  expect(results.rows.map((row) => row.ref)).toEqual(
    expect.arrayContaining([
      '1a',
      '2a',
      '2d',
      '2e',
      '2f',
      '3a',
      '3b',
      '3c',
      '3d',
      '4a',
      '4b',
      '5',
      '6',
      '6b',
      '7a',
      '8a',
      '9a',
      '10a',
    ]),
  );
  expect(markdown).toContain('## Targets (issue 17)');
  expect(markdown).toContain('## Targets (issue 7)');
  expect(output).not.toContain('still running after');
});

test('each sweep has its charts next to results.md, linked from it, with a line drawn', () => {
  const markdown = readFileSync(join(outDir, 'results.md'), 'utf8');
  expect(markdown).toContain('## How cost grows');
  for (const chart of CHARTS) {
    const svg = readFileSync(join(outDir, chart), 'utf8');
    const svgDocument =
      svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"') && svg.trimEnd().endsWith('</svg>');
    expect({ chart, svgDocument }).toEqual({ chart, svgDocument: true });
    expect({ chart, lines: (svg.match(/<polyline/g) ?? []).length > 0 }).toEqual({
      chart,
      lines: true,
    });
    expect(markdown).toContain(`](${chart})`);
  }
});
