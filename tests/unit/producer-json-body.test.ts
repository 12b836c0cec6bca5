import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import express from 'express';
import { isApiError } from '../../services/producer/errors';
import { charsetOf, jsonBody, parseJsonBody } from '../../services/producer/json-body';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return isApiError(error) ? error.code : `not an ApiError: ${String(error)}`;
  }
}

describe('charsetOf', () => {
  test.each([
    [undefined, 'utf-8'],
    ['application/json', 'utf-8'],
    ['application/json; charset=UTF-8', 'utf-8'],
    ['application/json;charset="utf-8"', 'utf-8'],
    ['application/json; version=2; Charset = utf-16LE ', 'utf-16le'],
    ['application/json; foo="x;charset=utf-8;"; charset=utf-16le', 'utf-16le'],
    ['application/json; foo="a\\"; charset=utf-16"; charset="utf-8"', 'utf-8'],
    ['application/json; charset=utf8', 'utf8'],
  ])('%j → %s', (contentType, charset) => {
    expect(charsetOf(contentType)).toBe(charset);
  });
});

describe('parseJsonBody', () => {
  const bom = Buffer.from([0xef, 0xbb, 0xbf]);
  const text = (value: string) => Buffer.from(value);

  test('an object or an array, after JSON whitespace and at most one BOM', () => {
    expect(parseJsonBody(text(' \r\n\t{"a":1}'))).toEqual({ a: 1 });
    expect(parseJsonBody(text('[1,2]'))).toEqual([1, 2]);
    expect(parseJsonBody(Buffer.concat([bom, text('{"b":"é"}')]))).toEqual({ b: 'é' });
  });

  test('an empty body (or a BOM alone) reads as {}', () => {
    expect(parseJsonBody(Buffer.alloc(0))).toEqual({});
    expect(parseJsonBody(bom)).toEqual({});
  });

  test('anything else is invalid_json: scalars, whitespace only, two BOMs, broken JSON', () => {
    for (const body of ['1', 'null', '"s"', '   ', '{"a":', '{"a":1} x', '\u00a0{}']) {
      expect({ body, code: codeOf(() => parseJsonBody(text(body))) }).toEqual({
        body,
        code: 'invalid_json',
      });
    }
    expect(codeOf(() => parseJsonBody(Buffer.concat([bom, bom, text('{}')])))).toBe('invalid_json');
  });
});

describe('jsonBody on a real HTTP server', () => {
  const LIMIT = 1024;
  let server: Server;
  let port = 0;
  const seenBytes: string[] = [];

  beforeAll(async () => {
    const app = express();
    const read = jsonBody(LIMIT, (_req, bytes) => {
      seenBytes.push(`checked:${bytes.length}`);
    });
    app.post('/', read, (req, res) => {
      res.json({ body: req.body as unknown });
    });
    app.use(
      (
        error: unknown,
        _req: express.Request,
        res: express.Response,
        _next: express.NextFunction,
      ) => {
        if (res.headersSent) return;
        res.status(isApiError(error) ? error.status : 500).json({
          code: isApiError(error) ? error.code : String(error),
        });
      },
    );
    server = app.listen(0, '127.0.0.1');
    await new Promise((ready) => server.once('listening', ready));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((closed) => server.close(closed));
  });

  /** Sends the chunks one by one (chunked unless a length is given); resolves with the answer. */
  function post(
    chunks: Buffer[],
    headers: Record<string, string>,
    gapMs = 0,
  ): Promise<{ status: number; body: Record<string, unknown>; sentChunks: number }> {
    return new Promise((resolve, reject) => {
      let sentChunks = 0;
      const req = httpRequest(
        { port, host: '127.0.0.1', method: 'POST', path: '/', headers },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (part: string) => (text += part));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: JSON.parse(text) as Record<string, unknown>,
              sentChunks,
            }),
          );
        },
      );
      req.on('error', reject);
      const sendNext = () => {
        const chunk = chunks[sentChunks];
        if (chunk === undefined || req.destroyed) {
          req.end();
          return;
        }
        sentChunks += 1;
        req.write(chunk);
        setTimeout(sendNext, gapMs);
      };
      sendNext();
    });
  }

  test('a body in several chunks is read whole and checked once', async () => {
    seenBytes.length = 0;
    const parts = ['{"messages":[{"val', 'ue":"', 'é"}]}'].map((part) => Buffer.from(part));
    const answer = await post(parts, { 'content-type': 'application/json' }, 20);
    expect(answer).toMatchObject({ status: 200, body: { body: { messages: [{ value: 'é' }] } } });
    expect(seenBytes).toEqual([`checked:${Buffer.concat(parts).length}`]);
  });

  test('a chunked body is refused with 413 as soon as it passes the limit, not at its end', async () => {
    const chunk = Buffer.from(`{"a":"${'x'.repeat(500)}`);
    const answer = await post(
      Array<Buffer>(20).fill(chunk),
      { 'content-type': 'application/json' },
      50,
    );
    expect(answer.status).toBe(413);
    expect(answer.body).toEqual({ code: 'body_too_large' });
    expect(answer.sentChunks).toBeLessThan(20);
  });

  test('a charset other than UTF-8 is refused before the body is read, compressed or not', async () => {
    seenBytes.length = 0;
    const utf16 = Buffer.from('{}', 'utf16le');
    const contentType = 'application/json; charset=utf-16le';
    const plain = await post([utf16], { 'content-type': contentType });
    const gzipped = await post([gzipSync(utf16)], {
      'content-type': contentType,
      'content-encoding': 'gzip',
    });
    for (const answer of [plain, gzipped]) {
      expect(answer).toMatchObject({ status: 415, body: { code: 'unsupported_media_type' } });
    }
    expect(seenBytes).toEqual([]);
  });

  test('a charset hidden behind a quoted parameter is the one refused, compressed or not', async () => {
    seenBytes.length = 0;
    // Read by body-parser as UTF-16LE and by a naive split on ";" as UTF-8: the two readings
    // of these bytes would differ, and the one checked would not be the one parsed.
    const utf16 = Buffer.from('{"messages":[{"value":1}]}', 'utf16le');
    const contentType = 'application/json; foo="x;charset=utf-8;"; charset=utf-16le';
    for (const [body, headers] of [
      [utf16, {}],
      [gzipSync(utf16), { 'content-encoding': 'gzip' }],
    ] as const) {
      const answer = await post([body], { 'content-type': contentType, ...headers });
      expect(answer).toMatchObject({ status: 415, body: { code: 'unsupported_media_type' } });
    }
    expect(seenBytes).toEqual([]);
  });

  test('a gzip body is inflated, then checked and parsed the same way', async () => {
    seenBytes.length = 0;
    const inflated = Buffer.from('{"messages":[{"value":1}]}');
    const answer = await post([gzipSync(inflated)], {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    expect(answer).toMatchObject({ status: 200, body: { body: { messages: [{ value: 1 }] } } });
    expect(seenBytes).toEqual([`checked:${inflated.length}`]);
  });
});
