import { KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { crashLog } from '../../services/consumer/crash-log';

function protocolError(type: string): KafkaJSProtocolError {
  return new KafkaJSProtocolError({
    message: type,
    type,
    code: 14,
    retriable: true,
  } as unknown as Error);
}

describe('consumer crash log levels', () => {
  const loading = new KafkaJSNumberOfRetriesExceeded(
    protocolError('COORDINATOR_LOAD_IN_PROGRESS'),
    {
      retryCount: 5,
      retryTime: 100,
    },
  );

  test('a coordinator still starting before the first join is info (a normal start warns of nothing)', () => {
    expect(crashLog(loading, true, false).level).toBe('info');
    expect(crashLog(protocolError('NOT_COORDINATOR'), true, false).level).toBe('info');
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
