/**
 * A demo's life cycle: options, the story, its verdict as the exit code (0: nothing lost),
 * and the system stopped in every case, Ctrl-C included.
 */
import { parseDemoArgs, UsageError, type DemoOptions } from './options';
import { Story } from './story';
import type { DemoSystem } from './system';

export type DemoBody = (
  options: DemoOptions,
  story: Story,
  onSystem: (system: DemoSystem) => void,
) => Promise<boolean>;

export function runDemo(
  name: string,
  usage: string,
  defaults: { brokers: 1 | 3; brokerChoice: boolean },
  body: DemoBody,
): void {
  const story = new Story();
  let system: DemoSystem | undefined;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    const running = system;
    if (running === undefined) return Promise.resolve();
    stopped ??= running.stop().then(() => story.line('Stopped the services and Kafka.'));
    return stopped;
  };
  let interrupted = false;
  process.on('SIGINT', () => {
    // A second Ctrl-C means "now": exit hooks SIGKILL what is still running.
    if (interrupted) process.exit(130);
    interrupted = true;
    story.line('\ninterrupted: stopping the services and Kafka (Ctrl-C again to kill them)');
    stop()
      .catch((error: unknown) => {
        process.stderr.write(`${name}: stopping failed: ${errorText(error)}\n`);
      })
      .finally(() => process.exit(130));
  });
  const main = async (): Promise<number> => {
    const options = parseDemoArgs(process.argv.slice(2), usage, defaults);
    try {
      const ok = await body(options, story, (s) => (system = s));
      story.line('');
      story.line(
        ok
          ? 'Nothing acknowledged was lost.'
          : 'FAILED: acknowledged messages were lost (see the ledger).',
      );
      return ok ? 0 : 1;
    } finally {
      await stop();
    }
  };
  main().then(
    (code) => {
      if (!interrupted) process.exit(code);
    },
    (error: unknown) => {
      if (interrupted) return; // the SIGINT handler exits once everything is stopped
      if (error instanceof UsageError) {
        process.stderr.write(`${error.message}\n`);
        process.exit(2);
      }
      process.stderr.write(`${name} failed: ${errorText(error)}\n`);
      process.exit(1);
    },
  );
}

function errorText(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
