/**
 * Whether each Kafka broker is reachable, from the evidence kafkajs gives (a failed connection
 * attempt, an answer), reported as changes of state rather than per attempt: the first failure
 * after the broker last answered (or since start), the first answer after failures, and, once
 * per outage, failures that still go on after `escalateAfterMs`. A broker nobody tries to
 * reach (e.g. removed from the cluster's metadata) yields no evidence and no change.
 *
 * Pure state: the caller logs the changes. The clock is injectable for tests.
 */

export type BrokerChange =
  | { kind: 'unreachable'; broker: string; error: string }
  | {
      kind: 'still-unreachable';
      broker: string;
      error: string;
      downForMs: number;
      failedAttempts: number;
    }
  | { kind: 'reachable-again'; broker: string; downForMs: number; failedAttempts: number };

export interface BrokerReachabilityOptions {
  /** An outage whose attempts still fail after this long is reported again, once. */
  escalateAfterMs: number;
  now?: () => number;
}

interface Outage {
  since: number;
  failedAttempts: number;
  escalated: boolean;
}

export class BrokerReachability {
  /** Only the brokers that are unreachable now: bounded by the cluster's size. */
  private readonly outages = new Map<string, Outage>();
  private readonly now: () => number;

  constructor(private readonly options: BrokerReachabilityOptions) {
    this.now = options.now ?? (() => Date.now());
  }

  /** A connection attempt to `broker` (host:port) failed with `error`. */
  failed(broker: string, error: string): BrokerChange | undefined {
    const now = this.now();
    const outage = this.outages.get(broker);
    if (!outage) {
      this.outages.set(broker, { since: now, failedAttempts: 1, escalated: false });
      return { kind: 'unreachable', broker, error };
    }
    outage.failedAttempts += 1;
    const downForMs = now - outage.since;
    if (outage.escalated || downForMs < this.options.escalateAfterMs) return undefined;
    outage.escalated = true;
    return {
      kind: 'still-unreachable',
      broker,
      error,
      downForMs,
      failedAttempts: outage.failedAttempts,
    };
  }

  /** `broker` answered on a connection. */
  answered(broker: string): BrokerChange | undefined {
    const outage = this.outages.get(broker);
    if (!outage) return undefined;
    this.outages.delete(broker);
    return {
      kind: 'reachable-again',
      broker,
      downForMs: this.now() - outage.since,
      failedAttempts: outage.failedAttempts,
    };
  }

  /** The brokers whose last evidence was a failure. */
  unreachable(): string[] {
    return [...this.outages.keys()];
  }
}
