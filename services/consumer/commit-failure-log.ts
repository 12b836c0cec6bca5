/**
 * What an operator reads of the forced commits that fail (on a failed heartbeat, a rebalance,
 * a stop): one warning when they start failing, not one per attempt (a lost group
 * coordinator fails every attempt until a new one is elected, several a second), and one
 * line when a commit lands again.
 */
import type { Logger } from '../common/logger';

export type ForcedCommitReason = 'rebalance' | 'heartbeat failed' | 'stop';

export class CommitFailureLog {
  private failing = false;

  constructor(private readonly logger: Logger) {}

  failed(error: unknown, reason: ForcedCommitReason): void {
    if (this.failing) {
      this.logger.debug({ err: error, reason }, 'offset commit failed again');
      return;
    }
    this.failing = true;
    this.logger.warn(
      { err: error, reason },
      'could not commit the handled offsets; what was handled since the last commit will be handled again unless a later commit lands',
    );
  }

  committed(): void {
    if (!this.failing) return;
    this.failing = false;
    this.logger.info('offset commits work again');
  }
}
