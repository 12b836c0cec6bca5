import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';

/**
 * A separate Node process (its own process group) that stops the tracked processes when its
 * stdin closes without a "release", that is when the owner died without cleaning up (SIGKILL,
 * an unhandled SIGINT). It SIGTERMs them, SIGKILLs what is left after 10 s, then removes
 * the folder it was given, if any. Used by the Kafka harness and the benchmark.
 */
const WATCHDOG_SOURCE = `
const fs = require('node:fs');
const pids = new Set();
let dir;
let buffer = '';
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const signal = (pid, sig) => { try { process.kill(pid, sig); } catch {} };
function cleanup() {
  for (const pid of pids) signal(pid, 'SIGTERM');
  const deadline = Date.now() + 10000;
  const timer = setInterval(() => {
    const left = [...pids].filter(alive);
    if (left.length > 0 && Date.now() < deadline) return;
    for (const pid of left) signal(pid, 'SIGKILL');
    clearInterval(timer);
    setTimeout(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); process.exit(0); }, left.length ? 500 : 0);
  }, 200);
}
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffer += chunk;
  for (let at = buffer.indexOf('\\n'); at >= 0; at = buffer.indexOf('\\n')) {
    const line = buffer.slice(0, at);
    buffer = buffer.slice(at + 1);
    const space = line.indexOf(' ');
    const command = space < 0 ? line : line.slice(0, space);
    const arg = space < 0 ? '' : line.slice(space + 1);
    if (command === 'track') pids.add(Number(arg));
    else if (command === 'untrack') pids.delete(Number(arg));
    else if (command === 'dir') dir = arg;
    else if (command === 'release') process.exit(0);
  }
});
process.stdin.on('end', cleanup);
process.stdin.on('error', cleanup);
`;

export class Watchdog {
  private readonly child: ChildProcess;

  constructor(dirToRemove?: string) {
    this.child = spawn(process.execPath, ['-e', WATCHDOG_SOURCE], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    this.child.unref();
    // The pipe must not keep the owner's event loop alive either.
    (this.child.stdin as unknown as Socket | null)?.unref();
    this.child.stdin?.on('error', () => undefined);
    if (dirToRemove !== undefined) this.send(`dir ${dirToRemove}`);
  }

  track(pid: number): void {
    this.send(`track ${pid}`);
  }

  untrack(pid: number): void {
    this.send(`untrack ${pid}`);
  }

  release(): void {
    this.send('release');
    this.child.stdin?.end();
  }

  private send(line: string): void {
    if (this.child.stdin?.writable) this.child.stdin.write(`${line}\n`);
  }
}
