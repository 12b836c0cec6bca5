import {
  bootstrapOf,
  brokerProperties,
  jvmArgs,
  lastLines,
  log4j2Config,
  newClusterId,
  parseProperties,
  planNodes,
  renderProperties,
  summarizeLog,
} from '../../scripts/kafka/config';
import { KAFKA_VERSION } from '../../scripts/kafka/version';

describe('Kafka harness config', () => {
  const three = planNodes(3, [9092, 9093, 9094], [40001, 40002, 40003]);

  test('the Kafka version is pinned to a 4.x release', () => {
    expect(KAFKA_VERSION).toMatch(/^4\.\d+\.\d+$/);
  });

  test('a single node is broker and controller, with replication that fits one node', () => {
    const [node] = planNodes(1, [9092], [40001]);
    if (node === undefined) throw new Error('no node planned');
    const props = brokerProperties({ node, all: [node], dataDir: '/data' });
    expect(props).toMatchObject({
      'process.roles': 'broker,controller',
      'node.id': '1',
      'controller.quorum.voters': '1@127.0.0.1:40001',
      listeners: 'PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:40001',
      'advertised.listeners': 'PLAINTEXT://127.0.0.1:9092',
      'controller.listener.names': 'CONTROLLER',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'log.dirs': '/data/node-1',
      'default.replication.factor': '1',
      'min.insync.replicas': '1',
      'offsets.topic.replication.factor': '1',
      'transaction.state.log.replication.factor': '1',
      'transaction.state.log.min.isr': '1',
      'group.initial.rebalance.delay.ms': '0',
    });
    // Kafka refuses a dedupe buffer of 1 MiB or less per cleaner thread; the default is 128 MiB.
    const dedupe = Number(props['log.cleaner.dedupe.buffer.size']);
    expect(dedupe).toBeGreaterThan(1024 * 1024);
    expect(dedupe).toBeLessThanOrEqual(16 * 1024 * 1024);
  });

  test('three nodes vote together and replicate three ways with min.insync.replicas 2', () => {
    const [, second] = three;
    if (second === undefined) throw new Error('no second node');
    const props = brokerProperties({ node: second, all: three, dataDir: '/data' });
    expect(props).toMatchObject({
      'node.id': '2',
      'controller.quorum.voters': '1@127.0.0.1:40001,2@127.0.0.1:40002,3@127.0.0.1:40003',
      listeners: 'PLAINTEXT://127.0.0.1:9093,CONTROLLER://127.0.0.1:40002',
      'log.dirs': '/data/node-2',
      'default.replication.factor': '3',
      'min.insync.replicas': '2',
      'offsets.topic.replication.factor': '3',
      'transaction.state.log.replication.factor': '3',
      'transaction.state.log.min.isr': '2',
    });
    expect(bootstrapOf(three)).toBe('127.0.0.1:9092,127.0.0.1:9093,127.0.0.1:9094');
  });

  test('extra broker config overrides the defaults', () => {
    const [node] = three;
    if (node === undefined) throw new Error('no node');
    const props = brokerProperties({
      node,
      all: three,
      dataDir: '/data',
      extra: { 'min.insync.replicas': '1', 'auto.create.topics.enable': 'false' },
    });
    expect(props['min.insync.replicas']).toBe('1');
    expect(props['auto.create.topics.enable']).toBe('false');
  });

  test('a second listener can be added (the shape a SASL listener will use)', () => {
    const [node] = three;
    if (node === undefined) throw new Error('no node');
    const props = brokerProperties({
      node,
      all: three,
      dataDir: '/data',
      listeners: [
        { name: 'PLAINTEXT', protocol: 'PLAINTEXT', port: 9092 },
        {
          name: 'SCRAM',
          protocol: 'SASL_PLAINTEXT',
          port: 9192,
          extra: { 'sasl.enabled.mechanisms': 'SCRAM-SHA-512' },
        },
      ],
    });
    expect(props.listeners).toBe(
      'PLAINTEXT://127.0.0.1:9092,SCRAM://127.0.0.1:9192,CONTROLLER://127.0.0.1:40001',
    );
    expect(props['listener.security.protocol.map']).toBe(
      'PLAINTEXT:PLAINTEXT,SCRAM:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT',
    );
    expect(props['inter.broker.listener.name']).toBe('PLAINTEXT');
    expect(props['sasl.enabled.mechanisms']).toBe('SCRAM-SHA-512');
  });

  test('properties render so that Java reads them back as written', () => {
    const text = renderProperties({
      'log.dirs': '/tmp/dir with space/ü',
      'a=b': 'x:y',
      multi: 'line1\nline2',
      back: 'C:\\path',
      lead: ' spaced',
    });
    expect(text).toBe(
      [
        'log.dirs=/tmp/dir with space/\\u00fc',
        'a\\=b=x:y',
        'multi=line1\\nline2',
        'back=C:\\\\path',
        'lead=\\ spaced',
        '',
      ].join('\n'),
    );
    expect(text).toMatch(/^[\x20-\x7e\n]*$/);
  });

  test('meta.properties is parsed', () => {
    const meta =
      '#\n#Tue Nov 25 12:00:00 UTC 2026\nnode.id=1\ndirectory.id=abc\nversion=1\ncluster.id=T_aQnLQ-QM-V9Yh0YGEoFQ\n';
    expect(parseProperties(meta)).toEqual({
      'node.id': '1',
      'directory.id': 'abc',
      version: '1',
      'cluster.id': 'T_aQnLQ-QM-V9Yh0YGEoFQ',
    });
  });

  test('cluster ids look like Kafka Uuids and avoid the forbidden ones', () => {
    for (let i = 0; i < 200; i += 1)
      expect(newClusterId()).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    // Bytes starting 0xfb encode to '-' first; all-zero is reserved: both are drawn again.
    const draws = [Buffer.alloc(16, 0xfb), Buffer.alloc(16, 0), Buffer.alloc(16, 7)];
    expect(newClusterId(() => draws.shift() ?? Buffer.alloc(16, 9))).toBe(
      Buffer.alloc(16, 7).toString('base64url'),
    );
    const one = Buffer.alloc(16, 0);
    one[15] = 1;
    const fallback = Buffer.alloc(16, 8);
    const more = [one, fallback];
    expect(newClusterId(() => more.shift() ?? Buffer.alloc(16, 9))).toBe(
      fallback.toString('base64url'),
    );
  });

  test('node plans are checked', () => {
    expect(() => planNodes(2, [1, 2], [3, 4])).toThrow(/1 or 3/);
    expect(() => planNodes(3, [9092], [1, 2, 3])).toThrow(/3 client port/);
    expect(() => planNodes(1, [9092], [9092])).toThrow(/differ/);
    expect(() => planNodes(1, [70_000], [9093])).toThrow(/bad port/);
    expect(planNodes(1, [9092], [9093])).toEqual([{ id: 1, port: 9092, controllerPort: 9093 }]);
  });

  test('JVM arguments carry heap, log4j2 config, node label and classpath', () => {
    const args = jvmArgs({
      libsDir: '/libs',
      log4jConfigFile: '/d/log4j2.xml',
      nodeLabel: '2',
      heap: '256m',
    });
    expect(args).toContain('-Xmx256m');
    expect(args).toContain('-Dlog4j2.configurationFile=/d/log4j2.xml');
    expect(args).toContain('-Dharness.node=2');
    expect(args.slice(-2)).toEqual(['-cp', '/libs/*']);
    expect(log4j2Config()).toContain('${sys:harness.node:-?}');
  });

  test('lastLines keeps the end of a log', () => {
    expect(lastLines('a\nb\nc\n', 2)).toBe('b\nc');
    expect(lastLines('a', 5)).toBe('a');
  });

  test('a start-up failure shows the first errors, then the end of the log', () => {
    const log = [
      '[t] [node 1] INFO  starting',
      'Exception in thread "main" java.lang.IllegalArgumentException: requirement failed',
      '\tat kafka.server.KafkaConfig.validateValues(KafkaConfig.scala:552)',
      '[t] [node 1] INFO  done',
    ].join('\n');
    const summary = summarizeLog(log, 2);
    expect(summary).toBe(
      [
        'first errors:',
        'Exception in thread "main" java.lang.IllegalArgumentException: requirement failed',
        'last lines of the log:',
        '\tat kafka.server.KafkaConfig.validateValues(KafkaConfig.scala:552)',
        '[t] [node 1] INFO  done',
      ].join('\n'),
    );
    expect(summarizeLog('only\ninfo', 5)).toBe('last lines of the log:\nonly\ninfo');
  });
});
