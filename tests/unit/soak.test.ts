/** Pure parts of `npm run soak` (scripts/soak.ts): options, /metrics parsing, memory growth. */
import { memoryGrowth, parseArgs, parseMemory, parseSeconds } from '../../scripts/soak';

test('durations: seconds, minutes, hours', () => {
  expect(parseSeconds('90s')).toBe(90);
  expect(parseSeconds('2m')).toBe(120);
  expect(parseSeconds('600')).toBe(600);
  expect(parseSeconds('1h')).toBe(3600);
  expect(() => parseSeconds('ten minutes')).toThrow(/not a duration/);
});

test('options: ten minutes by default; unknown or incomplete flags are refused', () => {
  expect(parseArgs([]).durationS).toBe(600);
  expect(parseArgs(['--duration', '60s', '--clients', '2'])).toMatchObject({
    durationS: 60,
    clients: 2,
  });
  expect(() => parseArgs(['--duration'])).toThrow(/needs a value/);
  expect(() => parseArgs(['--speed', 'fast'])).toThrow(/unknown option/);
  expect(() => parseArgs(['--duration', '5s'])).toThrow(/at least 10s/);
});

test('memory from prom-client /metrics text', () => {
  const text = [
    '# HELP process_resident_memory_bytes Resident memory size in bytes.',
    'process_resident_memory_bytes 104857600',
    'nodejs_heap_size_used_bytes 20971520',
    'nodejs_heap_size_total_bytes 41943040',
  ].join('\n');
  expect(parseMemory(text)).toEqual({ rssBytes: 104_857_600, heapUsedBytes: 20_971_520 });
  expect(parseMemory('')).toBeUndefined();
  const labelled =
    'process_resident_memory_bytes{service="x"} 2048\nnodejs_heap_size_used_bytes{service="x"} 1024';
  expect(parseMemory(labelled)).toEqual({ rssBytes: 2048, heapUsedBytes: 1024 });
});

test('memory that keeps growing is flagged; a flat or sawtooth series is not', () => {
  const series = (f: (i: number) => number) =>
    Array.from({ length: 30 }, (_, i) => ({ atS: i * 10, bytes: f(i) * 1_048_576 }));
  expect(memoryGrowth(series((i) => 50 + i * 2)).growing).toBe(true);
  // A sawtooth whose floor rises: still a leak.
  expect(memoryGrowth(series((i) => 50 + i * 2 + (i % 4) * 30)).growing).toBe(true);
  expect(memoryGrowth(series(() => 50)).growing).toBe(false);
  // Garbage collection: high peaks late in the run, the same floor.
  expect(memoryGrowth(series((i) => 20 + (i % 5) * 8 + (i > 25 ? 30 : 0) * (i % 2))).growing).toBe(
    false,
  );
});
