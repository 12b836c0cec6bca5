/** scripts/ci/summarize-jest.js: the one line CI ends with, summed over jest reports. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = join(__dirname, '..', '..', 'scripts', 'ci', 'summarize-jest.js');
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'summarize-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function report(name: string, content: Record<string, unknown>): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(content));
  return file;
}

function summarize(files: string[]): { status: number | null; line: string; stderr: string } {
  const result = spawnSync(process.execPath, [SCRIPT, ...files], { encoding: 'utf8' });
  return { status: result.status, line: result.stdout.trim(), stderr: result.stderr };
}

const passing = { numPassedTests: 5, numFailedTests: 0, success: true };

test('sums every report and succeeds when all passed', () => {
  const files = [report('a.json', passing), report('b.json', { ...passing, numPassedTests: 7 })];
  expect(summarize(files)).toMatchObject({ status: 0, line: '12 passed, 0 failed' });
});

test('a missing report (a stage that did not run its tests) is one failed test', () => {
  const result = summarize([report('a.json', passing), join(dir, 'missing.json')]);
  expect(result).toMatchObject({ status: 1, line: '5 passed, 1 failed' });
  expect(result.stderr).toMatch(/did not run its tests/);
});

test('failed tests and suites that failed to run count as failed', () => {
  const failing = {
    numPassedTests: 3,
    numFailedTests: 2,
    numRuntimeErrorTestSuites: 1,
    success: false,
  };
  expect(summarize([report('a.json', passing), report('b.json', failing)])).toMatchObject({
    status: 1,
    line: '8 passed, 3 failed',
  });
});

test('a report in which no test ran fails, and says so', () => {
  const result = summarize([
    report('a.json', { numPassedTests: 0, numFailedTests: 0, success: true }),
  ]);
  expect(result).toMatchObject({ status: 1, line: '0 passed, 0 failed' });
  expect(result.stderr).toMatch(/no test passed/);
});
