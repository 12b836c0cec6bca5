/**
 * What the load generator sent and what came back, message by message: the proof that no
 * acknowledged message was lost and that the only client errors were retriable 503s.
 * Pure: tests/unit/e2e-ledger.test.ts.
 */

export interface Ack {
  partition: number;
  offset: string;
}

export interface LedgerEntry {
  seq: number;
  /** 503 answers this message got before its final outcome (each was retried). */
  retried503: number;
  acked?: Ack;
  /** A final failure: any answer but 200 and 503, a 503 past the retry budget, or a transport error. */
  failure?: string;
}

export interface LedgerSummary {
  sent: number;
  acked: number;
  retried503: number;
  failures: Array<{ seq: number; failure: string }>;
  /** Sent, but neither acknowledged nor failed: the load was cut off (should be 0). */
  unanswered: number;
}

export class Ledger {
  private readonly entries = new Map<number, LedgerEntry>();

  constructor(readonly runId: string) {}

  private entry(seq: number): LedgerEntry {
    let entry = this.entries.get(seq);
    if (entry === undefined) {
      entry = { seq, retried503: 0 };
      this.entries.set(seq, entry);
    }
    return entry;
  }

  sent(seq: number): void {
    this.entry(seq);
  }

  retried503(seq: number): void {
    this.entry(seq).retried503 += 1;
  }

  ack(seq: number, ack: Ack): void {
    const entry = this.entry(seq);
    if (entry.acked !== undefined || entry.failure !== undefined) {
      throw new Error(`message ${seq} already has an outcome`);
    }
    entry.acked = ack;
  }

  fail(seq: number, failure: string): void {
    const entry = this.entry(seq);
    if (entry.acked !== undefined || entry.failure !== undefined) {
      throw new Error(`message ${seq} already has an outcome`);
    }
    entry.failure = failure;
  }

  summary(): LedgerSummary {
    const all = [...this.entries.values()];
    return {
      sent: all.length,
      acked: all.filter((e) => e.acked !== undefined).length,
      retried503: all.reduce((n, e) => n + e.retried503, 0),
      failures: all
        .filter((e) => e.failure !== undefined)
        .map((e) => ({ seq: e.seq, failure: e.failure ?? '' })),
      unanswered: all.filter((e) => e.acked === undefined && e.failure === undefined).length,
    };
  }

  /** Acknowledged messages per partition: [offset, seq], by offset. */
  ackedByPartition(): Map<number, Array<{ offset: bigint; seq: number }>> {
    const result = new Map<number, Array<{ offset: bigint; seq: number }>>();
    for (const entry of this.entries.values()) {
      if (entry.acked === undefined) continue;
      const list = result.get(entry.acked.partition) ?? [];
      list.push({ offset: BigInt(entry.acked.offset), seq: entry.seq });
      result.set(entry.acked.partition, list);
    }
    for (const list of result.values()) list.sort((a, b) => (a.offset < b.offset ? -1 : 1));
    return result;
  }

  /**
   * Acknowledged messages not found where the producer API said they were: `found` maps
   * "partition:offset" to the seq of this run's message read there.
   */
  lost(found: ReadonlyMap<string, number>): Array<{ seq: number; at: string; found?: number }> {
    const lost: Array<{ seq: number; at: string; found?: number }> = [];
    for (const entry of this.entries.values()) {
      if (entry.acked === undefined) continue;
      const at = `${entry.acked.partition}:${entry.acked.offset}`;
      const there = found.get(at);
      if (there !== entry.seq)
        lost.push({ seq: entry.seq, at, ...(there === undefined ? {} : { found: there }) });
    }
    return lost.sort((a, b) => a.seq - b.seq);
  }

  /** The message body part of one message of this run. */
  message(seq: number): { key: string; value: { e2e: string; seq: number } } {
    return { key: `${this.runId}-${seq % 97}`, value: { e2e: this.runId, seq } };
  }
}

/** The seq of a message of run `runId` from its value, or undefined for anything else. */
export function seqOf(value: string | null | undefined, runId: string): number | undefined {
  if (value == null) return undefined;
  try {
    const parsed = JSON.parse(value) as { e2e?: unknown; seq?: unknown };
    return parsed.e2e === runId && typeof parsed.seq === 'number' ? parsed.seq : undefined;
  } catch {
    return undefined;
  }
}
