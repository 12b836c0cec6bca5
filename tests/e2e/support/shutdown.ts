/**
 * A service's shutdown as its own JSON log lines tell it (services/common/lifecycle.ts logs
 * "shutting down" when the signal arrives and "stopped" with the exit code at the end), timed
 * from the moment the pod was deleted. Pure: tests/unit/e2e-shutdown.test.ts.
 */
export interface ShutdownTimeline {
  /** What the process was told to stop by ("SIGTERM" from the kubelet). */
  reason: string;
  /** From the deletion to the signal: the preStop hook runs first. */
  signalAfterMs: number;
  /** From the deletion to the process's last line. */
  stoppedAfterMs: number;
  exitCode: number;
}

interface LogEntry {
  /** pino's epoch milliseconds, or an ISO 8601 string (the services' logger writes those). */
  time?: number | string;
  msg?: string;
  reason?: string;
  exitCode?: number;
}

function timeOf(entry: LogEntry | undefined): number | undefined {
  if (entry?.time === undefined) return undefined;
  const ms = typeof entry.time === 'number' ? entry.time : Date.parse(entry.time);
  return Number.isFinite(ms) ? ms : undefined;
}

function entries(lines: readonly string[]): LogEntry[] {
  return lines.flatMap((line) => {
    try {
      const entry = JSON.parse(line) as unknown;
      return entry !== null && typeof entry === 'object' ? [entry as LogEntry] : [];
    } catch {
      return []; // not one of the service's JSON lines
    }
  });
}

/** The timeline, or what is missing from the log to tell it. */
export function shutdownTimeline(
  lines: readonly string[],
  deletedAtMs: number,
): ShutdownTimeline | string {
  const log = entries(lines);
  const signal = log.find((e) => e.msg === 'shutting down');
  const stopped = log.find((e) => e.msg === 'stopped');
  const signalledAt = timeOf(signal);
  const stoppedAt = timeOf(stopped);
  if (signalledAt === undefined) return 'no "shutting down" line with a time in the log';
  if (stoppedAt === undefined || stopped?.exitCode === undefined)
    return 'no "stopped" line with a time and an exit code in the log';
  return {
    reason: signal?.reason ?? '?',
    signalAfterMs: signalledAt - deletedAtMs,
    stoppedAfterMs: stoppedAt - deletedAtMs,
    exitCode: stopped.exitCode,
  };
}
