import { KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { errorCodes } from 'kafkajs/src/protocol/error';
import { crashLog } from '../../services/consumer/crash-log';

/** The error kafkajs makes of a broker's error code, from kafkajs' own table (its own names). */
function protocolError(code: number): KafkaJSProtocolError {
  const entry = errorCodes.find((known) => known.code === code);
  if (!entry) throw new Error(`no Kafka error code ${code} in kafkajs`);
  // kafkajs' constructor takes the table's entry; its type says Error.
  return new KafkaJSProtocolError(entry as unknown as Error);
}

describe('consumer crash log levels', () => {
  const loading = new KafkaJSNumberOfRetriesExceeded(
    // COORDINATOR_LOAD_IN_PROGRESS, as a broker that has just started answers a JoinGroup.
    protocolError(14),
    {
      retryCount: 5,
      retryTime: 100,
    },
  );

  test('a coordinator still starting before the first join is info (a normal start warns of nothing)', () => {
    expect(crashLog(loading, true, false).level).toBe('info');
    expect(crashLog(protocolError(14), true, false).level).toBe('info');
    expect(crashLog(protocolError(15), true, false).level).toBe('info');
    expect(crashLog(protocolError(16), true, false).level).toBe('info');
  });

  test('after a join, or for another cause, a restarted crash is a warning; a final one an error', () => {
    expect(crashLog(loading, true, true).level).toBe('warn');
    expect(crashLog(new Error('Connection error'), true, false).level).toBe('warn');
    expect(crashLog(loading, false, false)).toEqual({
      level: 'error',
      message: 'consumer crashed for good',
    });
  });
});
