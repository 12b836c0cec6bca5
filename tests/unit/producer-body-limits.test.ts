/**
 * The producer API's defences found by the hostile-input suite (tests/integration/hostile-http):
 * a declared body above the limit is refused before it is read, and Node checks the request
 * and headers timeouts often enough to enforce them (its default sweep is every 30 s).
 */
import { declaresTooLargeBody } from '../../services/producer/app';
import { connectionsCheckingInterval } from '../../services/producer/server';

describe('declaresTooLargeBody', () => {
  const req = (headers: Record<string, string>) => ({ headers });

  test('an uncompressed body announcing more than the limit', () => {
    expect(declaresTooLargeBody(req({ 'content-length': '1025' }), 1024)).toBe(true);
    expect(declaresTooLargeBody(req({ 'content-length': '1024' }), 1024)).toBe(false);
    expect(
      declaresTooLargeBody(
        req({ 'content-length': '99999', 'content-encoding': 'identity' }),
        1024,
      ),
    ).toBe(true);
  });

  test('no length, a malformed one, or a compressed body: left to the body parser', () => {
    expect(declaresTooLargeBody(req({}), 1024)).toBe(false);
    expect(declaresTooLargeBody(req({ 'content-length': 'eleven' }), 1024)).toBe(false);
    expect(declaresTooLargeBody(req({ 'content-length': '-5' }), 1024)).toBe(false);
    expect(
      declaresTooLargeBody(req({ 'content-length': '99999', 'content-encoding': 'gzip' }), 1024),
    ).toBe(false);
  });
});

describe('connectionsCheckingInterval', () => {
  test('a tenth of the shorter timeout, between 100 ms and 1 s', () => {
    expect(
      connectionsCheckingInterval({ requestTimeoutMs: 30_000, headersTimeoutMs: 10_000 }),
    ).toBe(1000);
    expect(connectionsCheckingInterval({ requestTimeoutMs: 3_000, headersTimeoutMs: 2_000 })).toBe(
      200,
    );
    expect(connectionsCheckingInterval({ requestTimeoutMs: 1_000, headersTimeoutMs: 500 })).toBe(
      100,
    );
  });
});
