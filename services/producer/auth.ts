/**
 * Optional API keys: `Authorization: Bearer <key>`. Keys come from API_KEYS and from
 * API_KEYS_FILE (one per line). Only SHA-256 digests are kept, and a presented key is
 * compared with every one of them in constant time, so neither timing nor a heap dump
 * gives a key away. Keys are never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../common/config';

const TOKEN = /^[\x21-\x7e]+$/;

function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

export class ApiKeys {
  private readonly digests: Buffer[];

  constructor(keys: string[]) {
    this.digests = [...new Set(keys)].map(digest);
  }

  get size(): number {
    return this.digests.length;
  }

  /** True when `authorization` is `Bearer <one of the keys>`. */
  verify(authorization: string | undefined): boolean {
    if (authorization === undefined) return false;
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    if (!match?.[1]) return false;
    const presented = digest(match[1]);
    let found = false;
    // No early exit: the time taken does not depend on which key matched.
    for (const candidate of this.digests) {
      if (timingSafeEqual(presented, candidate)) found = true;
    }
    return found;
  }
}

/** Reads a keys file: one key per line; blank lines and lines starting with # are skipped. */
export function parseKeysFile(content: string): string[] {
  const keys: string[] = [];
  const problems: string[] = [];
  content.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    // The key itself must not appear in the message.
    if (!TOKEN.test(line)) problems.push(`API_KEYS_FILE line ${index + 1} is not a valid key`);
    else keys.push(line);
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return keys;
}

/**
 * The configured keys, or undefined when none are configured (no authentication).
 * A file that is set but unreadable or empty stops the start-up: silently running
 * without authentication would be worse.
 */
export function loadApiKeys(config: {
  API_KEYS?: string[] | undefined;
  API_KEYS_FILE?: string | undefined;
}): ApiKeys | undefined {
  const keys = [...(config.API_KEYS ?? [])];
  if (keys.some((key) => !TOKEN.test(key))) {
    throw new ConfigError(['API_KEYS holds a key with characters a Bearer token cannot carry']);
  }
  const file = config.API_KEYS_FILE;
  if (file !== undefined) {
    let content: string;
    try {
      content = readFileSync(file, 'utf8');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new ConfigError([`API_KEYS_FILE ${file} cannot be read (${reason})`]);
    }
    const fromFile = parseKeysFile(content);
    if (fromFile.length === 0) throw new ConfigError([`API_KEYS_FILE ${file} holds no keys`]);
    keys.push(...fromFile);
  }
  return keys.length > 0 ? new ApiKeys(keys) : undefined;
}
