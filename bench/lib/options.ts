/**
 * Command line of `npm run bench` and the two profiles: full (the published table) and quick
 * (CI: proves the harness works, a few seconds a scenario).
 *
 *   --quick               the quick profile (one repetition, small counts)
 *   --only a,b            run only these scenarios (ids or groups, see `--list`)
 *   --repeat N            repetitions of each scenario (full: 3, quick: 1)
 *   --brokers h:p,...     use this Kafka instead of starting one (topics are made and deleted)
 *   --bridge-libs DIR     Kafka Bridge jars from elsewhere (default: fetched with Maven)
 *   --no-bridge           skip the Bridge (its rows say so)
 *   --out DIR             where results.json/results.md go (full: reports/bench, quick: reports/bench/quick)
 *   --profile             run our services with node --cpu-prof (profiles in <out>/profiles)
 *   --machine-node        run every Node process on this machine's Node, not the images'
 *                         (the Dockerfile's NODE_VERSION, fetched once; the default)
 *   --list                print the scenarios and exit
 */

export interface Profile {
  name: 'full' | 'quick';
  repeats: number;
  toolProducer: { warmup: number; messages: number };
  rawProducer: { warmup: number; messages: number };
  /** 3a: 100 messages per request over 32 connections. */
  api100: { warmupRequests: number; requests: number };
  /** 3b: one message per request over 64 connections. */
  api1: { warmupRequests: number; requests: number };
  consume: { warmup: number; messages: number };
  e2e: { rate: number; warmupSec: number; durationSec: number };
  lifecycle: {
    /** Load before the producer gets SIGTERM. */
    loadBeforeSignalMs: number;
    /** Consumer group settings for the rebalance scenarios; undefined: the service defaults. */
    sessionTimeoutMs: number | undefined;
    heartbeatIntervalMs: number | undefined;
    /** Messages per second streamed while the group rebalances. */
    trickleRate: number;
  };
}

export const FULL: Profile = {
  name: 'full',
  repeats: 3,
  toolProducer: { warmup: 50_000, messages: 200_000 },
  rawProducer: { warmup: 20_000, messages: 100_000 },
  api100: { warmupRequests: 200, requests: 1_000 },
  api1: { warmupRequests: 3_000, requests: 20_000 },
  consume: { warmup: 50_000, messages: 500_000 },
  e2e: { rate: 1_000, warmupSec: 5, durationSec: 30 },
  lifecycle: {
    loadBeforeSignalMs: 3_000,
    sessionTimeoutMs: undefined,
    heartbeatIntervalMs: undefined,
    trickleRate: 200,
  },
};

export const QUICK: Profile = {
  name: 'quick',
  repeats: 1,
  toolProducer: { warmup: 5_000, messages: 20_000 },
  rawProducer: { warmup: 3_000, messages: 10_000 },
  // At least one request per connection in each run (autocannon insists).
  api100: { warmupRequests: 64, requests: 200 },
  api1: { warmupRequests: 1_000, requests: 3_000 },
  consume: { warmup: 3_000, messages: 20_000 },
  e2e: { rate: 1_000, warmupSec: 1, durationSec: 4 },
  lifecycle: {
    loadBeforeSignalMs: 1_000,
    // The smallest session timeout the consumer accepts, so the SIGKILL case ends soon.
    sessionTimeoutMs: 6_000,
    heartbeatIntervalMs: 2_000,
    trickleRate: 200,
  },
};

export interface Options {
  profile: Profile;
  only: string[] | undefined;
  brokers: string[] | undefined;
  bridgeLibs: string | undefined;
  bridge: boolean;
  outDir: string | undefined;
  cpuProfile: boolean;
  /** Run on this machine's Node instead of the images' (the report says which ran). */
  machineNode: boolean;
  list: boolean;
}

export const USAGE =
  'usage: node dist/bench/run.js [--quick] [--only id,...] [--repeat N] [--brokers h:p,...] ' +
  '[--bridge-libs DIR] [--no-bridge] [--out DIR] [--profile] [--machine-node] [--list]';

export function parseArgs(argv: string[]): Options {
  let quick = false;
  let repeat: number | undefined;
  const options: Omit<Options, 'profile'> = {
    only: undefined,
    brokers: undefined,
    bridgeLibs: undefined,
    bridge: true,
    outDir: undefined,
    cpuProfile: false,
    machineNode: false,
    list: false,
  };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    const value = () => {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value\n${USAGE}`);
      i += 1;
      return v;
    };
    switch (flag) {
      case '--quick':
        quick = true;
        break;
      case '--only':
        options.only = value()
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
        break;
      case '--repeat': {
        const v = value();
        if (!/^[1-9]\d*$/.test(v)) throw new Error(`--repeat must be a positive integer\n${USAGE}`);
        repeat = Number(v);
        break;
      }
      case '--brokers':
        options.brokers = value()
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
        break;
      case '--bridge-libs':
        options.bridgeLibs = value();
        break;
      case '--no-bridge':
        options.bridge = false;
        break;
      case '--out':
        options.outDir = value();
        break;
      case '--profile':
        options.cpuProfile = true;
        break;
      case '--machine-node':
        options.machineNode = true;
        break;
      case '--list':
        options.list = true;
        break;
      case '--help':
      case '-h':
        throw new Error(USAGE);
      default:
        throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
  }
  const base = quick ? QUICK : FULL;
  return { ...options, profile: { ...base, repeats: repeat ?? base.repeats } };
}
