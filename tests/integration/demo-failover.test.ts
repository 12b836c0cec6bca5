/**
 * `npm run demo:failover -- --short` runs to its end: the leader of events-0 is killed, a
 * follower takes over, the broker comes back into the ISR and gets leadership back, and the
 * ledger says nothing acknowledged was lost.
 */
import { expectNothingLost, runShortDemo, type DemoRun } from '../support/demo';

jest.setTimeout(300_000);

let run: DemoRun;

beforeAll(async () => {
  run = await runShortDemo('failover', 280_000);
}, 300_000);

test('it ends with exit 0 and a ledger with zero lost', () => {
  expectNothingLost(run);
  expect(run.output).toMatch(/^Stopped the services and Kafka\.$/m);
});

test('it tells the failover: a follower takes over, the broker returns in sync and leads again', () => {
  const killed = /^\[ *[\d.]+s\] broker (\d) killed with SIGKILL/m.exec(run.output)?.[1];
  expect(killed).toBeDefined();
  const takeover = /^\[ *[\d.]+s\] broker (\d), a follower until now, leads events-0 /m.exec(
    run.output,
  )?.[1];
  expect(takeover).toBeDefined();
  expect(takeover).not.toBe(killed);
  expect(run.output).toMatch(
    new RegExp(`^\\[ *[\\d.]+s\\] broker ${killed} is back in sync `, 'm'),
  );
  expect(run.output).toContain(
    'Successfully completed leader election (PREFERRED) for partitions events-0',
  );
  expect(run.output).toMatch(
    new RegExp(
      `events-0: leader ${killed}, replicas [\\d,]+, in sync [\\d,]{5}: as before the kill`,
    ),
  );
});
