import { renderLineChart, type LineChart } from '../../bench/lib/chart';

const KIB = 1024;

function formatBytes(bytes: number): string {
  return bytes < KIB ? `${bytes} B` : `${bytes / KIB} KiB`;
}

function sizeSweep(overrides: Partial<LineChart> = {}): LineChart {
  return {
    title: 'Throughput by value size',
    xLabel: 'value size',
    yLabel: 'messages/s',
    xLog: true,
    formatX: formatBytes,
    series: [
      {
        name: 'raw kafkajs',
        points: [
          { x: 100, y: 52_000 },
          { x: 1024, y: 48_000 },
          { x: 10_240, y: 21_000 },
          { x: 102_400, y: 3_100 },
        ],
      },
      {
        name: 'producer API',
        points: [
          { x: 100, y: 31_000 },
          { x: 1024, y: 29_500 },
          { x: 10_240, y: 15_200 },
        ],
      },
    ],
    ...overrides,
  };
}

/** Checks that every tag is closed in order; returns the problem, or undefined when balanced. */
function tagImbalance(svg: string): string | undefined {
  const open: string[] = [];
  for (const match of svg.matchAll(/<(\/?)([A-Za-z][\w:.-]*)[^<>]*?(\/?)>/g)) {
    const [, closing, name = '', selfClosing] = match;
    if (selfClosing === '/') continue;
    if (closing !== '/') {
      open.push(name);
    } else if (open.pop() !== name) {
      return `unexpected </${name}>`;
    }
  }
  return open.length === 0 ? undefined : `unclosed <${open.join('>, <')}>`;
}

function count(svg: string, pattern: RegExp): number {
  return [...svg.matchAll(pattern)].length;
}

function textsOfClass(svg: string, className: string): string[] {
  const pattern = new RegExp(`<text class="${className}"[^>]*>([^<]*)</text>`, 'g');
  return [...svg.matchAll(pattern)].map((m) => m[1] ?? '');
}

function tickNumbers(svg: string, className: string): number[] {
  return textsOfClass(svg, className).map((label) => Number(label.replaceAll(',', '')));
}

function expectWellFormedSvg(svg: string): void {
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  expect(svg.endsWith('</svg>')).toBe(true);
  expect(svg).toContain('viewBox="0 0 760 400"');
  expect(tagImbalance(svg)).toBeUndefined();
  // Every & starts an entity, and no < or > is left inside text or attributes.
  expect(svg).not.toMatch(/&(?!(amp|lt|gt|quot|apos);)/);
  expect(svg.replace(/<[^<>]*>/g, '')).not.toMatch(/[<>]/);
}

describe('bench sweep line charts', () => {
  test('render a well-formed SVG with a title, axis labels, white background and a legend', () => {
    const svg = renderLineChart(sizeSweep());
    expectWellFormedSvg(svg);
    expect(svg).toContain('<rect width="760" height="400" fill="#ffffff"/>');
    expect(svg).toContain('>Throughput by value size</text>');
    expect(svg).toContain('>value size</text>');
    expect(svg).toContain('>messages/s</text>');
    expect(textsOfClass(svg, 'legend')).toEqual(['raw kafkajs', 'producer API']);
  });

  test('draw one polyline per series, in distinct colours, and one circle with a tooltip per point', () => {
    const svg = renderLineChart(sizeSweep());
    const lines = [...svg.matchAll(/<polyline points="([^"]*)"[^>]*stroke="([^"]*)"/g)];
    expect(lines).toHaveLength(2);
    expect(lines.map((l) => (l[1] ?? '').split(' ').length)).toEqual([4, 3]);
    expect(new Set(lines.map((l) => l[2])).size).toBe(2);
    // 7 data points plus one marker per legend entry.
    expect(count(svg, /<circle /g)).toBe(7 + 2);
    expect(count(svg, /<circle [^>]*><title>/g)).toBe(7);
    expect(svg).toContain('<title>raw kafkajs: 1 KiB → 48,000</title>');
    expect(svg).toContain('<title>producer API: 100 B → 31,000</title>');
  });

  test('put the x ticks at exactly the x values of a small sweep, formatted by formatX', () => {
    const svg = renderLineChart(sizeSweep());
    expect(textsOfClass(svg, 'x-tick')).toEqual(['100 B', '1 KiB', '10 KiB', '100 KiB']);
  });

  test('label x ticks with thousands separators by default, and use ~6 nice ticks for many x values', () => {
    const few = renderLineChart(
      sizeSweep({
        xLog: false,
        formatX: undefined,
        series: [
          {
            name: 's',
            points: [
              { x: 1200, y: 1 },
              { x: 2400, y: 2 },
            ],
          },
        ],
      }),
    );
    expect(textsOfClass(few, 'x-tick')).toEqual(['1,200', '2,400']);

    const points = Array.from({ length: 30 }, (_, i) => ({ x: i + 1, y: i }));
    const many = renderLineChart(
      sizeSweep({ xLog: false, formatX: undefined, series: [{ name: 's', points }] }),
    );
    expect(textsOfClass(many, 'x-tick')).toEqual(['0', '5', '10', '15', '20', '25', '30']);
  });

  test('give the linear y axis 1, 2, 5 × 10^n steps from 0 to a top at or above the maximum', () => {
    const svg = renderLineChart(sizeSweep({ xLog: false }));
    // 52,000 / 5 rounds up to a step of 20,000.
    expect(textsOfClass(svg, 'y-tick')).toEqual(['0', '20,000', '40,000', '60,000']);

    for (const max of [1, 7, 99.5, 1234, 0.3, 52_000, 100_001]) {
      const chart = sizeSweep({
        series: [
          {
            name: 's',
            points: [
              { x: 1, y: max / 3 },
              { x: 2, y: max },
            ],
          },
        ],
      });
      const ticks = tickNumbers(renderLineChart(chart), 'y-tick');
      expect(ticks[0]).toBe(0);
      expect(Math.max(...ticks)).toBeGreaterThanOrEqual(max);
      expect(ticks.length).toBeGreaterThanOrEqual(3);
      expect(ticks.length).toBeLessThanOrEqual(8);
    }
  });

  test('start a log y axis at the power of ten at or below the minimum and end at or above the maximum', () => {
    const svg = renderLineChart(sizeSweep({ yLog: true }));
    expect(textsOfClass(svg, 'y-tick')).toEqual(['1,000', '10,000', '100,000']);

    const oneDecade = sizeSweep({
      yLog: true,
      series: [
        {
          name: 's',
          points: [
            { x: 1, y: 230 },
            { x: 2, y: 870 },
          ],
        },
      ],
    });
    expect(textsOfClass(renderLineChart(oneDecade), 'y-tick')).toEqual([
      '100',
      '200',
      '500',
      '1,000',
    ]);
  });

  test('escape XML in every text', () => {
    const svg = renderLineChart(
      sizeSweep({
        title: 'Tom\'s <chart> & "more"',
        series: [{ name: 'a<b & "c"', points: [{ x: 100, y: 1 }] }],
      }),
    );
    expectWellFormedSvg(svg);
    expect(svg).toContain('>Tom&apos;s &lt;chart&gt; &amp; &quot;more&quot;</text>');
    expect(svg).toContain('>a&lt;b &amp; &quot;c&quot;</text>');
    expect(svg).toContain('<title>a&lt;b &amp; &quot;c&quot;: 100 B → 1</title>');
    expect(svg).not.toContain('a<b');
  });

  test('leave out non-positive points on a log axis and non-finite points on any axis', () => {
    const svg = renderLineChart(
      sizeSweep({
        yLog: true,
        series: [
          {
            name: 'mixed',
            points: [
              { x: 100, y: 0 },
              { x: 1024, y: -5 },
              { x: 10_240, y: 40 },
              { x: 102_400, y: 400 },
              { x: Number.NaN, y: 10 },
              { x: 1024, y: Number.POSITIVE_INFINITY },
            ],
          },
          { name: 'all zero', points: [{ x: 100, y: 0 }] },
        ],
      }),
    );
    expectWellFormedSvg(svg);
    expect(count(svg, /<polyline /g)).toBe(1);
    expect(count(svg, /<circle [^>]*><title>/g)).toBe(2);
    expect(textsOfClass(svg, 'x-tick')).toEqual(['10 KiB', '100 KiB']);
    expect(textsOfClass(svg, 'legend')).toEqual(['mixed', 'all zero (no data)']);
    expect(svg).not.toContain('NaN');
    expect(svg).not.toContain('Infinity');
  });

  test('say "no data" when nothing is left to plot, still naming the series', () => {
    for (const series of [
      [],
      [
        { name: 'empty', points: [] },
        { name: 'zero', points: [{ x: 0, y: 5 }] },
      ],
    ]) {
      const svg = renderLineChart(sizeSweep({ series }));
      expectWellFormedSvg(svg);
      expect(svg).toContain('>no data</text>');
      expect(count(svg, /<polyline /g)).toBe(0);
      expect(textsOfClass(svg, 'x-tick')).toEqual([]);
      expect(textsOfClass(svg, 'legend')).toEqual(series.map((s) => `${s.name} (no data)`));
    }
  });

  test('keep every point inside the plot, the maximum at or below the y axis top', () => {
    const svg = renderLineChart(sizeSweep({ xLog: false }));
    const ys = [
      ...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)" r="3" fill="[^"]*"><title>/g),
    ].map((m) => Number(m[2]));
    expect(ys).toHaveLength(7);
    expect(Math.min(...ys)).toBeGreaterThanOrEqual(44);
    expect(Math.max(...ys)).toBeLessThanOrEqual(340);
  });

  test('give the same string for the same input', () => {
    expect(renderLineChart(sizeSweep())).toBe(renderLineChart(sizeSweep()));
  });
});
