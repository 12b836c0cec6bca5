/**
 * Where the time went in a .cpuprofile (node --cpu-prof, see `npm run bench -- --profile`):
 * self time by function and by package/file, idle time left out.
 *
 *   node dist/bench/tools/profile-summary.js reports/bench/profiles/<file>.cpuprofile [top]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Entry {
  name: string;
  ms: number;
  share: number;
}

function where(url: string): string {
  if (url === '') return '(native/V8)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1] ?? url;
  if (url.startsWith('node:')) return url;
  const ours = /\/(services|bench|scripts)\/(.*)$/.exec(url);
  return ours ? `${ours[1]}/${ours[2]}` : url;
}

export function summarize(
  profile: CpuProfile,
  top = 25,
): { total: number; byFunction: Entry[]; byPlace: Entry[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) =>
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000),
  );
  const fn = new Map<string, number>();
  const place = new Map<string, number>();
  let total = 0;
  for (const [id, ms] of self) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    total += ms;
    const key = `${functionName || '(anonymous)'} ${where(url)}${url ? `:${lineNumber + 1}` : ''}`;
    fn.set(key, (fn.get(key) ?? 0) + ms);
    const p = functionName.startsWith('(') ? functionName : where(url);
    place.set(p, (place.get(p) ?? 0) + ms);
  }
  const sorted = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, ms, share: total > 0 ? ms / total : 0 }));
  return { total, byFunction: sorted(fn), byPlace: sorted(place) };
}

if (require.main === module) {
  const [file, topArg] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: profile-summary.js <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  const result = summarize(
    JSON.parse(readFileSync(file, 'utf8')) as CpuProfile,
    Number(topArg ?? 25),
  );
  const show = (title: string, entries: Entry[]) => {
    process.stdout.write(`\n${title}\n`);
    for (const e of entries) {
      process.stdout.write(
        `${e.ms.toFixed(0).padStart(8)} ms ${(e.share * 100).toFixed(1).padStart(5)}%  ${e.name}\n`,
      );
    }
  };
  process.stdout.write(`busy (non-idle) CPU time: ${result.total.toFixed(0)} ms\n`);
  show('by package / file (self time)', result.byPlace);
  show('by function (self time)', result.byFunction);
}
