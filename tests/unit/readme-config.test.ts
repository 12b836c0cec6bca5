import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { replaceTables } from '../../scripts/docs/config-tables';

describe('README', () => {
  it('lists every configuration variable with its current default (run `npm run docs` to fix)', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    expect(readme).toBe(replaceTables(readme));
  });
});
