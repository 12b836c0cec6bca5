/**
 * kube-score (a policy tool for Kubernetes objects) on the chart rendered with the default
 * values and each ci/ file. Every check kube-score knows runs, its optional ones included,
 * except those named with a reason in kube-score-ignored.yaml.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { renderText, parseObjects, valueSets } from './support/render';
import { pinned, run, runOk } from './support/tools';

interface Ignored {
  check: string;
  why: string;
  onlyWhenAbsent?: string;
}

const ignored = parse(
  readFileSync(join(__dirname, 'kube-score-ignored.yaml'), 'utf8'),
) as Ignored[];

function knownChecks(): Array<{ id: string; optional: boolean }> {
  return runOk('kube-score', ['list'])
    .split('\n')
    .filter((line) => line.includes(','))
    .map((line) => {
      const fields = line.split(',');
      return { id: fields[0]!, optional: fields[fields.length - 1] === 'optional' };
    });
}

const work = mkdtempSync(join(tmpdir(), 'kube-score-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

test('kube-score is the pinned version', () => {
  expect(runOk('kube-score', ['version'])).toContain(pinned('KUBE_SCORE_VERSION'));
});

test('every turned-off check exists and says why', () => {
  const ids = new Set(knownChecks().map((check) => check.id));
  expect(ignored.length).toBeGreaterThan(0);
  for (const entry of ignored) {
    expect({ check: entry.check, known: ids.has(entry.check) }).toEqual({
      check: entry.check,
      known: true,
    });
    expect(entry.why.length).toBeGreaterThan(40);
  }
});

describe.each(valueSets())(
  'kube-score on the chart rendered with $name',
  ({ name, valuesFiles }) => {
    test('no warning or critical finding', () => {
      const text = renderText({ valuesFiles });
      const kinds = new Set(parseObjects(text).map((object) => object.kind));
      const off = new Set(
        ignored
          .filter((entry) => entry.onlyWhenAbsent === undefined || !kinds.has(entry.onlyWhenAbsent))
          .map((entry) => entry.check),
      );
      const args = [
        'score',
        '--output-format',
        'ci',
        '--kubernetes-version',
        `v${pinned('KUBERNETES_VERSION').split('.').slice(0, 2).join('.')}`,
      ];
      for (const check of knownChecks()) {
        if (check.optional && !off.has(check.id)) args.push('--enable-optional-test', check.id);
        if (!check.optional && off.has(check.id)) args.push('--ignore-test', check.id);
      }
      const file = join(work, `${name.replace(/[^a-z0-9]+/gi, '-')}.yaml`);
      writeFileSync(file, text);
      const result = run('kube-score', [...args, file]);
      const findings = result.stdout
        .split('\n')
        .filter((line) => /^\[(WARNING|CRITICAL)\]/.test(line));
      expect(findings).toEqual([]);
      expect(result.stdout).toMatch(/^\[OK\]/m);
      expect(result.status).toBe(0);
    });
  },
);
