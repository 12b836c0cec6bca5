/**
 * Process lifecycle: start-up errors that name what is wrong, and an ordered,
 * deadline-bound shutdown on SIGTERM/SIGINT. Readiness turns false before the first
 * step runs; a second signal, or the deadline, ends the process at once with a log
 * of the steps that did not finish.
 */
import pino from 'pino';
import { ConfigError } from './config';
import type { Health } from './health';
import { synchronousDestination, type Logger } from './logger';

export interface ShutdownStep {
  name: string;
  run: () => Promise<void>;
}

export interface LifecycleOptions {
  logger: Logger;
  health: Health;
  timeoutMs: number;
  /** Called with the exit code; tests replace it. */
  exit?: (code: number) => void;
}

export class Lifecycle {
  private readonly steps: ShutdownStep[] = [];
  private shutdownPromise: Promise<void> | undefined;
  private readonly exit: (code: number) => void;

  constructor(private readonly options: LifecycleOptions) {
    this.exit = options.exit ?? ((code) => process.exit(code));
  }

  /** Steps run in the order they were added. */
  onShutdown(name: string, run: () => Promise<void>): void {
    this.steps.push({ name, run });
  }

  installSignalHandlers(): void {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.on(signal, () => {
        if (this.shutdownPromise) {
          this.options.logger.warn({ signal }, 'second signal: exiting now');
          this.exit(130);
          return;
        }
        this.startShutdown(signal);
      });
    }
  }

  /** An error nobody caught is logged and ends the process through the same ordered shutdown. */
  installCrashHandlers(): void {
    const crash = (kind: string) => (error: unknown) => {
      this.options.logger.fatal({ err: error }, kind);
      this.startShutdown(kind, 1);
    };
    process.on('uncaughtException', crash('uncaught exception'));
    process.on('unhandledRejection', crash('unhandled rejection'));
  }

  shutdown(reason: string, exitCode = 0): Promise<void> {
    this.shutdownPromise ??= this.runShutdown(reason, exitCode);
    return this.shutdownPromise;
  }

  /**
   * From a handler that cannot wait for it. Each step's failure is handled inside; should the
   * shutdown itself fail, the process must still end. Left unhandled, the rejection would go
   * to the crash handler, which finds the shutdown begun and does nothing more: the process
   * would live on until the deadline, or for good if it failed before setting one.
   */
  private startShutdown(reason: string, exitCode = 0): void {
    this.shutdown(reason, exitCode).catch((error: unknown) => {
      this.options.logger.fatal({ err: error, reason }, 'shutdown failed; exiting now');
      this.exit(1);
    });
  }

  private async runShutdown(reason: string, exitCode: number): Promise<void> {
    const { logger, health, timeoutMs } = this.options;
    const startedAt = Date.now();
    health.markShuttingDown();
    logger.info({ reason, timeoutMs }, 'shutting down');
    const pending = new Set(this.steps.map((step) => step.name));
    const deadline = setTimeout(() => {
      logger.error(
        { unfinished: [...pending], elapsedMs: Date.now() - startedAt },
        'shutdown deadline exceeded; exiting with work left',
      );
      this.exit(1);
    }, timeoutMs);
    // Kept referenced: a step waiting on a promise that nothing will settle (a client whose
    // sockets are already closed) would otherwise let the event loop empty and the process
    // end with code 0, without 'stopped' and without saying which step never finished.
    let failed = false;
    for (const step of this.steps) {
      try {
        await step.run();
        logger.debug({ step: step.name }, 'shutdown step done');
      } catch (error) {
        failed = true;
        logger.error({ err: error, step: step.name }, 'shutdown step failed');
      }
      pending.delete(step.name);
    }
    clearTimeout(deadline);
    const code = failed ? 1 : exitCode;
    logger.info({ elapsedMs: Date.now() - startedAt, exitCode: code }, 'stopped');
    this.exit(code);
  }
}

/**
 * Runs a service's main function. A configuration error is printed as one JSON line
 * naming each bad variable, and the process exits 1 instead of crash-looping silently.
 */
export function runMain(service: string, main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    const logger = pino({ base: { service } }, synchronousDestination());
    if (error instanceof ConfigError) {
      logger.fatal({ problems: error.problems }, error.message);
    } else {
      logger.fatal({ err: error }, 'start-up failed');
    }
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 100).unref();
  });
}
