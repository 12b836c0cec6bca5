/**
 * Line charts as self-contained SVG strings, hand-written with no dependencies: the bench's
 * sweep charts (a figure against value size or connection count, one line per target), written
 * next to results.md. The same input always gives the same string.
 */

export interface ChartPoint {
  x: number;
  y: number;
}

export interface ChartSeries {
  name: string;
  points: ChartPoint[];
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Logarithmic x axis (value sizes 100 B..100 KiB, connections 1..256). */
  xLog?: boolean;
  /** Logarithmic y axis. */
  yLog?: boolean;
  /** Tick labels for x values; default: the number with thousands separators. */
  formatX?: (x: number) => string;
  series: ChartSeries[];
}

const WIDTH = 760;
const HEIGHT = 400;
/** The plot area; the legend takes the column right of it. */
const PLOT = { left: 72, top: 44, right: 490, bottom: 340 } as const;
/** Keeps the first and last x ticks off the frame, so their points do not sit on the y axis. */
const X_INSET = 12;
const LEGEND = { left: 506, top: 52, rowHeight: 18, nameLength: 34 } as const;
const MAX_DATA_X_TICKS = 12;
const X_TICK_TARGET = 6;
const Y_TICK_TARGET = 5;
/** Float noise from ratios that should be whole (0.3 / 0.1) must not add a tick. */
const EPSILON = 1e-9;
const PALETTE = [
  '#2b6cb0',
  '#c53030',
  '#2f855a',
  '#d69e2e',
  '#6b46c1',
  '#0987a0',
  '#b83280',
  '#4a5568',
] as const;

interface Axis {
  low: number;
  high: number;
  ticks: number[];
  log: boolean;
}

interface PlottedSeries {
  name: string;
  color: string;
  /** The usable points, ascending by x. */
  points: ChartPoint[];
}

type Scale = (value: number) => number;
type Attributes = Record<string, string | number>;

export function renderLineChart(chart: LineChart): string {
  const series = chart.series.map((s, index): PlottedSeries => ({
    name: s.name,
    color: colorFor(index),
    points: usablePoints(s.points, chart),
  }));
  const points = series.flatMap((s) => s.points);
  const body = points.length === 0 ? noDataMessage() : plot(chart, series, points);
  return [
    svgOpenTag(),
    element('rect', { width: WIDTH, height: HEIGHT, fill: '#ffffff' }),
    textElement(chart.title, {
      x: WIDTH / 2,
      y: 26,
      'text-anchor': 'middle',
      'font-size': 15,
      'font-weight': 'bold',
    }),
    ...body,
    ...legend(series),
    '</svg>',
  ].join('\n');
}

function svgOpenTag(): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" ` +
    `width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="11" fill="#1a202c">`
  );
}

function colorFor(index: number): string {
  const fromPalette = PALETTE[index];
  if (fromPalette !== undefined) return fromPalette;
  // Past the palette: hues a golden angle apart stay distinct from their neighbours.
  const hue = Math.round((index * 137.508) % 360);
  return `hsl(${hue}, 65%, 42%)`;
}

function usablePoints(points: readonly ChartPoint[], chart: LineChart): ChartPoint[] {
  return points
    .filter(
      (p) =>
        Number.isFinite(p.x) &&
        Number.isFinite(p.y) &&
        !(chart.xLog === true && p.x <= 0) &&
        !(chart.yLog === true && p.y <= 0),
    )
    .sort((a, b) => a.x - b.x);
}

function noDataMessage(): string[] {
  return [
    textElement('no data', {
      x: (PLOT.left + PLOT.right) / 2,
      y: (PLOT.top + PLOT.bottom) / 2,
      'text-anchor': 'middle',
      'font-size': 14,
      fill: '#718096',
    }),
  ];
}

function plot(chart: LineChart, series: PlottedSeries[], points: ChartPoint[]): string[] {
  const xAxis = buildXAxis(points, chart.xLog === true);
  const yAxis = buildYAxis(points, chart.yLog === true);
  const xScale = scaleFor(xAxis, PLOT.left + X_INSET, PLOT.right - X_INSET);
  const yScale = scaleFor(yAxis, PLOT.bottom, PLOT.top);
  const formatX = chart.formatX ?? formatNumber;
  return [
    ...gridLines(xAxis, xScale, yAxis, yScale),
    element('rect', {
      x: PLOT.left,
      y: PLOT.top,
      width: PLOT.right - PLOT.left,
      height: PLOT.bottom - PLOT.top,
      fill: 'none',
      stroke: '#4a5568',
    }),
    ...xTickLabels(xAxis, xScale, formatX),
    ...yTickLabels(yAxis, yScale),
    ...axisLabels(chart),
    ...series
      .filter((s) => s.points.length > 0)
      .map((s) => seriesGroup(s, xScale, yScale, formatX)),
  ];
}

function buildXAxis(points: ChartPoint[], log: boolean): Axis {
  const values = distinctSorted(points.map((p) => p.x));
  const low = values[0] ?? 0;
  const high = values.at(-1) ?? 0;
  if (values.length > MAX_DATA_X_TICKS) {
    return log ? logAxis(low, high, X_TICK_TARGET) : linearAxis(low, high, X_TICK_TARGET);
  }
  if (low === high) {
    // One x value: centre it on an axis a decade (or one unit) wide either side.
    return log
      ? { low: low / 10, high: high * 10, ticks: values, log }
      : { low: low - 1, high: high + 1, ticks: values, log };
  }
  return { low, high, ticks: values, log };
}

function buildYAxis(points: ChartPoint[], log: boolean): Axis {
  const values = points.map((p) => p.y);
  const low = Math.min(...values);
  const high = Math.max(...values);
  return log
    ? logAxis(low, high, Y_TICK_TARGET)
    : linearAxis(Math.min(0, low), Math.max(0, high), Y_TICK_TARGET);
}

function distinctSorted(values: number[]): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}

/** Ticks every 1, 2 or 5 × 10^n, from the tick at or below `low` to the one at or above `high`. */
function linearAxis(low: number, high: number, target: number): Axis {
  const top = high > low ? high : low + 1;
  const step = niceStep((top - low) / target);
  const first = Math.floor(low / step.size + EPSILON);
  const last = Math.ceil(top / step.size - EPSILON);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(multipleOf(step, i));
  return {
    low: Math.min(low, ticks[0] ?? low),
    high: Math.max(top, ticks.at(-1) ?? top),
    ticks,
    log: false,
  };
}

interface Step {
  mantissa: 1 | 2 | 5 | 10;
  exponent: number;
  size: number;
}

function niceStep(rough: number): Step {
  const exponent = Math.floor(Math.log10(rough));
  const fraction = rough / powerOfTen(exponent);
  const mantissa = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return { mantissa, exponent, size: mantissa * powerOfTen(exponent) };
}

/** i × step, computed so that 3 × 0.1 comes out as 0.3. */
function multipleOf(step: Step, i: number): number {
  return step.exponent >= 0
    ? i * step.mantissa * 10 ** step.exponent
    : (i * step.mantissa) / 10 ** -step.exponent;
}

function powerOfTen(exponent: number): number {
  return exponent >= 0 ? 10 ** exponent : 1 / 10 ** -exponent;
}

/**
 * Ticks at powers of ten from the one at or below `low` to the one at or above `high`; within a
 * single decade also at 2 and 5 × 10^n, and over many decades only every few decades.
 */
function logAxis(low: number, high: number, target: number): Axis {
  const lowExponent = Math.floor(Math.log10(low));
  const decades = Math.max(1, Math.ceil(Math.log10(high)) - lowExponent);
  const stride = Math.ceil(decades / target);
  const highExponent = lowExponent + Math.ceil(decades / stride) * stride;
  const ticks: number[] = [];
  for (let e = lowExponent; e <= highExponent; e += stride) ticks.push(powerOfTen(e));
  if (decades === 1) ticks.splice(1, 0, 2 * powerOfTen(lowExponent), 5 * powerOfTen(lowExponent));
  return {
    low: Math.min(low, powerOfTen(lowExponent)),
    high: Math.max(high, powerOfTen(highExponent)),
    ticks,
    log: true,
  };
}

function scaleFor(axis: Axis, start: number, end: number): Scale {
  const position = axis.log
    ? (v: number) => (Math.log10(v) - Math.log10(axis.low)) / Math.log10(axis.high / axis.low)
    : (v: number) => (v - axis.low) / (axis.high - axis.low);
  return (value) => start + position(value) * (end - start);
}

function gridLines(xAxis: Axis, xScale: Scale, yAxis: Axis, yScale: Scale): string[] {
  const style = { stroke: '#e2e8f0', 'stroke-width': 1 };
  const vertical = xAxis.ticks.map((t) =>
    element('line', { x1: xScale(t), y1: PLOT.top, x2: xScale(t), y2: PLOT.bottom, ...style }),
  );
  const horizontal = yAxis.ticks.map((t) =>
    element('line', { x1: PLOT.left, y1: yScale(t), x2: PLOT.right, y2: yScale(t), ...style }),
  );
  return [...vertical, ...horizontal];
}

function xTickLabels(axis: Axis, scale: Scale, format: (x: number) => string): string[] {
  return axis.ticks.map((t) =>
    textElement(format(t), {
      class: 'x-tick',
      x: scale(t),
      y: PLOT.bottom + 16,
      'text-anchor': 'middle',
    }),
  );
}

function yTickLabels(axis: Axis, scale: Scale): string[] {
  return axis.ticks.map((t) =>
    textElement(formatNumber(t), {
      class: 'y-tick',
      x: PLOT.left - 6,
      y: scale(t),
      dy: '0.32em',
      'text-anchor': 'end',
    }),
  );
}

function axisLabels(chart: LineChart): string[] {
  const middleY = (PLOT.top + PLOT.bottom) / 2;
  return [
    textElement(chart.xLabel, {
      x: (PLOT.left + PLOT.right) / 2,
      y: PLOT.bottom + 40,
      'text-anchor': 'middle',
      'font-size': 12,
    }),
    textElement(chart.yLabel, {
      x: 18,
      y: middleY,
      transform: `rotate(-90 18 ${middleY})`,
      'text-anchor': 'middle',
      'font-size': 12,
    }),
  ];
}

function seriesGroup(
  series: PlottedSeries,
  xScale: Scale,
  yScale: Scale,
  formatX: (x: number) => string,
): string {
  const coordinates = series.points.map(
    (p) => `${coordinate(xScale(p.x))},${coordinate(yScale(p.y))}`,
  );
  const line = element('polyline', {
    points: coordinates.join(' '),
    fill: 'none',
    stroke: series.color,
    'stroke-width': 2,
  });
  const markers = series.points.map((p) =>
    element(
      'circle',
      { cx: xScale(p.x), cy: yScale(p.y), r: 3, fill: series.color },
      element('title', {}, escapeXml(`${series.name}: ${formatX(p.x)} → ${formatNumber(p.y)}`)),
    ),
  );
  return element('g', {}, [line, ...markers].join(''));
}

function legend(series: PlottedSeries[]): string[] {
  return series.map((s, row) => {
    const y = LEGEND.top + row * LEGEND.rowHeight;
    const shortName = truncate(s.name, LEGEND.nameLength);
    const label = s.points.length === 0 ? `${shortName} (no data)` : shortName;
    const parts = [
      element('line', {
        x1: LEGEND.left,
        y1: y,
        x2: LEGEND.left + 16,
        y2: y,
        stroke: s.color,
        'stroke-width': 2,
      }),
      element('circle', { cx: LEGEND.left + 8, cy: y, r: 3, fill: s.color }),
      textElement(label, { class: 'legend', x: LEGEND.left + 22, y, dy: '0.32em' }),
    ];
    // A shortened name keeps the whole one as the entry's tooltip.
    if (shortName !== s.name) parts.unshift(element('title', {}, escapeXml(s.name)));
    return element('g', {}, parts.join(''));
  });
}

function truncate(text: string, length: number): string {
  const characters = [...text];
  return characters.length <= length ? text : `${characters.slice(0, length - 1).join('')}…`;
}

/**
 * Numbers on ticks and in tooltips: thousands separators (1,200, never 1.2k) and at most twelve
 * significant digits, which hides float noise such as 0.30000000000000004.
 */
function formatNumber(value: number): string {
  const rounded = Number(value.toPrecision(12));
  const digits = Math.abs(rounded).toString();
  if (digits.includes('e')) return rounded.toString(); // beyond 1e21 or below 1e-6
  const [whole = '', fraction] = digits.split('.');
  const sign = rounded < 0 ? '-' : '';
  return `${sign}${groupThousands(whole)}${fraction === undefined ? '' : `.${fraction}`}`;
}

function groupThousands(digits: string): string {
  const groups: string[] = [];
  for (let end = digits.length; end > 0; end -= 3) {
    groups.unshift(digits.slice(Math.max(0, end - 3), end));
  }
  return groups.join(',');
}

/** Pixel positions to a tenth of a pixel: shorter output, same picture. */
function coordinate(value: number): string {
  return String(Math.round(value * 10) / 10);
}

function textElement(content: string, attributes: Attributes): string {
  return element('text', attributes, escapeXml(content));
}

/** `children` is markup, already escaped; without it the element is self-closing. */
function element(name: string, attributes: Attributes, children?: string): string {
  const attributeText = Object.entries(attributes)
    .map(([key, value]) => ` ${key}="${attributeValue(value)}"`)
    .join('');
  return children === undefined
    ? `<${name}${attributeText}/>`
    : `<${name}${attributeText}>${children}</${name}>`;
}

function attributeValue(value: string | number): string {
  return typeof value === 'number' ? coordinate(value) : escapeXml(value);
}

const XML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => XML_ENTITIES[character] ?? character);
}
