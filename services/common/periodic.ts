/**
 * A task run now and then on a schedule, never two runs at once: the cluster monitor's
 * probe and the consumer's lag refresh. Asking for a run while one is going runs it once
 * more right after (what changed during the run is seen), however often it was asked.
 */
export interface PeriodicOptions {
  /** One run; its rejection is the caller's to log (it is swallowed here, so runs never reject). */
  run: () => Promise<void>;
  /** The wait after a run until the next, read when the run ends. */
  delayAfterRunMs: () => number;
}

export class Periodic {
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private dueAt = Number.POSITIVE_INFINITY;

  constructor(private readonly options: PeriodicOptions) {}

  /** Runs now, then on the schedule. */
  start(): void {
    this.requestRun();
  }

  /** runNow without waiting for it. */
  requestRun(): void {
    this.runNow().catch(() => undefined);
  }

  /** Resolves when a run that began after this call has ended. */
  runNow(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.clearTimer();
    this.running = this.loop().finally(() => {
      this.running = undefined;
      this.schedule(this.options.delayAfterRunMs());
    });
    return this.running;
  }

  /** Runs within `delayMs`: sooner than the schedule, never later. */
  runWithin(delayMs: number): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(delayMs);
  }

  /** No run starts after this; resolves when the one going has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    await this.running;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      await this.options.run().catch(() => undefined);
    } while (this.again && !this.stopped);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    const dueAt = Date.now() + Math.max(0, delayMs);
    if (this.timer && this.dueAt <= dueAt) return;
    this.clearTimer();
    this.dueAt = dueAt;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.dueAt = Number.POSITIVE_INFINITY;
      this.requestRun();
    }, delayMs);
  }

  private clearTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.dueAt = Number.POSITIVE_INFINITY;
  }
}
