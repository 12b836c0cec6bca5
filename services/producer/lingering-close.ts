/**
 * An answer sent before the request's body was read (413, 401, 404, 415...) must still reach
 * the client. Node ends such a `Connection: close` answer with socket.destroySoon(), which
 * closes the socket as soon as the answer is written, while the client is still sending: the
 * kernel answers the unread bytes with a reset, and a client that writes its whole body before
 * it reads (most HTTP libraries; few send Expect: 100-continue) gets EPIPE instead of the
 * answer. RFC 9112 §9.6 says how to close instead: half-close after the answer, read and throw
 * away what the client still sends, then close. Bounded, like nginx's lingering close.
 */
import type { IncomingMessage } from 'node:http';

export interface LingerLimits {
  /** Most body bytes read and thrown away after the refusal; past them the socket closes. */
  maxBytes: number;
  /** Close when the client has sent nothing for this long after the answer. */
  idleMs: number;
  /** Close this long after the answer at the latest (the request timeout may come first). */
  maxMs: number;
}

export const LINGER_LIMITS: LingerLimits = {
  maxBytes: 16 * 1024 * 1024,
  idleMs: 2_000,
  maxMs: 10_000,
};

/**
 * For a request answered before its body was read, with `Connection: close`: reads and
 * discards the body from now on (which also keeps Node from dropping it uncounted), and
 * replaces the close that follows the answer by a lingering one.
 */
export function lingerBeforeClose(req: IncomingMessage, limits: LingerLimits): void {
  const socket = req.socket;
  let discarded = 0;
  let idle: NodeJS.Timeout | undefined;
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > limits.maxBytes) socket.destroy();
    else idle?.refresh();
  });
  const closeAtOnce = socket.destroySoon.bind(socket);
  socket.destroySoon = () => {
    if (req.complete) {
      closeAtOnce(); // nothing more is coming: nothing to reset
      return;
    }
    // The answer, then FIN: the client can read it and stop sending.
    socket.end();
    idle = setTimeout(() => socket.destroy(), limits.idleMs).unref();
    const latest = setTimeout(() => socket.destroy(), limits.maxMs).unref();
    req.once('end', () => socket.destroy()); // the whole body is read
    socket.once('close', () => {
      clearTimeout(idle);
      clearTimeout(latest);
    });
  };
}
