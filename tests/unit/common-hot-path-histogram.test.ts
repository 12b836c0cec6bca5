import { Histogram, Registry } from 'prom-client';
import { HotPathHistogram } from '../../services/common/hot-path-histogram';

const BUCKETS = [0.001, 0.01, 0.1, 1, 10];
const config = { name: 'latency_seconds', help: 'How long it took', buckets: BUCKETS };

/** The same observations into prom-client's Histogram and ours, each in its own registry. */
function both(labelNames: string[]) {
  const reference = new Registry();
  const ours = new Registry();
  const theirs = new Histogram({ ...config, labelNames, registers: [reference] });
  const hot = new HotPathHistogram({ ...config, labelNames, registers: [ours] });
  return { reference, ours, theirs, hot };
}

// On a bound, below the first, between, above the last, zero, negative and fractions.
const VALUES = [0.001, 0.0005, 0.05, 0.1, 0.7, 10, 11, 0, -3, 2.5, 1e-9, 123.456];

test('exposes the same text as prom-client for the same observations', async () => {
  const { reference, ours, theirs, hot } = both(['topic', 'kind']);
  for (const [i, value] of VALUES.entries()) {
    const labels = i % 3 === 0 ? ['orders', 'a'] : ['events', 'b'];
    theirs.labels(...labels).observe(value);
    hot.labels(...labels).observe(value);
  }
  const text = await ours.metrics();
  expect(text).toBe(await reference.metrics());
  expect(text).toContain('latency_seconds_bucket{le="0.1",topic="events",kind="b"}');
  expect(text).toContain('latency_seconds_count{topic="orders",kind="a"} 4');
});

test('get() gives the same objects as prom-client, labels merged', async () => {
  const { theirs, hot } = both(['topic']);
  for (const value of VALUES) {
    theirs.labels('events').observe(value);
    hot.labels('events').observe(value);
  }
  const [a, b] = await Promise.all([theirs.get(), hot.get()]);
  const strip = (values: Array<{ labels: object; value: number; metricName?: string }>) =>
    values.map(({ labels, value, metricName }) => ({ labels, value, metricName }));
  expect(strip(b.values)).toEqual(strip(a.values));
  expect({ name: b.name, help: b.help, type: b.type }).toEqual({
    name: a.name,
    help: a.help,
    type: a.type,
  });
});

test('a series bound once keeps counting, and reset() empties the histogram', async () => {
  const { ours, hot } = both(['topic']);
  const series = hot.labels('events');
  for (let i = 0; i < 1000; i += 1) series.observe(i / 1000);
  expect(hot.labels('events')).toBe(series);
  const text = await ours.metrics();
  expect(text).toContain('latency_seconds_count{topic="events"} 1000');
  expect(text).toContain('latency_seconds_bucket{le="0.1",topic="events"} 101');
  hot.reset();
  expect(await ours.metrics()).not.toContain('latency_seconds_count');
});

test('rejects what prom-client rejects: wrong label count, non-finite values, bad buckets', () => {
  const { hot } = both(['topic']);
  expect(() => hot.labels('a', 'b')).toThrow('expected labels topic');
  expect(() => hot.labels('a').observe(Number.NaN)).toThrow(TypeError);
  expect(() => hot.labels('a').observe(Number.POSITIVE_INFINITY)).toThrow(TypeError);
  expect(
    () => new HotPathHistogram({ ...config, buckets: [1, 0.5], labelNames: [], registers: [] }),
  ).toThrow('buckets must be finite and ascending');
});

test('two metrics of one name cannot share a registry', () => {
  const registry = new Registry();
  new HotPathHistogram({ ...config, labelNames: ['topic'], registers: [registry] });
  expect(
    () => new HotPathHistogram({ ...config, labelNames: ['topic'], registers: [registry] }),
  ).toThrow('already been registered');
});
