/**
 * The repository root, found the same way from the TypeScript source (ts-jest) and from its
 * compiled copy under dist/: the first folder above that holds scripts/kafka/pom.xml, a file
 * the build does not copy.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function repoRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'scripts', 'kafka', 'pom.xml'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no scripts/kafka/pom.xml above ${from}`);
  }
}
