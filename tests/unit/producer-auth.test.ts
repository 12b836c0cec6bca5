import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../services/common/config';
import { ApiKeys, loadApiKeys, parseKeysFile } from '../../services/producer/auth';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('no ConfigError');
}

describe('API keys', () => {
  const keys = new ApiKeys(['alpha-key', 'beta-key']);

  test.each([
    ['Bearer alpha-key', true],
    ['bearer beta-key', true],
    ['Bearer   alpha-key  ', true],
    ['Bearer alpha-ke', false],
    ['Bearer alpha-key2', false],
    ['alpha-key', false],
    ['Basic alpha-key', false],
    ['Bearer ', false],
    ['Bearer alpha-key beta-key', false],
    ['', false],
  ])('%j → %s', (header, expected) => {
    expect(keys.verify(header)).toBe(expected);
  });

  test('a missing header is refused', () => {
    expect(keys.verify(undefined)).toBe(false);
  });

  test('no keys configured means no authentication', () => {
    expect(loadApiKeys({})).toBeUndefined();
  });

  test('keys from API_KEYS and API_KEYS_FILE are combined; comments and blank lines skipped', () => {
    const dir = mkdtempSync(join(tmpdir(), 'producer-auth-'));
    const file = join(dir, 'keys');
    writeFileSync(file, '# rotated 2026-11\n\nfile-key-1\r\n  file-key-2  \n');
    const loaded = loadApiKeys({ API_KEYS: ['env-key'], API_KEYS_FILE: file });
    expect(loaded?.size).toBe(3);
    for (const key of ['env-key', 'file-key-1', 'file-key-2']) {
      expect(loaded?.verify(`Bearer ${key}`)).toBe(true);
    }
    expect(loaded?.verify('Bearer # rotated')).toBe(false);
  });

  test('an unreadable or empty keys file stops the start-up instead of disabling auth', () => {
    const dir = mkdtempSync(join(tmpdir(), 'producer-auth-'));
    const empty = join(dir, 'empty');
    writeFileSync(empty, '# nothing\n');
    expect(
      configError(() => loadApiKeys({ API_KEYS_FILE: join(dir, 'missing') })).problems[0],
    ).toMatch(/^API_KEYS_FILE .*missing cannot be read \(ENOENT\)$/);
    expect(configError(() => loadApiKeys({ API_KEYS_FILE: empty })).problems[0]).toMatch(
      /holds no keys/,
    );
  });

  test('an invalid key is reported by line, without the key itself', () => {
    const error = configError(() => parseKeysFile('good\nsecret with space\n'));
    expect(error.problems).toEqual(['API_KEYS_FILE line 2 is not a valid key']);
    expect(error.message).not.toContain('secret');
    const fromEnv = configError(() => loadApiKeys({ API_KEYS: ['tab\tsecret'] }));
    expect(fromEnv.message).not.toContain('secret');
  });
});
