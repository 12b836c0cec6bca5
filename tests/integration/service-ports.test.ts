/**
 * startOnFreePorts: a port chosen free can be taken before the service binds it; the service
 * then exits with EADDRINUSE and is started again on new ports. Any other start-up failure is
 * reported at once, never retried.
 */
import { createServer, type Server } from 'node:net';
import { freePorts, LOOPBACK } from '../../scripts/lib/ports';
import { startOnFreePorts, type RunningService } from '../../scripts/lib/services';
import { createTopic, uniqueTopic } from '../support/kafka';

let holder: Server | undefined;
let service: RunningService | undefined;

afterEach(async () => {
  await service?.stop('SIGTERM');
  service = undefined;
  await new Promise((resolve) => (holder ? holder.close(resolve) : resolve(undefined)));
  holder = undefined;
});

async function holdPort(): Promise<number> {
  const [port] = await freePorts(1);
  if (port === undefined) throw new Error('no free port');
  holder = createServer();
  const server = holder;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK, resolve);
  });
  return port;
}

test('a producer whose HTTP port was taken before it bound it is started again on new ports', async () => {
  const topic = uniqueTopic('service-ports');
  await createTopic(topic, 1);
  const taken = await holdPort();
  const handedOut: number[][] = [];
  const choosePorts = async (count: number): Promise<number[]> => {
    const ports = await freePorts(count, [taken]);
    // The first attempt gets the held port for HTTP_PORT, as a lost race would.
    if (handedOut.length === 0) ports[1] = taken;
    handedOut.push(ports);
    return ports;
  };
  const started = await startOnFreePorts('producer', {
    env: { TOPICS: topic },
    portSettings: ['HTTP_PORT'],
    label: 'service-ports-retry',
    choosePorts,
  });
  service = started.service;
  expect(handedOut).toHaveLength(2);
  expect(handedOut[0]?.[1]).toBe(taken);
  expect(started.ports.HTTP_PORT).toBe(handedOut[1]?.[1]);
  expect(started.ports.HTTP_PORT).not.toBe(taken);
  const response = await fetch(
    `http://127.0.0.1:${started.ports.HTTP_PORT}/v1/topics/${topic}/messages`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ key: 'k', value: 'v' }] }),
    },
  );
  expect(response.status).toBe(200);
});

test('a start-up failure that is not a taken port is reported at once, not retried', async () => {
  let calls = 0;
  const choosePorts = async (count: number): Promise<number[]> => {
    calls += 1;
    return freePorts(count);
  };
  await expect(
    startOnFreePorts('producer', {
      env: { TOPICS: 'service-ports', BATCH_LINGER_MS: 'soon' },
      portSettings: ['HTTP_PORT'],
      label: 'service-ports-config',
      choosePorts,
    }),
  ).rejects.toThrow(/exited \(1\)[\s\S]*BATCH_LINGER_MS/);
  expect(calls).toBe(1);
});
