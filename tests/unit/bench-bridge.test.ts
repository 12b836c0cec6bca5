import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bridgeConfig,
  bridgeVersionOf,
  findJavaHome,
  isBridgeLine1,
  javaMajorOf,
} from '../../bench/bridge/bridge';

function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-bridge-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

describe('the Kafka Bridge launcher, for both release lines', () => {
  test("reads the Bridge's version from its jar", () => {
    const libs = dirWith({ 'kafka-bridge-1.1.0.jar': '', 'kafka-clients-4.1.0.jar': '' });
    expect(bridgeVersionOf(libs)).toBe('1.1.0');
    expect(bridgeVersionOf(dirWith({ 'kafka-bridge-0.33.1.jar': '' }))).toBe('0.33.1');
    expect(() => bridgeVersionOf(dirWith({ 'kafka-clients-4.1.0.jar': '' }))).toThrow(
      /no kafka-bridge-<version>.jar/,
    );
    expect(isBridgeLine1('1.1.0')).toBe(true);
    expect(isBridgeLine1('0.33.1')).toBe(false);
  });

  test('1.x gets a management port (where /ready is) and no AMQP setting; 0.33.x the old keys', () => {
    const ports = { http: 18080, management: 18081 };
    const line1 = bridgeConfig('1.1.0', ['127.0.0.1:9092'], ports).split('\n');
    expect(line1).toContain('http.port=18080');
    expect(line1).toContain('http.management.port=18081');
    expect(line1).toContain('kafka.producer.acks=all');
    expect(line1.some((l) => l.startsWith('amqp.'))).toBe(false);
    const old = bridgeConfig('0.33.1', ['127.0.0.1:9092'], ports).split('\n');
    expect(old).toContain('amqp.enabled=false');
    expect(old.some((l) => l.startsWith('http.management.port'))).toBe(false);
  });

  test('finds a JDK of at least the version asked, from its release file', () => {
    const root = dirWith({
      'jdk-17/release': 'JAVA_VERSION="17.0.15"\n',
      'jdk-25/release': 'JAVA_VERSION="25.0.3"\n',
      'broken/release': 'nothing here\n',
    });
    expect(javaMajorOf(join(root, 'jdk-25'))).toBe(25);
    expect(javaMajorOf(join(root, 'broken'))).toBeUndefined();
    const saved = process.env.JAVA_HOME;
    delete process.env.JAVA_HOME;
    try {
      expect(findJavaHome(21, undefined, [root])).toBe(join(root, 'jdk-25'));
      expect(findJavaHome(26, undefined, [root])).toBeUndefined();
      expect(findJavaHome(21, '/given/jdk', [root])).toBe('/given/jdk');
    } finally {
      if (saved !== undefined) process.env.JAVA_HOME = saved;
    }
  });
});
