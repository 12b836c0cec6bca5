import { CommitFailureLog } from '../../services/consumer/commit-failure-log';
import { capturedLogger } from '../support/captured-logger';

const levelsAndMessages = (lines: Array<{ level: string; msg: string }>) =>
  lines.map(({ level, msg }) => `${level}: ${msg}`);

describe('forced commit failures in the log', () => {
  test('a run of failures is one warning, its recovery one info line, and a new run warns again', () => {
    const { logger, lines } = capturedLogger('consumer');
    const log = new CommitFailureLog(logger);
    const lostCoordinator = new Error('Broker 2 not found in the cached metadata');

    log.committed(); // a commit while nothing failed says nothing
    log.failed(lostCoordinator, 'heartbeat failed');
    for (let attempt = 0; attempt < 6; attempt += 1)
      log.failed(lostCoordinator, 'heartbeat failed');
    log.committed();
    log.committed();
    log.failed(new Error('Connection error'), 'stop');

    expect(levelsAndMessages(lines)).toEqual([
      'warn: could not commit the handled offsets; what was handled since the last commit will be handled again unless a later commit lands',
      ...Array<string>(6).fill('debug: offset commit failed again'),
      'info: offset commits work again',
      'warn: could not commit the handled offsets; what was handled since the last commit will be handled again unless a later commit lands',
    ]);
    expect(lines[0]).toMatchObject({
      reason: 'heartbeat failed',
      err: { message: lostCoordinator.message },
    });
    expect(lines.at(-1)).toMatchObject({ reason: 'stop' });
  });
});
