/**
 * The sweeps' charts: from the rows of sweep points (bench/scenarios/sweeps.ts), one SVG per
 * figure and sweep, written next to results.md and linked from it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderLineChart, type ChartSeries } from './chart';
import type { Row } from './report';
import type { SweepPoint } from './scenario';

export interface SweepChart {
  /** File name inside the output folder. */
  file: string;
  title: string;
  sweep: SweepPoint['sweep'];
  /** The figures drawn, each a line per series (or, with one series, a line per figure). */
  figures: string[];
  yLabel: string;
  xLabel: string;
  xLog: boolean;
  yLog: boolean;
}

function sizeTick(bytes: number): string {
  return bytes < 1_024 ? `${bytes} B` : `${Math.round(bytes / 1_024)} KiB`;
}

export const SWEEP_CHARTS: SweepChart[] = [
  {
    file: 'sweep-value-size-cpu.svg',
    title: 'CPU per message by value size (1 msg/request, 64 connections; raw: batches)',
    sweep: 'value-size',
    figures: ['cpuUsPerMsg'],
    yLabel: 'CPU µs per message',
    xLabel: 'value size',
    xLog: true,
    yLog: true,
  },
  {
    file: 'sweep-value-size-throughput.svg',
    title: 'Throughput by value size',
    sweep: 'value-size',
    figures: ['mbPerSec'],
    yLabel: 'MB/s of values',
    xLabel: 'value size',
    xLog: true,
    yLog: false,
  },
  {
    file: 'sweep-connections-throughput.svg',
    title: 'Our API, single-message requests: throughput by connections',
    sweep: 'concurrency',
    figures: ['msgsPerSec'],
    yLabel: 'messages/s',
    xLabel: 'connections',
    xLog: true,
    yLog: false,
  },
  {
    file: 'sweep-connections-latency.svg',
    title: 'Our API, single-message requests: latency by connections',
    sweep: 'concurrency',
    figures: ['p50Ms', 'p99Ms'],
    yLabel: 'ms',
    xLabel: 'connections',
    xLog: true,
    yLog: false,
  },
  {
    file: 'sweep-consumer-throughput.svg',
    title: 'Consumer throughput by partitions consumed at once',
    sweep: 'consumer-partitions',
    figures: ['msgsPerSec'],
    yLabel: 'messages/s',
    xLabel: 'partitions at once',
    xLog: false,
    yLog: false,
  },
  {
    file: 'sweep-consumer-cpu.svg',
    title: 'Consumer CPU per message by partitions consumed at once',
    sweep: 'consumer-partitions',
    figures: ['cpuUsPerMsg'],
    yLabel: 'CPU µs per message',
    xLabel: 'partitions at once',
    xLog: false,
    yLog: false,
  },
];

const FIGURE_NAMES: Record<string, string> = { p50Ms: 'p50', p99Ms: 'p99' };

/** The chart's lines: per series, or per figure when a chart draws several of one series. */
export function chartSeries(chart: SweepChart, rows: Row[]): ChartSeries[] {
  const points = rows.filter((row) => row.sweep?.sweep === chart.sweep);
  const seriesNames = [...new Set(points.map((row) => row.sweep?.series ?? ''))];
  return seriesNames.flatMap((series) =>
    chart.figures.map((figure) => ({
      name: chart.figures.length > 1 ? `${series} ${FIGURE_NAMES[figure] ?? figure}` : series,
      points: points
        .filter((row) => row.sweep?.series === series && row.status === 'ok')
        .flatMap((row) => {
          const y = row.summary[figure]?.median;
          return y === undefined || row.sweep === undefined ? [] : [{ x: row.sweep.x, y }];
        }),
    })),
  );
}

/** Writes the charts of the sweeps that have rows; returns the charts written. */
export function writeSweepCharts(rows: Row[], outDir: string): SweepChart[] {
  const written: SweepChart[] = [];
  for (const chart of SWEEP_CHARTS) {
    if (!rows.some((row) => row.sweep?.sweep === chart.sweep)) continue;
    const svg = renderLineChart({
      title: chart.title,
      xLabel: chart.xLabel,
      yLabel: chart.yLabel,
      xLog: chart.xLog,
      yLog: chart.yLog,
      ...(chart.sweep === 'value-size' ? { formatX: sizeTick } : {}),
      series: chartSeries(chart, rows),
    });
    writeFileSync(join(outDir, chart.file), svg);
    written.push(chart);
  }
  return written;
}
