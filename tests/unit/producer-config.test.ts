import { ConfigError, loadProducerConfig } from '../../services/common/config';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadProducerConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('producer configuration', () => {
  test('the defaults are consistent', () => {
    const config = loadProducerConfig({});
    expect(config.BUFFER_MAX_BYTES).toBe(64 * 1_048_576);
    expect(config.HTTP_HEADERS_TIMEOUT_MS).toBe(10_000);
    expect(config.PRODUCE_TIMEOUT_MS).toBeLessThan(config.SHUTDOWN_TIMEOUT_MS);
  });

  test.each([
    [
      { HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' },
      /^HTTP_HEADERS_TIMEOUT_MS must be at most HTTP_REQUEST_TIMEOUT_MS/,
    ],
    [
      { BUFFER_MAX_MESSAGES: '10', MAX_MESSAGES_PER_REQUEST: '11' },
      /^BUFFER_MAX_MESSAGES must be at least MAX_MESSAGES_PER_REQUEST/,
    ],
    [
      { BUFFER_MAX_BYTES: '2048', MAX_BODY_BYTES: '4096' },
      /^BUFFER_MAX_BYTES must be at least MAX_BODY_BYTES/,
    ],
    [
      { PRODUCE_TIMEOUT_MS: '20000', SHUTDOWN_TIMEOUT_MS: '20000' },
      /^PRODUCE_TIMEOUT_MS must be below SHUTDOWN_TIMEOUT_MS/,
    ],
    [{ PRODUCER_COMPRESSION: 'zstd' }, /^PRODUCER_COMPRESSION must be one of none, gzip/],
  ])('%j is refused with a message naming the variable', (env, message) => {
    expect(problemsOf(env)).toEqual([expect.stringMatching(message)]);
  });
});
