/**
 * The watchdog of scripts/watchdog.ts, with a real owner process: when the owner is
 * SIGKILLed the tracked processes are stopped and the given folder removed; after a
 * release they are left alone. Real processes running the built module (dist/, which
 * `npm test` builds first): an integration test, so that the unit project needs no build.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { waitUntil } from '../../scripts/lib/poll';

const WATCHDOG = resolve(__dirname, '..', '..', 'dist', 'scripts', 'watchdog.js');

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** An owner that starts a long sleep, has the watchdog track it, and prints the sleep's pid. */
function startOwner(dir: string, release: boolean): Promise<{ owner: ChildProcess; pid: number }> {
  const source = `
    const { spawn } = require('node:child_process');
    const { Watchdog } = require(${JSON.stringify(WATCHDOG)});
    const watchdog = new Watchdog(${JSON.stringify(dir)});
    const sleeper = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
    sleeper.unref();
    watchdog.track(sleeper.pid);
    if (${release}) watchdog.release();
    process.stdout.write(sleeper.pid + '\\n');
    setInterval(() => undefined, 1000);
  `;
  const owner = spawn(process.execPath, ['-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((done, fail) => {
    owner.stdout?.once('data', (chunk: Buffer) => done({ owner, pid: Number(String(chunk)) }));
    owner.once('error', fail);
  });
}

const leftovers: number[] = [];
afterAll(() => {
  for (const pid of leftovers) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

test('stops what it tracks and removes the folder when its owner is SIGKILLed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'watchdog-test-'));
  const { owner, pid } = await startOwner(dir, false);
  leftovers.push(pid);
  expect(alive(pid)).toBe(true);
  owner.kill('SIGKILL');
  await waitUntil('the tracked process to stop', () => !alive(pid), {
    timeoutMs: 15_000,
    intervalMs: 50,
  });
  await waitUntil('the folder to be removed', () => !existsSync(dir), {
    timeoutMs: 15_000,
    intervalMs: 50,
  });
});

test('leaves everything alone after a release', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'watchdog-test-'));
  const { owner, pid } = await startOwner(dir, true);
  leftovers.push(pid);
  // Let the release reach the watchdog before the owner dies.
  await new Promise((done) => setTimeout(done, 300));
  owner.kill('SIGKILL');
  await new Promise((done) => setTimeout(done, 1500));
  expect(alive(pid)).toBe(true);
  expect(existsSync(dir)).toBe(true);
  rmSync(dir, { recursive: true, force: true });
});
