/** Runs a built demo (dist/scripts/demo/<name>.js) in its short form, on free ports, to its end. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parsePrintedLedger } from '../../scripts/demo/ledger';
import { repoRoot } from '../../scripts/lib/root';

const ROOT = repoRoot();

export interface DemoRun {
  exit: number | string;
  output: string;
}

export function runShortDemo(name: 'failover' | 'scale', timeoutMs: number): Promise<DemoRun> {
  const script = join(ROOT, 'dist', 'scripts', 'demo', `${name}.js`);
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

/** What every demo run must end with: exit 0 and a printed ledger in which nothing is lost. */
export function expectNothingLost(run: DemoRun): void {
  const ledger = parsePrintedLedger(run.output);
  expect({ exit: run.exit, ledger: ledger ?? run.output }).toEqual({
    exit: 0,
    ledger: expect.objectContaining({ lost: 0 }),
  });
  expect(ledger?.acknowledged).toBeGreaterThan(0);
  expect(ledger?.foundInKafka).toBe(ledger?.acknowledged);
  expect(ledger?.processed).toBe(ledger?.acknowledged);
  expect(run.output).toMatch(/^Nothing acknowledged was lost\.$/m);
}
