/**
 * The one pacing loop of the fixed-rate loads: item i (from 0) of `total` is due (i + 1)/rate
 * seconds after the start; every millisecond the items that fell due are emitted, in order, then
 * `afterTick` runs (to send what the tick built). An item is never emitted before it is due;
 * one that falls behind (a busy event loop) is emitted at the next tick.
 */
export interface PaceOptions {
  /** Runs after each tick's emits. */
  afterTick?: () => void;
  /** Checked before each tick: true ends the loop early. */
  stopped?: () => boolean;
}

/** Resolves with how many items were emitted: `total`, or fewer when stopped. */
export async function paceAt(
  rate: number,
  total: number,
  emit: (index: number) => void,
  options: PaceOptions = {},
): Promise<number> {
  const started = performance.now();
  let emitted = 0;
  while (emitted < total && !options.stopped?.()) {
    const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1000));
    for (; emitted < due; emitted += 1) emit(emitted);
    options.afterTick?.();
    if (emitted < total) await new Promise((tick) => setTimeout(tick, 1));
  }
  return emitted;
}
