import {
  isTransientKafkaError,
  kafkaLogVerdict,
  LIMITED_RETRIES_WARNING,
  type KafkaLogInput,
  type KafkaLogLevel,
} from '../../services/common/kafka-log-levels';

const BROKER = '127.0.0.1:9094';

const input = (
  namespace: string,
  level: KafkaLogLevel,
  message: string,
  fields: Record<string, unknown> = {},
): KafkaLogInput => ({ namespace, level, message, fields });

const response = (api: string, error: string) =>
  input('Connection', 'error', `Response ${api}`, { broker: BROKER, error, correlationId: 1 });

describe('isTransientKafkaError', () => {
  it.each([
    `Connection error: connect ECONNREFUSED ${BROKER}`,
    'Connection error: read ECONNRESET',
    'Connection timeout',
    'Closed connection',
    'Connection closed by the server',
    'Not connected',
    'Request Produce(key: 0, version: 7) timed out',
    'The group coordinator is not available',
    'This is not the correct coordinator for this group',
    "The coordinator is loading and hence can't process requests for this group",
    'This server is not the leader for that topic-partition',
    'This server does not host this topic-partition',
    'There is no leader for this topic-partition as we are in the middle of a leadership election',
    'The request timed out',
  ])('%s: transient', (message) => {
    expect(isTransientKafkaError(message)).toBe(true);
  });

  it.each([
    'Not authorized to access topics: [Topic authorization failed]',
    'The request included a message larger than the max message size the server will accept',
    'The group is rebalancing, so a rejoin is needed',
    'Unknown error code 999',
    'Connection timeout, and more',
    'something else entirely',
  ])('%s: not transient', (message) => {
    expect(isTransientKafkaError(message)).toBe(false);
  });
});

describe('kafkaLogVerdict', () => {
  it.each<[string, KafkaLogInput, KafkaLogLevel]>([
    // A normal start, while the brokers elect the coordinators.
    [
      'InitProducerId, coordinator not available',
      response('InitProducerId(key: 22, version: 1)', 'The group coordinator is not available'),
      'debug',
    ],
    [
      'GroupCoordinator, coordinator not available',
      response('GroupCoordinator(key: 10, version: 2)', 'The group coordinator is not available'),
      'debug',
    ],
    [
      'OffsetFetch, coordinator loading',
      response(
        'OffsetFetch(key: 9, version: 3)',
        "The coordinator is loading and hence can't process requests for this group",
      ),
      'debug',
    ],
    // kafkajs rejoins the group.
    [
      'Heartbeat, rebalancing',
      response('Heartbeat(key: 12, version: 3)', 'The group is rebalancing, so a rejoin is needed'),
      'debug',
    ],
    [
      'OffsetCommit, unknown member',
      response('OffsetCommit(key: 8, version: 5)', 'The coordinator is not aware of this member'),
      'debug',
    ],
    // Not retried: someone must act.
    [
      'Produce, not authorized',
      response(
        'Produce(key: 0, version: 7)',
        'Not authorized to access topics: [Topic authorization failed]',
      ),
      'error',
    ],
    [
      'Fetch, unknown code',
      response('Fetch(key: 1, version: 11)', 'Unknown error code 999'),
      'error',
    ],
    [
      'seed broker refused',
      input(
        'BrokerPool',
        'error',
        `Failed to connect to seed broker, trying another broker from the list: Connection error: connect ECONNREFUSED ${BROKER}`,
        { retryCount: 2, retryTime: 1200 },
      ),
      'debug',
    ],
    [
      'seed broker, SASL failed',
      input(
        'BrokerPool',
        'error',
        'Failed to connect to seed broker, trying another broker from the list: SASL SCRAM SHA512 authentication failed: wrong credentials',
      ),
      'error',
    ],
    [
      'BrokerPool, request timeout',
      input('BrokerPool', 'error', 'Request Metadata(key: 3, version: 6) timed out'),
      'debug',
    ],
    [
      'send retried',
      input('Producer', 'error', 'Failed to send messages: Connection timeout', { retryCount: 0 }),
      'debug',
    ],
    [
      'send, request timeout',
      input('Producer', 'error', 'Request Produce(key: 0, version: 7) timed out', {
        retryCount: 1,
      }),
      'debug',
    ],
    [
      'send refused for good',
      input(
        'Producer',
        'error',
        'The request included a message larger than the max message size the server will accept',
      ),
      'error',
    ],
    ['runner rejoins', input('Runner', 'warn', 'The group is rebalancing, re-joining'), 'debug'],
    [
      'member dropped',
      input('Runner', 'error', 'The coordinator is not aware of this member, re-joining the group'),
      'warn',
    ],
    [
      'eachBatch threw',
      input('Runner', 'error', 'Error when calling eachBatch', { error: 'boom' }),
      'error',
    ],
    [
      'crash after retries',
      input(
        'Consumer',
        'error',
        'Crash: KafkaJSNumberOfRetriesExceeded: Connection error: connect ECONNREFUSED',
      ),
      'debug',
    ],
    [
      'crash, retriable protocol error',
      input(
        'Consumer',
        'error',
        'Crash: KafkaJSProtocolError: The group coordinator is not available',
      ),
      'debug',
    ],
    [
      'crash for good',
      input('Consumer', 'error', 'Crash: KafkaJSNonRetriableError: Invalid partition metadata'),
      'error',
    ],
    ['restart', input('Consumer', 'error', 'Restarting the consumer in 300ms'), 'info'],
    [
      'offset out of range',
      input('ConsumerGroup', 'error', 'Offset out of range, resetting to default offset'),
      'error',
    ],
    [
      'stale assignment',
      input('ConsumerGroup', 'warn', 'Topic events has unknown partitions, resync group'),
      'info',
    ],
    ['late response', input('RequestQueue', 'warn', 'Response without match'), 'debug'],
    [
      'admin retry',
      input('Admin', 'warn', 'Could not describe configs', { error: 'Connection timeout' }),
      'debug',
    ],
    [
      'admin refused',
      input('Admin', 'warn', 'Could not describe configs', {
        error: 'Cluster authorization failed',
      }),
      'warn',
    ],
    ['info is debug', input('Consumer', 'info', 'Starting', { groupId: 'g' }), 'debug'],
    ['unknown error', input('Cluster', 'error', 'a message never seen'), 'error'],
    ['unknown warning', input('Cluster', 'warn', 'a warning never seen'), 'warn'],
  ])('%s', (_name, entry, level) => {
    expect(kafkaLogVerdict(entry).level).toBe(level);
  });

  it('takes the broker out of connection failures and answers', () => {
    const refused = `Connection error: connect ECONNREFUSED ${BROKER}`;
    expect(kafkaLogVerdict(input('Connection', 'error', refused, { broker: BROKER }))).toEqual({
      level: 'debug',
      brokerFailed: { broker: BROKER, error: refused },
    });
    expect(
      kafkaLogVerdict(input('Connection', 'error', 'Connection timeout', { broker: BROKER })),
    ).toMatchObject({ brokerFailed: { broker: BROKER, error: 'Connection timeout' } });
    // An error response is an answer: the broker is reachable.
    expect(
      kafkaLogVerdict(response('Produce(key: 0, version: 7)', 'Unknown error code 999')),
    ).toEqual({ level: 'error', brokerAnswered: BROKER });
    // Without a broker field there is no evidence, only a level.
    expect(kafkaLogVerdict(input('Connection', 'error', 'Connection timeout'))).toEqual({
      level: 'debug',
    });
  });

  it("flags kafkajs' limited-retries warning and leaves it a warning (the caller decides)", () => {
    expect(kafkaLogVerdict(input('Producer', 'warn', LIMITED_RETRIES_WARNING))).toEqual({
      level: 'warn',
      limitedIdempotentRetries: true,
    });
    expect(LIMITED_RETRIES_WARNING).toBe(
      'Limiting retries for the idempotent producer may invalidate EoS guarantees',
    );
  });
});
