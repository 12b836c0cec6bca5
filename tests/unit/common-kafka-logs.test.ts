/**
 * kafkajs' log entries as they reach our pino logs, through the Kafka client configuration
 * the services use (issue 15, "What a newcomer sees on a normal start"): retries of expected,
 * transient conditions are not errors, and a broker that refuses connections is said once,
 * not once per attempt. The entries are shaped exactly as kafkajs 2.2.4 builds them.
 */
import { createServer, type Server } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { logLevel, type KafkaConfig, type LogEntry } from 'kafkajs';
import { loadConsumerConfig } from '../../services/common/config';
import { BROKER_UNREACHABLE_ERROR_AFTER_MS, kafkaClientConfig } from '../../services/common/kafka';
import { capturedLogger, type LogLine } from '../support/captured-logger';

const LEVEL_LABELS: Record<number, string> = {
  [logLevel.ERROR]: 'ERROR',
  [logLevel.WARN]: 'WARN',
  [logLevel.INFO]: 'INFO',
  [logLevel.DEBUG]: 'DEBUG',
};

function logOf(config: KafkaConfig): (entry: LogEntry) => void {
  if (!config.logCreator) throw new Error('the Kafka client configuration has no logCreator');
  return config.logCreator(logLevel.INFO);
}

/** A kafkajs client's log function and the pino lines it wrote (at debug, so nothing is dropped). */
function kafkajsLog(): { log: (entry: LogEntry) => void; lines: LogLine[] } {
  const { logger, lines } = capturedLogger('consumer');
  return { log: logOf(kafkaClientConfig(loadConsumerConfig({}), logger)), lines };
}

function entry(
  namespace: string,
  level: logLevel,
  message: string,
  extra: Record<string, unknown> = {},
): LogEntry {
  return {
    namespace,
    level,
    label: LEVEL_LABELS[level] ?? 'INFO',
    log: { timestamp: new Date().toISOString(), logger: 'kafkajs', message, ...extra },
  };
}

const BROKER = '127.0.0.1:9094';
const clientId = 'event-pipeline-consumer';

/** What kafkajs' Connection logs when a response carries a protocol error. */
const response = (api: string, error: string) =>
  entry('Connection', logLevel.ERROR, `Response ${api}`, {
    broker: BROKER,
    clientId,
    error,
    correlationId: 3,
    size: 32,
  });

const refused = () =>
  entry('Connection', logLevel.ERROR, `Connection error: connect ECONNREFUSED ${BROKER}`, {
    broker: BROKER,
    clientId,
    stack: `Error: connect ECONNREFUSED ${BROKER}\n    at TCPConnectWrap.afterConnect`,
  });

const atOrAbove = (lines: LogLine[], levels: string[]) =>
  lines.filter((l) => levels.includes(l.level));

describe("kafkajs' log entries in our logs", () => {
  it('retriable protocol errors while the brokers elect coordinators are debug, not errors', () => {
    const { log, lines } = kafkajsLog();
    log(response('InitProducerId(key: 22, version: 1)', 'The group coordinator is not available'));
    log(
      response('GroupCoordinator(key: 10, version: 2)', 'The group coordinator is not available'),
    );
    log(
      response(
        'OffsetFetch(key: 9, version: 3)',
        "The coordinator is loading and hence can't process requests for this group",
      ),
    );
    log(
      response(
        'Metadata(key: 3, version: 6)',
        'There is no leader for this topic-partition as we are in the middle of a leadership election',
      ),
    );
    log(
      response(
        'Produce(key: 0, version: 7)',
        'This server is not the leader for that topic-partition',
      ),
    );
    expect(lines).toHaveLength(5);
    expect(atOrAbove(lines, ['error', 'warn'])).toEqual([]);
    // Still there for whoever looks at debug, with kafkajs' own fields.
    expect(lines[0]).toMatchObject({
      level: 'debug',
      component: 'kafkajs',
      msg: 'Response InitProducerId(key: 22, version: 1)',
      broker: BROKER,
      error: 'The group coordinator is not available',
    });
  });

  it("errors kafkajs handles by rejoining the group are not errors (its runner says it's rejoining)", () => {
    const { log, lines } = kafkajsLog();
    log(
      response('Heartbeat(key: 12, version: 3)', 'The group is rebalancing, so a rejoin is needed'),
    );
    log(response('OffsetCommit(key: 8, version: 5)', 'Specified group generation id is not valid'));
    log(
      entry('Runner', logLevel.WARN, 'The group is rebalancing, re-joining', {
        groupId: 'event-consumer',
        memberId: 'm-1',
        error: 'The group is rebalancing, so a rejoin is needed',
      }),
    );
    expect(atOrAbove(lines, ['error', 'warn'])).toEqual([]);
  });

  it('non-retriable protocol errors and errors nobody recognises stay errors', () => {
    const { log, lines } = kafkajsLog();
    log(
      response(
        'Produce(key: 0, version: 7)',
        'Not authorized to access topics: [Topic authorization failed]',
      ),
    );
    log(response('Fetch(key: 1, version: 11)', 'Unknown error code 999'));
    log(
      entry('Consumer', logLevel.ERROR, 'Crash: KafkaJSNonRetriableError: something broke', {
        groupId: 'g',
      }),
    );
    log(entry('Somewhere', logLevel.ERROR, 'a message this mapping has never seen'));
    expect(lines.map((l) => l.level)).toEqual(['error', 'error', 'error', 'error']);
  });

  it('a broker refusing connections is one warning for the whole outage; the attempts are debug', () => {
    const { log, lines } = kafkajsLog();
    for (let attempt = 0; attempt < 48; attempt += 1) {
      log(refused());
      log(
        entry(
          'BrokerPool',
          logLevel.ERROR,
          `Failed to connect to seed broker, trying another broker from the list: Connection error: connect ECONNREFUSED ${BROKER}`,
          { retryCount: attempt, retryTime: 300 },
        ),
      );
      log(
        entry(
          'Producer',
          logLevel.ERROR,
          `Failed to send messages: Connection error: connect ECONNREFUSED ${BROKER}`,
          {
            retryCount: attempt,
            retryTime: 300,
          },
        ),
      );
      log(entry('Connection', logLevel.ERROR, 'Connection timeout', { broker: BROKER, clientId }));
    }
    expect(atOrAbove(lines, ['error'])).toEqual([]);
    const warnings = atOrAbove(lines, ['warn']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ broker: BROKER });
  });

  it('kafkajs info lines are debug for us, as before', () => {
    const { log, lines } = kafkajsLog();
    log(entry('Consumer', logLevel.INFO, 'Starting', { groupId: 'event-consumer' }));
    expect(lines).toMatchObject([{ level: 'debug', msg: 'Starting', groupId: 'event-consumer' }]);
  });

  it('a broker that answers on a new connection is "reachable again", once', async () => {
    const { logger, lines } = capturedLogger('consumer');
    const config = kafkaClientConfig(loadConsumerConfig({}), logger);
    const log = logOf(config);
    // Stands in for a broker: it answers (any bytes) on every connection.
    const server: Server = createServer((socket) => socket.end('answer'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      const broker = `127.0.0.1:${port}`;
      log(
        entry('Connection', logLevel.ERROR, `Connection error: connect ECONNREFUSED ${broker}`, {
          broker,
        }),
      );
      const connectOnce = () =>
        new Promise<void>((resolve, reject) => {
          const socket = config.socketFactory?.({
            host: '127.0.0.1',
            port,
            // kafkajs passes its `ssl` setting as it is, false without TLS (its type says otherwise).
            ssl: false as unknown as ConnectionOptions,
            onConnect: () => undefined,
          });
          if (!socket) return reject(new Error('no socketFactory'));
          socket.on('error', reject);
          socket.on('data', () => undefined);
          socket.on('close', () => resolve());
        });
      await connectOnce();
      await connectOnce();
      const ours = lines.filter((l) => l['component'] === undefined);
      expect(ours.map((l) => [l.level, l.msg, l['broker']])).toEqual([
        ['warn', expect.stringContaining('Kafka broker unreachable'), broker],
        ['info', 'Kafka broker reachable again', broker],
      ]);
    } finally {
      await new Promise((done) => server.close(done));
    }
  });

  it('a broker whose connections still fail after the threshold is one error', () => {
    jest.useFakeTimers({ now: new Date('2026-12-02T00:00:00Z') });
    try {
      const { log, lines } = kafkajsLog();
      for (let second = 0; second <= 90; second += 1) {
        log(refused());
        jest.advanceTimersByTime(1_000);
      }
      expect(lines.filter((l) => l.level === 'warn')).toHaveLength(1);
      expect(lines.filter((l) => l.level === 'error')).toEqual([
        expect.objectContaining({
          msg: 'Kafka broker still unreachable',
          broker: BROKER,
          downForMs: BROKER_UNREACHABLE_ERROR_AFTER_MS,
        }),
      ]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('the limited-retries warning, when the client says why, is that reason once at info', () => {
    const { logger, lines } = capturedLogger('consumer');
    const options = { limitedIdempotentRetries: 'because the test says so' };
    const first = logOf(kafkaClientConfig(loadConsumerConfig({}), logger, options));
    const second = logOf(kafkaClientConfig(loadConsumerConfig({}), logger, options));
    const warning = () =>
      entry(
        'Producer',
        logLevel.WARN,
        'Limiting retries for the idempotent producer may invalidate EoS guarantees',
      );
    first(warning());
    first(warning());
    second(warning());
    expect(lines.map((l) => [l.level, l['component']])).toEqual([
      ['info', undefined],
      ['debug', 'kafkajs'],
      ['debug', 'kafkajs'],
      ['debug', 'kafkajs'],
    ]);
    expect(lines[0]?.msg).toBe(
      'kafkajs warns "Limiting retries for the idempotent producer may invalidate EoS guarantees"; intended here: because the test says so',
    );
    // A client that gives no reason keeps kafkajs' warning.
    const { log, lines: plain } = kafkajsLog();
    log(warning());
    expect(plain.map((l) => l.level)).toEqual(['warn']);
  });
});
