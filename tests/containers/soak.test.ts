/**
 * Both containers under the chart's memory and CPU limits for a few minutes at a steady rate
 * (CONTAINERS_SOAK_SECONDS, default 150): neither is OOM-killed or restarted, everything
 * acknowledged is processed, and each one's memory (cgroup usage, sampled, and its peak) is
 * reported against its limit.
 */
import { withAdmin } from '../../scripts/kafka/admin';
import { docker } from '../../scripts/docker/images';
import {
  computeLedger,
  ledgerProblems,
  LoadGenerator,
  printLedger,
  readLedgerTopic,
  waitForProcessed,
} from '../../scripts/lib/ledger';
import { uniqueTopic } from '../support/kafka';
import {
  ledgerMount,
  runService,
  useContainerKafka,
  waitReady,
  type ServiceContainer,
} from './support/containers';
import { describeDocker } from './support/skip';

const SOAK_SECONDS = Number(process.env.CONTAINERS_SOAK_SECONDS ?? 150);
const SAMPLE_EVERY_MS = 5_000;

jest.setTimeout((SOAK_SECONDS + 180) * 1000);

const kafka = useContainerKafka();

/** Current and peak memory of the container's cgroup, in bytes (cgroup v1 or v2). */
function memoryOf(container: ServiceContainer): { current: number; peak: number } {
  const script =
    'if [ -f /sys/fs/cgroup/memory/memory.usage_in_bytes ]; then ' +
    'cat /sys/fs/cgroup/memory/memory.usage_in_bytes /sys/fs/cgroup/memory/memory.max_usage_in_bytes; ' +
    'else cat /sys/fs/cgroup/memory.current; cat /sys/fs/cgroup/memory.peak 2>/dev/null || cat /sys/fs/cgroup/memory.current; fi';
  const [current = NaN, peak = NaN] = docker(['exec', container.name, 'sh', '-c', script])
    .stdout.split('\n')
    .filter(Boolean)
    .map(Number);
  return { current, peak };
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

describeDocker('soak under the chart limits', () => {
  test(`${SOAK_SECONDS} s at a steady rate: neither container is OOM-killed or restarted, everything acknowledged is processed, memory reported`, async () => {
    const topic = uniqueTopic('ctr-soak');
    await withAdmin(kafka().hostBrokers, (admin) =>
      admin.createTopics({
        waitForLeaders: true,
        topics: [
          { topic, numPartitions: 6 },
          { topic: `${topic}-dlq`, numPartitions: 1 },
        ],
      }),
    );
    const ledger = ledgerMount('soak');
    const consumer = await runService('consumer', {
      kafka: kafka(),
      label: 'soak-consumer',
      env: {
        TOPICS: topic,
        CONSUMER_GROUP_ID: `${topic}-group`,
        DLQ_TOPIC: `${topic}-dlq`,
        ...ledger.env,
        LEDGER_INSTANCE: 'soak',
      },
      mounts: [ledger.mount],
    });
    const producer = await runService('producer', {
      kafka: kafka(),
      label: 'soak-api',
      env: { TOPICS: topic },
    });
    await waitReady(consumer);
    await waitReady(producer);
    const containers = [producer, consumer];
    const samples = new Map(containers.map((c) => [c.name, [] as number[]]));
    // About 250 messages of 1 KiB a second, in requests of 5.
    const load = new LoadGenerator({
      url: producer.url,
      topic,
      clients: 2,
      messagesPerRequest: 5,
      pauseMs: 30,
      padBytes: 1024,
    });
    const started = Date.now();
    load.start();
    try {
      while (Date.now() - started < SOAK_SECONDS * 1000) {
        await new Promise((done) => setTimeout(done, SAMPLE_EVERY_MS));
        for (const container of containers) {
          samples.get(container.name)?.push(memoryOf(container).current);
        }
      }
    } finally {
      await load.stop();
    }
    const seconds = (Date.now() - started) / 1000;

    const contents = await readLedgerTopic(topic, { brokers: kafka().hostBrokers });
    const processed = await waitForProcessed(ledger.processedFile, topic, contents.records, 90_000);
    const report = computeLedger({ requests: load.records, kafka: contents, processed });
    printLedger('containers soak', report);
    expect(ledgerProblems(report)).toEqual([]);

    const lines: string[] = [];
    for (const container of containers) {
      const state = container.inspect();
      const restarts = Number(
        docker(['inspect', '--format', '{{.RestartCount}}', container.name]).stdout.trim(),
      );
      expect({
        name: container.name,
        status: state.Status,
        oomKilled: state.OOMKilled,
        restarts,
      }).toEqual({
        name: container.name,
        status: 'running',
        oomKilled: false,
        restarts: 0,
      });
      const { peak } = memoryOf(container);
      const series = samples.get(container.name) ?? [];
      expect(series.length).toBeGreaterThan(2);
      expect(peak).toBeLessThan(container.pod.memoryBytes);
      lines.push(
        `${container.pod.component}: first ${mib(series[0] ?? NaN)}, last ${mib(series.at(-1) ?? NaN)}, ` +
          `peak ${mib(peak)} of the ${mib(container.pod.memoryBytes)} limit`,
      );
    }
    process.stdout.write(
      `containers: soak ${seconds.toFixed(0)} s, ${report.acknowledged} messages acknowledged (${(report.acknowledged / seconds).toFixed(0)}/s), all processed; ${lines.join('; ')}\n`,
    );
  });
});
