import { connect, createServer, type Server, type Socket } from 'node:net';
import { LocalForwarder, ReadyPods, type OpenTunnel } from '../e2e/support/forwarder';

/** Tunnels as plain TCP to a local server per "pod": the part the Kubernetes API would carry. */
function tcpTunnels(ports: Record<string, number>, opened: string[]): OpenTunnel {
  return async (pod, _port, socket: Socket, onError) => {
    opened.push(pod);
    const target = ports[pod];
    if (target === undefined) throw new Error(`pod ${pod} not found`);
    const upstream = connect({ host: '127.0.0.1', port: target });
    upstream.on('error', (error) => onError(error.message));
    socket.pipe(upstream).pipe(socket);
    return {
      close: () => upstream.destroy(),
      onClose: (listener) => upstream.once('close', listener),
    };
  };
}

async function echoServer(name: string): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.on('data', (data) => socket.end(`${name}:${data.toString()}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  return { server, port: typeof address === 'object' && address !== null ? address.port : 0 };
}

function request(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(text));
    let answer = '';
    socket.on('data', (data) => (answer += data.toString()));
    socket.on('end', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('e2e forwarder', () => {
  test('each connection goes to the pod picked for it; the ready list is refreshed', async () => {
    const a = await echoServer('a');
    const b = await echoServer('b');
    let ready = ['a', 'b'];
    const pods = new ReadyPods(async () => ready, 10_000);
    await pods.start();
    const opened: string[] = [];
    const forwarder = new LocalForwarder({
      open: tcpTunnels({ a: a.port, b: b.port }, opened),
      pickPod: () => pods.pick(),
      podPort: 8080,
    });
    const port = await forwarder.start();
    try {
      const answers = [await request(port, 'x'), await request(port, 'y')];
      expect(answers.sort()).toEqual(['a:y', 'b:x'].sort());
      ready = ['a'];
      await pods.refresh();
      expect(await request(port, 'z')).toBe('a:z');
      expect(forwarder.connections).toBe(3);
      expect(Object.fromEntries(forwarder.perPod)).toEqual({ a: 2, b: 1 });

      ready = [];
      await pods.refresh();
      expect(await request(port, 'nobody')).toBe('');
      expect(forwarder.failures).toBe(1);
      expect(forwarder.errors).toEqual(['no ready pod to forward to']);
    } finally {
      pods.stop();
      await forwarder.stop();
      a.server.close();
      b.server.close();
    }
  });

  test('a tunnel that cannot open closes the client connection and is counted', async () => {
    const forwarder = new LocalForwarder({
      open: tcpTunnels({}, []),
      pickPod: () => 'gone',
      podPort: 8080,
    });
    const port = await forwarder.start();
    try {
      expect(await request(port, 'x')).toBe('');
      expect(forwarder.failures).toBe(1);
      expect(forwarder.errors[0]).toBe('gone: pod gone not found');
    } finally {
      await forwarder.stop();
    }
  });

  test('a refresh that fails keeps the last list', async () => {
    let fail = false;
    const pods = new ReadyPods(async () => {
      if (fail) throw new Error('API server away');
      return ['p1', 'p2'];
    });
    await pods.refresh();
    fail = true;
    await pods.refresh();
    expect(pods.current()).toEqual(['p1', 'p2']);
    expect(pods.refreshErrors).toBe(1);
    expect([pods.pick(), pods.pick(), pods.pick()]).toEqual(['p2', 'p1', 'p2']);
  });
});
