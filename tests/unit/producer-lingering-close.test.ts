/**
 * The lingering close after an answer sent before the body was read
 * (services/producer/lingering-close.ts), on a fake request and socket. Against real sockets
 * (clients that write everything before reading): tests/integration/hostile-http.test.ts.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { lingerBeforeClose } from '../../services/producer/lingering-close';

const limits = { maxBytes: 1000, idleMs: 200, maxMs: 1000 };

class FakeSocket extends EventEmitter {
  readonly calls: string[] = [];
  destroySoon(): void {
    this.calls.push('destroySoon');
  }
  end(): void {
    this.calls.push('end');
  }
  destroy(): void {
    if (this.calls.includes('destroy')) return;
    this.calls.push('destroy');
    this.emit('close');
  }
}

function fakeRequest(): { req: IncomingMessage & EventEmitter; socket: FakeSocket } {
  const socket = new FakeSocket();
  const req = Object.assign(new EventEmitter(), { socket, complete: false });
  return { req: req as unknown as IncomingMessage & EventEmitter, socket };
}

/** What Node does once a `Connection: close` answer is written. */
function answerWritten(socket: FakeSocket): void {
  (socket as unknown as { destroySoon(): void }).destroySoon();
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test('the body already read: closes as Node would', () => {
  const { req, socket } = fakeRequest();
  lingerBeforeClose(req, limits);
  (req as unknown as { complete: boolean }).complete = true;
  answerWritten(socket);
  expect(socket.calls).toEqual(['destroySoon']);
});

test('the body still coming: half-closes, reads on, and closes when it has all come', () => {
  const { req, socket } = fakeRequest();
  lingerBeforeClose(req, limits);
  answerWritten(socket);
  expect(socket.calls).toEqual(['end']);
  for (let i = 0; i < 5; i += 1) {
    jest.advanceTimersByTime(150); // less than idleMs between chunks
    req.emit('data', Buffer.alloc(100));
  }
  expect(socket.calls).toEqual(['end']);
  req.emit('end');
  expect(socket.calls).toEqual(['end', 'destroy']);
});

test('closes when the client goes quiet for idleMs', () => {
  const { req, socket } = fakeRequest();
  lingerBeforeClose(req, limits);
  answerWritten(socket);
  req.emit('data', Buffer.alloc(10));
  jest.advanceTimersByTime(limits.idleMs - 1);
  expect(socket.calls).toEqual(['end']);
  jest.advanceTimersByTime(1);
  expect(socket.calls).toEqual(['end', 'destroy']);
});

test('closes past maxBytes, counted from the refusal', () => {
  const { req, socket } = fakeRequest();
  lingerBeforeClose(req, limits);
  req.emit('data', Buffer.alloc(600)); // before the answer is written
  answerWritten(socket);
  req.emit('data', Buffer.alloc(400));
  expect(socket.calls).toEqual(['end']);
  req.emit('data', Buffer.alloc(1));
  expect(socket.calls).toEqual(['end', 'destroy']);
});

test('closes after maxMs even while the client keeps sending', () => {
  const { req, socket } = fakeRequest();
  lingerBeforeClose(req, { ...limits, maxBytes: Number.MAX_SAFE_INTEGER });
  answerWritten(socket);
  for (let elapsed = 0; elapsed < limits.maxMs - 100; elapsed += 100) {
    jest.advanceTimersByTime(100);
    req.emit('data', Buffer.alloc(1));
  }
  expect(socket.calls).toEqual(['end']);
  jest.advanceTimersByTime(100);
  expect(socket.calls).toEqual(['end', 'destroy']);
  expect(jest.getTimerCount()).toBe(0); // the close cleared the other timer
});
