/**
 * docs/concepts.md, the tour of Kafka's concepts, run as written: each `<!-- tour: name -->`
 * marks a shell block (the commands) followed by a text block (what they print). Against a
 * fresh `npm run local -- --brokers 3` (on free ports), every block runs in bash and its
 * output must hold the facts the text promises: leaders, replicas, ISR, brokers, group
 * members, committed offsets, lag. The same checks run on the doc's printed excerpt, so the
 * excerpts cannot drift from what the commands print.
 *
 * The only rewriting: `npm run kafka --` becomes the script behind it (`node dist/scripts/
 * kafka/tool.js`), localhost:8080-8082 become this run's ports, and KAFKA_BROKERS names this
 * run's first broker, as 127.0.0.1:9092 is the reader's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitForStatus } from '../../scripts/lib/services';
import { isPortOpen, freePort } from '../../scripts/lib/ports';
import { repoRoot } from '../../scripts/lib/root';

jest.setTimeout(120_000);

const ROOT = repoRoot();
const DOC = join(ROOT, 'docs', 'concepts.md');

interface TourStep {
  name: string;
  commands: string;
  excerpt: string;
}

/** The tour's steps, in the doc's order. */
function tourSteps(markdown: string): TourStep[] {
  const pattern = /<!-- tour: ([\w-]+) -->\n```sh\n([\s\S]*?)\n```\n\n```text\n([\s\S]*?)\n```/g;
  return [...markdown.matchAll(pattern)].map((m) => ({
    name: m[1] ?? '',
    commands: m[2] ?? '',
    excerpt: m[3] ?? '',
  }));
}

interface Context {
  kafkaPorts: number[];
}

type Check = (output: string, context: Context) => string[];

interface StepSpec {
  check: Check;
  /** Read-only steps are run again until their facts hold (metrics and commits trail). */
  repeatable: boolean;
}

const num = (text: string | undefined) =>
  text === undefined || text === '-' ? undefined : Number(text);

function expectFacts(facts: Array<[boolean, string]>): string[] {
  return facts.filter(([ok]) => !ok).map(([, problem]) => problem);
}

const STEPS: Record<string, StepSpec> = {
  producer: {
    repeatable: false,
    check: (output) => {
      let results: Array<{ partition: number; offset: string }> = [];
      try {
        results = (JSON.parse(output) as { results: typeof results }).results;
      } catch {
        return [`not a produce answer: ${output}`];
      }
      const [first, second, third] = results;
      return expectFacts([
        [results.length === 3, 'three results'],
        [first?.partition === 3 && first.offset === '0', 'order-17 first at partition 3, offset 0'],
        [
          second?.partition === 3 && second.offset === '1',
          'order-17 again right after it: 3, offset 1',
        ],
        [third?.partition === 5 && third.offset === '0', 'order-18 at partition 5, offset 0'],
      ]);
    },
  },
  consumer: {
    repeatable: true,
    check: (output) =>
      expectFacts([
        [
          output.includes('"detail":"member of event-consumer, 6 partitions"'),
          'ready, in the group with 6 partitions',
        ],
        [/result="processed"[^}]*\} 3$/m.test(output), 'processed 3 messages'],
        [/result="dead_lettered"[^}]*\} 0$/m.test(output), 'dead-lettered none'],
      ]),
  },
  topic: {
    repeatable: true,
    check: (output) => {
      const names = output.split('\n').map((line) => line.trim());
      return expectFacts(
        ['events', 'events-dlq', '__consumer_offsets'].map((name) => [
          names.includes(name),
          `topic ${name} listed`,
        ]),
      );
    },
  },
  broker: {
    repeatable: true,
    check: (output, { kafkaPorts }) => {
      const rows = [
        ...output.matchAll(/^(\d+)\s+127\.0\.0\.1\s+(\d+)\s+\S+\s+(\w+)\s+broker\s*$/gm),
      ];
      return expectFacts([
        [rows.map((r) => r[1]).join(',') === '1,2,3', 'brokers 1, 2 and 3'],
        [
          rows.map((r) => Number(r[2])).join(',') === kafkaPorts.join(','),
          `on ports ${kafkaPorts.join(', ')}`,
        ],
        [rows.every((r) => r[3] === 'unfenced'), 'all unfenced'],
      ]);
    },
  },
  partition: {
    repeatable: true,
    check: (output) => {
      const ends = new Map(
        [...output.matchAll(/^events:(\d+):(\d+)$/gm)].map((m) => [Number(m[1]), Number(m[2])]),
      );
      return expectFacts([
        [ends.size === 6, 'six partitions'],
        [ends.get(3) === 2 && ends.get(5) === 1, 'partition 3 ends at 2, partition 5 at 1'],
        [[0, 1, 2, 4].every((p) => ends.get(p) === 0), 'the others are empty'],
      ]);
    },
  },
  offset: {
    repeatable: true,
    check: (output) =>
      expectFacts([
        [
          output.includes('Partition:3\tOffset:0\torder-17\t{"type": "created", "amount": 42}'),
          'offset 0: order-17 created',
        ],
        [
          output.includes('Partition:3\tOffset:1\torder-17\t{"type": "paid"}'),
          'offset 1: order-17 paid',
        ],
      ]),
  },
  replication: {
    repeatable: true,
    check: (output) => {
      const rows = [
        ...output.matchAll(/Partition: (\d+)\tLeader: (\d+)\tReplicas: ([\d,]+)\tIsr: ([\d,]+)/g),
      ].map((m) => ({
        leader: Number(m[2]),
        replicas: (m[3] ?? '').split(',').map(Number),
        isr: (m[4] ?? '').split(',').map(Number),
      }));
      const sorted = (list: number[]) => [...list].sort().join(',');
      return expectFacts([
        [
          /PartitionCount: 6\tReplicationFactor: 3\tConfigs: min\.insync\.replicas=2/.test(output),
          '6 partitions, 3 replicas, min ISR 2',
        ],
        [rows.length === 6, 'six partition lines'],
        [
          rows.every((r) => sorted(r.replicas) === '1,2,3'),
          'every partition on brokers 1, 2 and 3',
        ],
        [rows.every((r) => sorted(r.isr) === sorted(r.replicas)), 'every replica in sync'],
        [
          rows.every((r) => r.leader === r.replicas[0]),
          'every leader is the preferred (first) replica',
        ],
      ]);
    },
  },
  leader: {
    repeatable: true,
    check: (output) => {
      const counts = [...output.matchAll(/^\s*(\d+) Leader: (\d+)$/gm)].map(
        (m) => `${m[2]}:${m[1]}`,
      );
      return expectFacts([
        [
          counts.join(' ') === '1:2 2:2 3:2',
          `each broker leads 2 partitions (${counts.join(' ')})`,
        ],
      ]);
    },
  },
  group: {
    repeatable: true,
    check: (output) =>
      expectFacts([
        [
          /^event-consumer\s+127\.0\.0\.1:\d+\s+\(\d\)\s+\S+\s+Stable\s+1\s*$/m.test(output),
          'group Stable with 1 member',
        ],
        [
          /^event-consumer\s+\S+\s+\S+\s+\S+\s+6\s+\S+\s+events:0,1,2,3,4,5\s/m.test(output),
          'one member owns partitions 0-5',
        ],
      ]),
  },
  lag: {
    repeatable: true,
    check: (output) => {
      const rows = new Map(
        [...output.matchAll(/^event-consumer\s+events\s+(\d)\s+(\S+)\s+(\d+)\s+(\S+)\s/gm)].map(
          (m) => [Number(m[1]), { committed: num(m[2]), end: Number(m[3]), lag: num(m[4]) }],
        ),
      );
      const metrics = [
        ...output.matchAll(/^event_pipeline_consumer_lag_messages\{[^}]*\} (\S+)$/gm),
      ];
      const row = (p: number) => rows.get(p);
      return expectFacts([
        [rows.size === 6, 'a row per partition'],
        [
          row(3)?.committed === 2 && row(3)?.end === 2 && row(3)?.lag === 0,
          'partition 3 committed 2 of 2, lag 0',
        ],
        [
          row(5)?.committed === 1 && row(5)?.end === 1 && row(5)?.lag === 0,
          'partition 5 committed 1 of 1, lag 0',
        ],
        [
          [0, 1, 2, 4].every((p) => row(p)?.committed === undefined && row(p)?.end === 0),
          'empty partitions: nothing committed',
        ],
        [
          metrics.length === 6 && metrics.every((m) => m[1] === '0'),
          'the lag metric is 0 for all 6 partitions',
        ],
      ]);
    },
  },
  'lag-other-group': {
    repeatable: true,
    check: (output) => {
      const rows = new Map(
        [...output.matchAll(/^tour-reader\s+events\s+(\d)\s+(\d+)\s+(\d+)\s+(\d+)\s/gm)].map(
          (m) => [Number(m[1]), `${m[2]} ${m[3]} ${m[4]}`],
        ),
      );
      return expectFacts([
        [/^tour-reader\s+events\s+\d\s+0\s*$/m.test(output), 'offsets reset to 0'],
        [rows.size === 6, 'a row per partition'],
        [
          rows.get(3) === '0 2 2' && rows.get(5) === '0 1 1',
          'lag 2 in partition 3, 1 in partition 5',
        ],
        [[0, 1, 2, 4].every((p) => rows.get(p) === '0 0 0'), 'no lag in the empty partitions'],
      ]);
    },
  },
};

async function consecutiveFreePorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const first = await freePort();
    if (first + count > 65_535) continue;
    const rest = await Promise.all(
      Array.from({ length: count - 1 }, (_, i) => isPortOpen(first + 1 + i)),
    );
    if (rest.every((open) => !open)) return first;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

function runCommands(commands: string, kafkaPort: number, apiPort: number): Promise<string> {
  const script = commands
    .replace(/npm run (-s )?kafka --/g, `node ${join(ROOT, 'dist', 'scripts', 'kafka', 'tool.js')}`)
    .replace(
      /localhost:(808[0-2])/g,
      (_, port: string) => `localhost:${apiPort + Number(port) - 8080}`,
    );
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', script], {
      env: { ...process.env, KAFKA_BROKERS: `127.0.0.1:${kafkaPort}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`exit ${code} of:\n${script}\n${output}`)),
    );
  });
}

const steps = tourSteps(readFileSync(DOC, 'utf8'));
let local: ChildProcess | undefined;
/** What `npm run local` itself says (its `[local]` lines, stderr), kept whole for a failure. */
let localLines = '';
/** The services' logs (stdout); only the end is shown on a failure. */
let serviceLogs = '';
let kafkaPort = 0;
let apiPort = 0;

/** The last line `npm run local` prints once Kafka and both services are started. */
const LOCAL_STARTED = '[local] Ctrl-C stops everything';
// Three brokers on a loaded two-core machine: the harness's own start deadline is 120 s.
const LOCAL_START_MS = 150_000;

/** Resolves when local announces it started everything; rejects at once if it exits first. */
function localStarted(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`it did not say "${LOCAL_STARTED}" in ${LOCAL_START_MS} ms`)),
      LOCAL_START_MS,
    );
    const onExit = (code: number | null, signal: string | null) => {
      clearTimeout(timer);
      reject(new Error(`it exited (${signal ?? `exit code ${code}`}) before starting everything`));
    };
    child.once('exit', onExit);
    child.stderr?.on('data', () => {
      if (!localLines.includes(LOCAL_STARTED)) return;
      clearTimeout(timer);
      child.removeListener('exit', onExit);
      resolve();
    });
  });
}

beforeAll(async () => {
  kafkaPort = await consecutiveFreePorts(3);
  apiPort = await consecutiveFreePorts(3);
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'dist', 'scripts', 'local.js'),
      '--brokers',
      '3',
      '--port',
      String(kafkaPort),
      '--api-port',
      String(apiPort),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  local = child;
  child.stdout?.on('data', (chunk: Buffer) => (serviceLogs += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (localLines += chunk.toString()));
  try {
    // Polled only once local has bound them: until then another test may hold these ports.
    await localStarted(child);
    await waitForStatus(`http://127.0.0.1:${apiPort + 1}/readyz`, 200, { timeoutMs: 60_000 });
    await waitForStatus(`http://127.0.0.1:${apiPort + 2}/readyz`, 200, { timeoutMs: 60_000 });
  } catch (error) {
    throw new Error(
      `npm run local -- --brokers 3 did not come up: ${String(error)}\n` +
        `what it said:\n${localLines}\nthe services' last log lines:\n${serviceLogs.slice(-3000)}`,
    );
  }
}, LOCAL_START_MS + 130_000);

afterAll(async () => {
  const child = local;
  if (child?.pid === undefined || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-child.pid, 'SIGINT'); // as Ctrl-C in its terminal
  const timer = setTimeout(
    () => child.pid !== undefined && process.kill(-child.pid, 'SIGKILL'),
    60_000,
  );
  await exited;
  clearTimeout(timer);
}, 90_000);

test('the doc has one tour step per concept, in the order of the text', () => {
  expect(steps.map((s) => s.name)).toEqual(Object.keys(STEPS));
});

describe.each(steps.map((s) => [s.name, s] as const))('tour step "%s"', (name, step) => {
  const spec = STEPS[name];

  test('the excerpt printed in the doc shows the promised facts', () => {
    expect(spec?.check(step.excerpt, { kafkaPorts: [9092, 9093, 9094] })).toEqual([]);
  });

  test('its commands, run as written, print the promised facts', async () => {
    if (spec === undefined) throw new Error(`no checks for tour step ${name}`);
    const context = { kafkaPorts: [kafkaPort, kafkaPort + 1, kafkaPort + 2] };
    const deadline = Date.now() + (spec.repeatable ? 30_000 : 0);
    for (;;) {
      const output = await runCommands(step.commands, kafkaPort, apiPort);
      const problems = spec.check(output, context);
      if (problems.length === 0 || Date.now() > deadline) {
        expect({ problems, output }).toEqual({ problems: [], output });
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  });
});
