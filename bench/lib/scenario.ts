/**
 * What a scenario is: a named measurement that run.ts repeats, and the context it runs in.
 * A scenario creates what it needs (topics, processes) and removes it before it returns.
 */
import type { BridgeAvailability } from '../bridge/bridge';
import type { Profile } from './options';

export interface Context {
  readonly brokers: string[];
  readonly profile: Profile;
  /** Folder of Kafka's jars (kafka-tools). */
  readonly kafkaLibs: string;
  readonly bridge: BridgeAvailability;
  /** A topic filled once per bench run, read by the consumer scenarios. */
  readonly prefilledTopic: string;
  /** Set with --profile: our services write CPU profiles here. */
  readonly cpuProfileDir: string | undefined;
  /** 1-based repetition number. */
  readonly round: number;
  /** A name no other topic, group or label of this bench run has. */
  unique(prefix: string): string;
  log(line: string): void;
}

/** One repetition's figures: numbers by field name (see FIELDS in report.ts). */
export type Figures = Record<string, number | undefined>;

export interface Measurement {
  figures: Figures;
  notes?: string[];
}

export type Group =
  'kafka-tools' | 'raw' | 'api' | 'floor' | 'bridge' | 'consumer' | 'e2e' | 'lifecycle' | 'sweep';

export interface Ratio {
  /** e.g. "ours ÷ raw kafkajs" */
  label: string;
  /** The scenario whose figure is the denominator. */
  over: string;
  /** The figure compared on both sides; each scenario's primary figure when not given. */
  field?: string;
}

/** A scenario that is one point of a sweep: how a figure grows with one setting. */
export interface SweepPoint {
  sweep: 'value-size' | 'concurrency' | 'consumer-partitions';
  /** The line of the chart this point belongs to, e.g. "our API". */
  series: string;
  /** The setting swept: value bytes, connections, partitions consumed at once. */
  x: number;
}

export interface Scenario {
  /** Stable id: --only, the JSON and the CI test use it. */
  id: string;
  /** Table numbering as in issue 7 (1a, 2b, 3a, ...). */
  ref: string;
  title: string;
  group: Group;
  /** The figure the table leads with and ratios use. */
  primary: string;
  /** Larger is better (throughput) or smaller is better (latency, pauses). */
  better: 'higher' | 'lower';
  ratios?: Ratio[];
  sweep?: SweepPoint;
  /** A reason the scenario cannot run here (e.g. the Bridge's jars are missing). */
  unavailable?(ctx: Context): string | undefined;
  run(ctx: Context): Promise<Measurement>;
}
