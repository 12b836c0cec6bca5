/**
 * The dev tools import the dev library (scripts/lib), never the tests: nothing under scripts/
 * or bench/ may import a module under tests/. Scans the import specifiers of every source file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { repoRoot } from '../../scripts/lib/root';

const ROOT = repoRoot();
const SCANNED = ['scripts', 'bench'];
const SOURCE = /\.(ts|js|mjs|cjs)$/;

/** Every module specifier of `source`: import/export … from, bare import, import(), require(). */
export function specifiersOf(source: string): string[] {
  const patterns = [
    /\b(?:import|export)\s[^'"`;]*?\sfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...source.matchAll(pattern)].map((m) => m[1] ?? ''));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path);
    return SOURCE.test(entry.name) ? [path] : [];
  });
}

/** "file: specifier" for each import of a file under scripts/ or bench/ that lands in tests/. */
function importsOfTests(): string[] {
  const tests = join(ROOT, 'tests') + sep;
  return SCANNED.flatMap((top) => sourceFiles(join(ROOT, top))).flatMap((file) =>
    specifiersOf(readFileSync(file, 'utf8'))
      .filter((specifier) => specifier.startsWith('.'))
      .filter((specifier) => resolve(dirname(file), specifier).startsWith(tests))
      .map((specifier) => `${relative(ROOT, file)}: ${specifier}`),
  );
}

describe('the dev library and the tools that use it', () => {
  it('finds the specifiers of every kind of import', () => {
    const source = [
      "import { a,\n  b } from '../x';",
      "import type { C } from './c';",
      "export { d } from '../../tests/d';",
      "import './side-effect';",
      "const e = await import('../e');",
      "const f = require('./f');",
      "const text = 'not an import from here';",
    ].join('\n');
    expect(specifiersOf(source).sort()).toEqual(
      ['../x', './c', '../../tests/d', './side-effect', '../e', './f'].sort(),
    );
  });

  it('scans the files it should (a tree that lost them would pass vacuously)', () => {
    const files = SCANNED.flatMap((top) => sourceFiles(join(ROOT, top))).map((f) =>
      relative(ROOT, f),
    );
    expect(files).toEqual(
      expect.arrayContaining([
        join('scripts', 'lib', 'ledger.ts'),
        join('scripts', 'soak.ts'),
        join('bench', 'run.ts'),
      ]),
    );
  });

  it('nothing under scripts/ (the dev library included) or bench/ imports from tests/', () => {
    expect(importsOfTests()).toEqual([]);
  });
});
