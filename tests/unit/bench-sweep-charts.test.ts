import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Row } from '../../bench/lib/report';
import { chartSeries, SWEEP_CHARTS, writeSweepCharts } from '../../bench/lib/sweep-charts';

function point(
  id: string,
  sweep: NonNullable<Row['sweep']>,
  summary: Record<string, number>,
  status: Row['status'] = 'ok',
): Row {
  return {
    id,
    ref: id,
    title: id,
    group: 'sweep',
    primary: 'msgsPerSec',
    better: 'higher',
    status,
    runs: [],
    summary: Object.fromEntries(
      Object.entries(summary).map(([name, median]) => [
        name,
        { median, min: median, max: median, n: 1 },
      ]),
    ),
    ratios: [],
    sweep,
  };
}

const ROWS: Row[] = [
  point('a1', { sweep: 'concurrency', series: 'our API', x: 1 }, { p50Ms: 3, p99Ms: 8 }),
  point('a4', { sweep: 'concurrency', series: 'our API', x: 4 }, { p50Ms: 4, p99Ms: 9 }),
  point('r100', { sweep: 'value-size', series: 'raw kafkajs', x: 100 }, { cpuUsPerMsg: 10 }),
  point('b100', { sweep: 'value-size', series: 'Kafka Bridge', x: 100 }, {}, 'unavailable'),
];

test('a chart of several figures of one series draws a line per figure, from the medians', () => {
  const latency = SWEEP_CHARTS.find((chart) => chart.file === 'sweep-connections-latency.svg');
  if (!latency) throw new Error('no latency chart');
  expect(chartSeries(latency, ROWS)).toEqual([
    {
      name: 'our API p50',
      points: [
        { x: 1, y: 3 },
        { x: 4, y: 4 },
      ],
    },
    {
      name: 'our API p99',
      points: [
        { x: 1, y: 8 },
        { x: 4, y: 9 },
      ],
    },
  ]);
});

test('a series that did not run (the Bridge without its jars) stays in the chart without points', () => {
  const cpu = SWEEP_CHARTS.find((chart) => chart.file === 'sweep-value-size-cpu.svg');
  if (!cpu) throw new Error('no value-size chart');
  expect(chartSeries(cpu, ROWS)).toEqual([
    { name: 'raw kafkajs', points: [{ x: 100, y: 10 }] },
    { name: 'Kafka Bridge', points: [] },
  ]);
});

test('only the sweeps that have rows get a chart file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sweep-charts-'));
  const written = writeSweepCharts(ROWS, dir).map((chart) => chart.file);
  expect(written.sort()).toEqual(
    [
      'sweep-connections-latency.svg',
      'sweep-connections-throughput.svg',
      'sweep-value-size-cpu.svg',
      'sweep-value-size-throughput.svg',
    ].sort(),
  );
  expect(readdirSync(dir).sort()).toEqual([...written].sort());
  expect(readFileSync(join(dir, 'sweep-value-size-cpu.svg'), 'utf8')).toContain('>100 B<');
});
