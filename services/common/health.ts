/**
 * Liveness and readiness as named checks. Readiness turns false the moment shutdown
 * starts; liveness never depends on Kafka (a restart would not bring a broker back).
 */
export interface CheckResult {
  ok: boolean;
  detail?: string;
}

export interface HealthReport {
  ok: boolean;
  checks: Record<string, CheckResult>;
}

type Check = () => CheckResult;

export class Health {
  private shuttingDown = false;
  private readonly readinessChecks = new Map<string, Check>();
  private readonly livenessChecks = new Map<string, Check>();

  addReadinessCheck(name: string, check: Check): this {
    this.readinessChecks.set(name, check);
    return this;
  }

  addLivenessCheck(name: string, check: Check): this {
    this.livenessChecks.set(name, check);
    return this;
  }

  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  readiness(): HealthReport {
    const report = evaluate(this.readinessChecks);
    if (this.shuttingDown) {
      report.checks['shutdown'] = { ok: false, detail: 'shutting down' };
      report.ok = false;
    }
    return report;
  }

  liveness(): HealthReport {
    return evaluate(this.livenessChecks);
  }
}

function evaluate(checks: Map<string, Check>): HealthReport {
  const report: HealthReport = { ok: true, checks: {} };
  for (const [name, check] of checks) {
    let result: CheckResult;
    try {
      result = check();
    } catch (error) {
      result = { ok: false, detail: error instanceof Error ? error.message : String(error) };
    }
    report.checks[name] = result;
    if (!result.ok) report.ok = false;
  }
  return report;
}
