/**
 * The pieces of scripts/kind/node-image that can be checked without building the image or
 * creating a cluster (smoke.sh does that, on Linux with Docker): the docker shim kind runs through
 * on an engine that cannot start privileged containers, and the cgroup v1 additions to the
 * user's kind config.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { ROOT } from './support/tools';

const NODE_IMAGE = join(ROOT, 'scripts', 'kind', 'node-image');

describe('docker-shim/docker', () => {
  let bin: string;
  beforeAll(() => {
    bin = mkdtempSync(join(tmpdir(), 'docker-shim-'));
    // The "real" docker: prints each argument on its own line.
    writeFileSync(join(bin, 'docker'), '#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n');
    chmodSync(join(bin, 'docker'), 0o755);
  });
  afterAll(() => rmSync(bin, { recursive: true, force: true }));

  const shim = (...args: string[]) => {
    const result = spawnSync(join(NODE_IMAGE, 'docker-shim', 'docker'), args, {
      encoding: 'utf8',
      // The shim's own folder first, as kind.sh puts it: it must skip itself.
      env: { PATH: `${join(NODE_IMAGE, 'docker-shim')}:${bin}:/usr/bin:/bin` },
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    return result.stdout.trimEnd().split('\n');
  };

  test('run --privileged: every capability but CAP_SYS_RESOURCE, devices, unmasked paths', () => {
    const args = shim('run', '--name', 'n', '--privileged', '--tmpfs', '/run', 'image');
    expect(args).not.toContain('--privileged');
    expect(args.slice(0, 3)).toEqual(['run', '--name', 'n']);
    expect(args.join(' ')).toContain(
      '--cap-add ALL --cap-drop SYS_RESOURCE --device-cgroup-rule a *:* rwm --device /dev/kmsg',
    );
    expect(args.join(' ')).toContain('--security-opt systempaths=unconfined');
    expect(args.slice(-3)).toEqual(['--tmpfs', '/run', 'image']);
  });

  test('exec --privileged loses the flag; other commands pass unchanged', () => {
    expect(shim('exec', '--privileged', '-i', 'node', 'cat', '/kind/version')).toEqual([
      'exec',
      '-i',
      'node',
      'cat',
      '/kind/version',
    ]);
    expect(shim('inspect', '--format', '{{.Id}}', 'x')).toEqual([
      'inspect',
      '--format',
      '{{.Id}}',
      'x',
    ]);
  });
});

describe('cgroup-v1.yaml', () => {
  const extra = parse(readFileSync(join(NODE_IMAGE, 'cgroup-v1.yaml'), 'utf8')) as {
    kubeadmConfigPatches: string[];
  };

  test('adds only kubeadmConfigPatches, which the user config does not have', () => {
    expect(Object.keys(extra)).toEqual(['kubeadmConfigPatches']);
    const user = parse(readFileSync(join(ROOT, 'k8s', 'kind', 'cluster.yaml'), 'utf8')) as object;
    expect(Object.keys(user)).not.toContain('kubeadmConfigPatches');
  });

  test('failCgroupV1: false for the kubelet, SystemVerification skipped on init and join', () => {
    const patches = extra.kubeadmConfigPatches.map(
      (text) => parse(text) as Record<string, unknown>,
    );
    expect(patches).toEqual([
      { kind: 'KubeletConfiguration', failCgroupV1: false },
      {
        kind: 'InitConfiguration',
        nodeRegistration: { ignorePreflightErrors: ['SystemVerification'] },
      },
      {
        kind: 'JoinConfiguration',
        nodeRegistration: { ignorePreflightErrors: ['SystemVerification'] },
      },
    ]);
  });

  test('appended to the user config, it is one valid YAML document', () => {
    const joined =
      readFileSync(join(ROOT, 'k8s', 'kind', 'cluster.yaml'), 'utf8') +
      readFileSync(join(NODE_IMAGE, 'cgroup-v1.yaml'), 'utf8');
    const documents = parseAllDocuments(joined);
    expect(documents).toHaveLength(1);
    const [document] = documents;
    expect(document?.errors).toEqual([]);
    expect(document?.toJS()).toMatchObject({
      name: 'event-pipeline',
      kubeadmConfigPatches: expect.any(Array),
    });
  });
});
