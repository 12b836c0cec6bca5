/**
 * `npm run demo:scale -- --short` runs to its end: the group grows from one member to three,
 * each partition owned by exactly one member, shrinks to two when consumer-b gets SIGTERM
 * (which exits 0), and the ledger says nothing acknowledged was lost.
 */
import { expectNothingLost, runShortDemo, type DemoRun } from '../support/demo';

jest.setTimeout(240_000);

let run: DemoRun;

beforeAll(async () => {
  run = await runShortDemo('scale', 220_000);
}, 240_000);

/** The member tables of the story, in order: member name → its partitions. */
function memberTables(output: string): Array<Map<string, number[]>> {
  const tables: Array<Map<string, number[]>> = [];
  let current: Map<string, number[]> | undefined;
  for (const line of output.split('\n')) {
    if (/^ +member +partitions of events$/.test(line)) {
      current = new Map();
      tables.push(current);
      continue;
    }
    const row = /^ +(consumer-[abc]) +([\d,]+)$/.exec(line);
    if (current !== undefined && row?.[1] !== undefined && row[2] !== undefined) {
      current.set(row[1], row[2].split(',').map(Number));
    } else {
      current = undefined;
    }
  }
  return tables;
}

test('it ends with exit 0 and a ledger with zero lost', () => {
  expectNothingLost(run);
});

test('the group goes from one member to three and back to two, every partition owned once', () => {
  const tables = memberTables(run.output);
  expect(tables.map((t) => [...t.keys()].join(' '))).toEqual([
    'consumer-a',
    'consumer-a consumer-b',
    'consumer-a consumer-b consumer-c',
    'consumer-a consumer-c',
  ]);
  for (const table of tables) {
    expect([...table.values()].flat().sort()).toEqual([0, 1, 2, 3, 4, 5]);
  }
  expect(run.output).toMatch(
    /consumer-b finished the message in hand, committed its offsets and left the group: exit 0 /,
  );
  expect(run.output).toMatch(/moved: events-\d {2}consumer-b -> consumer-[ac]/);
});
