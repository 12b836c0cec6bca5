/**
 * The worker's side of bench/lib/worker.ts: the first message a forked worker receives is its
 * config; it answers once, with its result or its error, and disconnects. Later messages are
 * controls (a load generator's 'stop'). Imports nothing heavy, so a worker measures only itself.
 */

export type WorkerReply<T> = { type: 'result'; result: T } | { type: 'error'; message: string };

export interface ServeOptions {
  /** Messages after the config. */
  onControl?: (message: unknown) => void;
  /** The bench went away: stop what runs (the process exits shortly after). */
  onDisconnect?: () => void;
}

export function serveWorker<C, T>(
  work: (config: C) => Promise<T>,
  options: ServeOptions = {},
): void {
  const reply = (message: WorkerReply<T>) => process.send?.(message);
  process.once('message', (config: C) => {
    const { onControl } = options;
    if (onControl) process.on('message', onControl);
    work(config)
      .then((result) => reply({ type: 'result', result }))
      .catch((error: unknown) =>
        reply({ type: 'error', message: error instanceof Error ? error.message : String(error) }),
      )
      .finally(() => process.disconnect?.());
  });
  process.on('disconnect', () => {
    options.onDisconnect?.();
    // Lets a client still closing its sockets finish; nothing waits on a dead bench.
    setTimeout(() => process.exit(0), 2_000).unref();
  });
}
