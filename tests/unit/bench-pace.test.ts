import { paceAt } from '../../bench/lib/pace';

describe('paceAt', () => {
  afterEach(() => jest.useRealTimers());

  test('emits every item in order, none before it is due, and runs afterTick after the emits', async () => {
    // jest's clock (performance.now too): a pause of the machine cannot bunch the ticks up.
    jest.useFakeTimers();
    const rate = 2_000;
    const started = performance.now();
    const emittedAt: number[] = [];
    const order: string[] = [];
    const pacing = paceAt(
      rate,
      40,
      (index) => {
        emittedAt[index] = performance.now() - started;
        order.push(`emit ${index}`);
      },
      { afterTick: () => order.push('tick') },
    );
    await jest.advanceTimersByTimeAsync(25);
    expect(await pacing).toBe(40);
    expect(emittedAt).toHaveLength(40);
    // Item i is due i / rate s after the start (a little slack for the clocks read apart).
    emittedAt.forEach((at, index) =>
      expect(at).toBeGreaterThanOrEqual((index * 1000) / rate - 0.5),
    );
    expect(order.filter((step) => step !== 'tick')).toEqual(
      Array.from({ length: 40 }, (_, index) => `emit ${index}`),
    );
    expect(order.at(-1)).toBe('tick');
    // Spread out, not emitted at once: one tick per millisecond of the 20 ms.
    expect(order.filter((step) => step === 'tick').length).toBeGreaterThanOrEqual(20);
  });

  test('ends early when stopped, with the count emitted so far', async () => {
    let count = 0;
    const emitted = await paceAt(1_000, 10_000, () => (count += 1), { stopped: () => count >= 5 });
    expect(emitted).toBe(count);
    expect(emitted).toBeGreaterThanOrEqual(5);
    expect(emitted).toBeLessThan(10_000);
  });

  test('nothing to emit ends at once', async () => {
    const emit = jest.fn();
    await expect(paceAt(1_000, 0, emit)).resolves.toBe(0);
    expect(emit).not.toHaveBeenCalled();
  });
});
