/** The translation of a rendered pod into `docker run` options (tests/containers/support/pod.ts). */
import { bytesOf, coresOf, dockerRunArgs, type PodRun } from '../containers/support/pod';

const pod: PodRun = {
  component: 'consumer',
  image: 'event-pipeline-consumer:0.1.0',
  user: 10001,
  group: 10002,
  fsGroup: 10003,
  readOnlyRootFilesystem: true,
  capDrop: ['ALL'],
  noNewPrivileges: true,
  tmpfs: [{ path: '/tmp', sizeBytes: 16 * 1024 * 1024 }],
  memoryBytes: 192 * 1024 * 1024,
  cpus: 0.5,
  env: { MANAGEMENT_PORT: '8081', TOPICS: 'events' },
  ports: [{ name: 'management', containerPort: 8081 }],
  graceSeconds: 30,
  preStopSleepSeconds: 5,
  readinessPath: '/readyz',
  livenessPath: '/livez',
};

test('Kubernetes quantities: binary and decimal bytes, cores and millicores', () => {
  expect(bytesOf('192Mi')).toBe(192 * 1024 * 1024);
  expect(bytesOf('1Gi')).toBe(1024 ** 3);
  expect(bytesOf('64M')).toBe(64e6);
  expect(bytesOf('512')).toBe(512);
  expect(() => bytesOf('12Qi')).toThrow(/not a byte quantity/);
  expect(coresOf('1')).toBe(1);
  expect(coresOf('250m')).toBe(0.25);
  expect(() => coresOf('1x')).toThrow(/not a CPU quantity/);
});

test("the pod's security, limits, mounts and env become docker run options; overrides win", () => {
  const args = dockerRunArgs(pod, {
    name: 'c1',
    env: { TOPICS: 'mine', KAFKA_BROKERS: 'host.docker.internal:9092' },
    publish: { 8081: 41000 },
    mounts: ['type=bind,source=/x,target=/ledger'],
    addHosts: ['host.docker.internal:host-gateway'],
  });
  const pairs = (flag: string) => args.flatMap((arg, i) => (arg === flag ? [args[i + 1]] : []));
  expect(pairs('--name')).toEqual(['c1']);
  expect(pairs('--user')).toEqual(['10001:10002']);
  expect(args).toContain('--read-only');
  expect(pairs('--cap-drop')).toEqual(['ALL']);
  expect(pairs('--security-opt')).toEqual(['no-new-privileges']);
  expect(pairs('--tmpfs')).toEqual([
    `/tmp:rw,nosuid,nodev,noexec,size=${16 * 1024 * 1024},uid=10001,gid=10003,mode=1770`,
  ]);
  expect(pairs('--memory')).toEqual([String(192 * 1024 * 1024)]);
  expect(pairs('--memory-swap')).toEqual([String(192 * 1024 * 1024)]);
  expect(pairs('--cpus')).toEqual(['0.5']);
  expect(pairs('--env')).toEqual([
    'MANAGEMENT_PORT=8081',
    'TOPICS=mine',
    'KAFKA_BROKERS=host.docker.internal:9092',
  ]);
  expect(pairs('--publish')).toEqual(['127.0.0.1:41000:8081']);
  expect(pairs('--mount')).toEqual(['type=bind,source=/x,target=/ledger']);
  expect(pairs('--add-host')).toEqual(['host.docker.internal:host-gateway']);
});

test('a writable root filesystem and kept capabilities are not made stricter than the pod', () => {
  const args = dockerRunArgs(
    { ...pod, readOnlyRootFilesystem: false, capDrop: [], noNewPrivileges: false },
    { name: 'c2' },
  );
  expect(args).not.toContain('--read-only');
  expect(args).not.toContain('--cap-drop');
  expect(args).not.toContain('--security-opt');
});
