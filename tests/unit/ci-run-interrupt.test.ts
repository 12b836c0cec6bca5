/**
 * `.ci/run` stops when it is told to: a SIGTERM during a step ends the run with 130 after
 * that step, instead of going on to the next ones. A stand-in `npm` (first in PATH) takes
 * the place of the step; it fails, so without the trap the run would end with 1 instead.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const repo = path.resolve(__dirname, '../..');

test('SIGTERM during a step ends .ci/run with 130 once the step has ended', async () => {
  const bin = mkdtempSync(path.join(tmpdir(), 'ci-run-'));
  try {
    writeFileSync(path.join(bin, 'npm'), '#!/bin/sh\necho "npm $*"\nsleep 2\nexit 1\n');
    chmodSync(path.join(bin, 'npm'), 0o755);
    const run = spawn('bash', [path.join(repo, '.ci/run')], {
      env: { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    run.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    run.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // Signal once the step is running.
    await new Promise<void>((resolve) => {
      const check = () => (output.includes('npm ci') ? resolve() : setTimeout(check, 20));
      check();
    });
    run.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => run.on('exit', resolve));
    expect({ code, output }).toEqual({ code: 130, output: expect.stringContaining('interrupted') });
    expect(output).not.toContain('passed');
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
});
