/**
 * `npx jest --selectProjects unit` (what the README suggests) works on a fresh checkout: no unit
 * test reads the build output, dist/, which only `npm test` (its pretest) or `npm run build` makes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

test('no unit test needs dist/', () => {
  const dir = __dirname;
  const readers = readdirSync(dir)
    .filter((name) => name.endsWith('.ts'))
    .filter((name) => /['"`/]dist['"`/]/.test(readFileSync(join(dir, name), 'utf8')))
    .filter((name) => name !== 'no-build-needed.test.ts');
  expect(readers).toEqual([]);
});
