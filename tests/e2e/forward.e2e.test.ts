/**
 * `make forward` (scripts/kind/forward.sh) against the deployment, used as the README and
 * docs/concepts.md use it: the producer API on 127.0.0.1:8080, both management ports, and
 * Kafka's own tools (`npm run kafka --`) through the per-broker forwards, which work only if
 * every broker is forwarded to the port it advertises. Then Ctrl-C stops every forward.
 *
 * The suite runs its own forward.sh: a `make forward` already running must be stopped first.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { poll } from '../../scripts/lib/poll';
import { progress } from './support/progress';
import { TOPIC } from './settings';
import { isPortOpen } from '../../scripts/lib/ports';
import { repoRoot } from '../../scripts/lib/root';

const ROOT = repoRoot();
const KAFKA_TOOL = join(ROOT, 'dist', 'scripts', 'kafka', 'tool.js');
const API = 8080;
const MANAGEMENT = [8081, 8082];
const HOST_BROKERS = [19092, 19093, 19094];

let forward: ChildProcess | undefined;
let forwardOutput = '';

const allPorts = [API, ...MANAGEMENT, ...HOST_BROKERS];

async function openPorts(): Promise<number[]> {
  const open = await Promise.all(allPorts.map((port) => isPortOpen(port, { silentIsOpen: false })));
  return allPorts.filter((_, i) => open[i]);
}

function kafkaTool(args: string[]): string {
  if (!existsSync(KAFKA_TOOL)) throw new Error(`${KAFKA_TOOL} is missing: run npm run build`);
  const result = spawnSync(process.execPath, [KAFKA_TOOL, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, KAFKA_BROKERS: `127.0.0.1:${HOST_BROKERS[0]}` },
    timeout: 120_000,
  });
  if (result.status !== 0) {
    throw new Error(`npm run kafka -- ${args.join(' ')} exited ${result.status}\n${result.stderr}`);
  }
  return result.stdout;
}

beforeAll(async () => {
  const taken = await openPorts();
  if (taken.length > 0) {
    throw new Error(
      `127.0.0.1 ports ${taken.join(', ')} are in use (a \`make forward\` running?): stop it; this suite runs its own`,
    );
  }
  const child = spawn('bash', [join(ROOT, 'scripts', 'kind', 'forward.sh')], {
    cwd: ROOT,
    env: { ...process.env, FORWARD_POLL_SECONDS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  forward = child;
  child.stdout?.on('data', (chunk: Buffer) => (forwardOutput += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (forwardOutput += chunk.toString()));
  await poll({
    log: progress,
    what: `make forward's ports ${allPorts.join(', ')}`,
    timeoutMs: 120_000,
    intervalMs: 1_000,
    check: async () => {
      if (child.exitCode !== null)
        throw new Error(`forward.sh exited ${child.exitCode}:\n${forwardOutput}`);
      const open = await openPorts();
      return {
        value: open.length === allPorts.length ? true : undefined,
        status: `open: ${open.join(', ') || 'none'}`,
      };
    },
  });
  progress(`make forward: all ports forwarded (pid ${child.pid})`);
}, 180_000);

afterAll(async () => {
  if (forward?.pid !== undefined && forward.exitCode === null)
    process.kill(-forward.pid, 'SIGKILL');
});

test('the producer API on 127.0.0.1:8080 takes a message; both management ports are ready', async () => {
  const response = await fetch(`http://127.0.0.1:${API}/v1/topics/${TOPIC}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ key: 'forward', value: { through: 'make forward' } }] }),
  });
  const body = (await response.json()) as {
    results?: Array<{ partition: number; offset: string }>;
  };
  expect({ status: response.status, results: body.results?.length }).toEqual({
    status: 200,
    results: 1,
  });
  for (const port of MANAGEMENT) {
    expect({ port, status: (await fetch(`http://127.0.0.1:${port}/readyz`)).status }).toEqual({
      port,
      status: 200,
    });
  }
});

test("Kafka's tools through the broker forwards: every broker, every partition led and in sync", () => {
  const endpoints = kafkaTool(['cluster', 'list-endpoints']);
  // Rows "ID HOST PORT RACK STATE ENDPOINT_TYPE": each broker advertises a forwarded port.
  const advertised = endpoints
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\S+)\s+(\d+)\s+\S+\s+(\S+)\s+broker\b/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((m) => ({ host: m[2], port: Number(m[3]), state: m[4] }));
  expect(advertised).toEqual(
    HOST_BROKERS.map((port) => ({ host: '127.0.0.1', port, state: 'unfenced' })),
  );
  const described = kafkaTool(['topics', '--describe', '--topic', TOPIC]);
  const partitions = described
    .split('\n')
    .filter((line) => /\bPartition: \d+/.test(line))
    .map((line) => ({
      leader: /Leader: (\S+)/.exec(line)?.[1],
      replicas: /Replicas: (\S+)/.exec(line)?.[1]?.split(',').length,
      isr: /Isr: (\S+)/.exec(line)?.[1]?.split(',').length,
    }));
  expect(partitions.length).toBeGreaterThan(0);
  for (const partition of partitions) {
    expect(partition.leader).toMatch(/^[0-2]$/);
    expect(partition.isr).toBe(partition.replicas);
  }
});

test('Ctrl-C stops every forward', async () => {
  const child = forward;
  if (child?.pid === undefined) throw new Error('forward.sh did not start');
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-child.pid, 'SIGINT');
  await exited;
  await poll({
    log: progress,
    what: 'every forwarded port closed',
    timeoutMs: 15_000,
    intervalMs: 500,
    check: async () => {
      const open = await openPorts();
      return {
        value: open.length === 0 ? true : undefined,
        status: open.length === 0 ? 'all closed' : `still open: ${open.join(', ')}`,
      };
    },
  });
});
