/**
 * The Prometheus text format, as much as the suite reads: samples with labels, and sums over
 * the samples that match some labels. Pure: tests/unit/e2e-metrics.test.ts.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;

export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (match === null) throw new Error(`not a Prometheus sample: ${line}`);
    const [, name = '', labelText = '', valueText = ''] = match;
    samples.push({ name, labels: parseLabels(labelText), value: parseValue(valueText) });
  }
  return samples;
}

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  const value = Number(text);
  if (Number.isNaN(value)) throw new Error(`not a sample value: ${text}`);
  return value;
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const nameMatch = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"/.exec(text.slice(i));
    if (nameMatch === null) {
      if (/^\s*,?\s*$/.test(text.slice(i))) break;
      throw new Error(`bad labels: {${text}}`);
    }
    i += nameMatch[0].length;
    let value = '';
    for (; i < text.length && text[i] !== '"'; i += 1) {
      if (text[i] === '\\') {
        i += 1;
        const c = text[i];
        value += c === 'n' ? '\n' : (c ?? '');
      } else {
        value += text[i];
      }
    }
    if (text[i] !== '"') throw new Error(`unterminated label value: {${text}}`);
    i += 1;
    labels[nameMatch[1] ?? ''] = value;
    const rest = /^\s*,?/.exec(text.slice(i));
    i += rest?.[0].length ?? 0;
  }
  return labels;
}

export function matching(
  samples: readonly Sample[],
  name: string,
  labels: Readonly<Record<string, string>> = {},
): Sample[] {
  return samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

/** Sum of the matching samples; 0 when there are none. */
export function sum(
  samples: readonly Sample[],
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  return matching(samples, name, labels).reduce((total, s) => total + s.value, 0);
}

/** The names of series the text declares or has samples of. */
export function seriesNames(samples: readonly Sample[]): Set<string> {
  return new Set(samples.map((s) => s.name));
}
