/**
 * What the images built from the Dockerfile hold: production dependencies exactly as the
 * lockfile lists them, the compiled services and package.json, and nothing else of ours; no
 * .git or keys; nothing the service's user may write; their size and the layers we add; and
 * skaffold and the chart naming exactly these images.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import {
  docker,
  dockerOk,
  SERVICE_TARGETS,
  serviceImages,
  type ServiceTarget,
} from '../../scripts/docker/images';
import { renderedPods } from './support/pod';
import { describeDocker } from './support/skip';
import { repoRoot } from '../../scripts/lib/root';

const images = serviceImages();

/** Runs a command in a fresh container of the image (as root unless `user` is given). */
function inImage(target: ServiceTarget, command: string[], user = '0:0'): string {
  return dockerOk(runArgs(target, command, user));
}

function runArgs(target: ServiceTarget, command: string[], user: string): string[] {
  return [
    'run',
    '--rm',
    '--network',
    'none',
    '--user',
    user,
    '--entrypoint',
    command[0] ?? 'true',
    images[target],
    ...command.slice(1),
  ];
}

interface LockedPackage {
  dev?: boolean;
  devOptional?: boolean;
  os?: string[];
  cpu?: string[];
}

/** The node_modules folders `npm ci --omit=dev` installs on linux/x64, from the lockfile. */
function productionPackagesFromLockfile(): string[] {
  const lock = JSON.parse(readFileSync(join(repoRoot(), 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockedPackage>;
  };
  const fits = (list: string[] | undefined, value: string) =>
    list === undefined ||
    (list.includes(value) && !list.includes(`!${value}`)) ||
    (list.every((item) => item.startsWith('!')) && !list.includes(`!${value}`));
  return Object.entries(lock.packages)
    .filter(([path]) => path.startsWith('node_modules/'))
    .filter(([, meta]) => !meta.dev && !meta.devOptional)
    .filter(([, meta]) => fits(meta.os, 'linux') && fits(meta.cpu, 'x64'))
    .map(([path]) => path)
    .sort();
}

describeDocker('the service images', () => {
  test.each(SERVICE_TARGETS)(
    '%s: production dependencies exactly as locked, the compiled services, package.json, nothing else of ours',
    (target) => {
      const installed = inImage(target, [
        'find',
        '/app/node_modules',
        '-name',
        'package.json',
        '-path',
        '*/node_modules/*/package.json',
      ])
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => line.replace(/^\/app\//, '').replace(/\/package\.json$/, ''))
        // A package's own package.json files below its folder are not packages.
        .filter((path) => /(^|\/)node_modules\/(@[^/]+\/)?[^/@]+$/.test(path))
        .sort();
      expect(installed).toEqual(productionPackagesFromLockfile());
      expect(installed).toContain('node_modules/kafkajs');
      expect(installed).not.toContain('node_modules/typescript');
      expect(installed).not.toContain('node_modules/jest');

      expect(inImage(target, ['ls', '-A', '/app']).split('\n').filter(Boolean)).toEqual([
        'dist',
        'node_modules',
        'package.json',
      ]);
      expect(inImage(target, ['ls', '-A', '/app/dist']).trim()).toBe('services');
      const ours = inImage(target, [
        'find',
        '/app/dist',
        '-type',
        'f',
        '-not',
        '-name',
        '*.js',
        '-not',
        '-name',
        '*.js.map',
        '-not',
        '-name',
        '*.json',
      ]);
      expect(ours).toBe('');
      const tests = inImage(target, [
        'find',
        '/app/dist',
        '(',
        '-name',
        '*.test.js',
        '-o',
        '-name',
        '*.ts',
        ')',
      ]);
      expect(tests).toBe('');
    },
  );

  test.each(SERVICE_TARGETS)(
    '%s: no .git, no keys or credentials anywhere in the image',
    (target) => {
      const found = inImage(target, [
        'find',
        '/',
        '-xdev',
        '(',
        '-name',
        '.git',
        '-o',
        '-name',
        '*.pem',
        '-o',
        '-name',
        '*.key',
        '-o',
        '-name',
        'id_rsa*',
        '-o',
        '-name',
        'id_ed25519*',
        '-o',
        '-name',
        '*.p12',
        '-o',
        '-name',
        '.npmrc',
        '-o',
        '-name',
        '.env',
        ')',
        '-not',
        '-path',
        '/proc/*',
      ]);
      expect(found).toBe('');
    },
  );

  test.each(SERVICE_TARGETS)(
    "%s: nothing is writable by the service's user but the system's sticky temp folders",
    (target) => {
      const pod = renderedPods()[target];
      // find exits 1 for the folders the user may not even read: those are not writable either.
      const writable = docker(
        runArgs(
          target,
          ['find', '/', '-xdev', '-writable', '-not', '-path', '/proc/*'],
          `${pod.user}:${pod.group}`,
        ),
      )
        .stdout.split('\n')
        .filter(Boolean)
        .sort();
      expect(writable).toEqual(['/run/lock', '/tmp', '/var/lock', '/var/tmp']);
      // The chart mounts /tmp as an emptyDir; the image's /app belongs to root.
      expect(inImage(target, ['stat', '-c', '%u:%g %a', '/app']).trim()).toBe('0:0 755');
    },
  );

  test('image size and the layers the Dockerfile adds to its base, reported', () => {
    const rows: string[] = [];
    for (const target of SERVICE_TARGETS) {
      const size = Number(dockerOk(['image', 'inspect', '--format', '{{.Size}}', images[target]]));
      const history = dockerOk([
        'history',
        '--no-trunc',
        '--format',
        '{{.Size}}\t{{.CreatedBy}}',
        images[target],
      ])
        .split('\n')
        .filter(Boolean);
      // The base image's own layers are those below our first instruction (WORKDIR /app).
      const ownCount = history.findIndex((line) => /WORKDIR \/app/.test(line));
      const own = history
        .slice(0, ownCount)
        .filter((line) => !line.startsWith('0B'))
        .map((line) => {
          const [bytes = '', createdBy = ''] = line.split('\t');
          const what = / in (\S+)/.exec(createdBy)?.[1] ?? createdBy.slice(0, 40);
          return `${what} ${bytes}`;
        });
      expect(ownCount).toBeGreaterThan(0);
      expect(own.length).toBeGreaterThan(0);
      expect(size).toBeGreaterThan(100e6);
      rows.push(
        `${images[target]}: ${(size / 1e6).toFixed(0)} MB; layers added: ${own.join('; ')}`,
      );
    }
    process.stdout.write(`containers: ${rows.join('\n            ')}\n`);
  });

  test("skaffold's artifacts and the chart's image values name exactly the images built from the Dockerfile's targets", () => {
    const configs = parseAllDocuments(readFileSync(join(repoRoot(), 'skaffold.yaml'), 'utf8')).map(
      (doc) =>
        doc.toJS() as {
          metadata: { name: string };
          build?: {
            artifacts: Array<{ image: string; docker: { target: string; dockerfile: string } }>;
          };
        },
    );
    const artifacts = configs.flatMap((config) => config.build?.artifacts ?? []);
    expect(
      artifacts.map((artifact) => [
        artifact.docker.target,
        artifact.image,
        artifact.docker.dockerfile,
      ]),
    ).toEqual(
      SERVICE_TARGETS.map((target) => [
        target,
        images[target].replace(/:[^:]+$/, ''),
        'Dockerfile',
      ]),
    );
    const pods = renderedPods();
    for (const target of SERVICE_TARGETS) {
      expect(pods[target].image).toBe(images[target]);
      const labels = JSON.parse(
        dockerOk(['image', 'inspect', '--format', '{{json .Config}}', images[target]]),
      ) as { Cmd: string[]; Entrypoint: string[]; User: string };
      expect([...labels.Entrypoint, ...labels.Cmd]).toEqual([
        'node',
        '--enable-source-maps',
        '--disable-warning=TimeoutNegativeWarning',
        `dist/services/${target}/main.js`,
      ]);
      expect(labels.User).toBe(`${pods[target].user}:${pods[target].group}`);
    }
  });
});
