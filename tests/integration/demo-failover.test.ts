/**
 * `npm run demo:failover -- --short` runs to its end: the leader of events-0 is killed, a
 * follower takes over, the broker comes back into the ISR and gets leadership back, and the
 * ledger says nothing acknowledged was lost.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parsePrintedLedger } from '../../scripts/demo/ledger';

jest.setTimeout(300_000);

const ROOT = join(__dirname, '..', '..');

interface DemoRun {
  exit: number | string;
  output: string;
}

/** Runs the built demo in its short form, on free ports, to its end. */
function runShortDemo(timeoutMs: number): Promise<DemoRun> {
  const script = join(ROOT, 'dist', 'scripts', 'demo', 'failover.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, '--short'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // SIGINT is the demo's Ctrl-C: it stops its services and Kafka before it exits.
    const timer = setTimeout(() => child.kill('SIGINT'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ exit: code ?? signal ?? 'unknown', output });
    });
  });
}

let run: DemoRun;

beforeAll(async () => {
  run = await runShortDemo(280_000);
}, 300_000);

test('it ends with exit 0 and a ledger with zero lost', () => {
  const ledger = parsePrintedLedger(run.output);
  expect({ exit: run.exit, ledger: ledger ?? run.output }).toEqual({
    exit: 0,
    ledger: expect.objectContaining({ lost: 0 }),
  });
  expect(ledger?.acknowledged).toBeGreaterThan(0);
  expect(ledger?.foundInKafka).toBe(ledger?.acknowledged);
  expect(ledger?.processed).toBe(ledger?.acknowledged);
  expect(run.output).toMatch(/^Nothing acknowledged was lost\.$/m);
  expect(run.output).toMatch(/^Stopped the services and Kafka\.$/m);
});

test('it tells the failover: a follower takes over, the broker returns in sync and leads again', () => {
  const killed = /^\[ *[\d.]+s\] broker (\d) killed with SIGKILL/m.exec(run.output)?.[1];
  expect(killed).toBeDefined();
  const takeover = /^\[ *[\d.]+s\] broker (\d), a follower until now, leads events-0 /m.exec(
    run.output,
  )?.[1];
  expect(takeover).toBeDefined();
  expect(takeover).not.toBe(killed);
  expect(run.output).toMatch(
    new RegExp(`^\\[ *[\\d.]+s\\] broker ${killed} is back in sync `, 'm'),
  );
  expect(run.output).toContain(
    'Successfully completed leader election (PREFERRED) for partitions events-0',
  );
  expect(run.output).toMatch(
    new RegExp(
      `events-0: leader ${killed}, replicas [\\d,]+, in sync [\\d,]{5}: as before the kill`,
    ),
  );
});
