import { runDemo } from '../../scripts/demo/run';
import type { DemoSystem } from '../../scripts/demo/system';

describe('runDemo', () => {
  it('on Ctrl-C, says that stopping the system failed before it exits 130', async () => {
    // Before, the SIGINT handler did `void stop().finally(() => process.exit(130))`: the
    // process exited before anyone saw the rejection, so a Kafka that would not stop went
    // unmentioned.
    const handlers = new Map<string, () => void>();
    const exits: Array<number | string | null | undefined> = [];
    const stderr: string[] = [];
    const spies = [
      // Signal handlers are captured and called here: a real SIGINT would reach jest too.
      jest.spyOn(process, 'on').mockImplementation((event, listener) => {
        handlers.set(String(event), listener as () => void);
        return process;
      }),
      jest.spyOn(process, 'exit').mockImplementation((code) => {
        exits.push(code);
        return undefined as never;
      }),
      jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
        stderr.push(String(chunk));
        return true;
      }),
      jest.spyOn(process.stdout, 'write').mockImplementation(() => true),
    ];
    const argv = process.argv;
    process.argv = [argv[0] ?? 'node', 'demo'];
    try {
      const system = {
        stop: () => Promise.reject(new Error('ports still open after the brokers exited: 9092')),
      } as unknown as DemoSystem;
      runDemo('demo:test', 'usage', { brokers: 1, brokerChoice: false }, (_o, _s, onSystem) => {
        onSystem(system);
        return new Promise<boolean>(() => undefined); // the demo runs until Ctrl-C
      });
      await new Promise((done) => setImmediate(done));
      handlers.get('SIGINT')?.();
      await new Promise((done) => setImmediate(done));
      expect(exits).toEqual([130]);
      expect(stderr.join('')).toContain(
        'demo:test: stopping failed: Error: ports still open after the brokers exited: 9092',
      );
    } finally {
      process.argv = argv;
      for (const spy of spies) spy.mockRestore();
    }
  });
});
