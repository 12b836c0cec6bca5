/**
 * The Dockerfile, read without Docker: hadolint and the rules of its runtime stages. The
 * images are built from it with Docker and run as the chart runs them in tests/containers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDockerfile } from './support/dockerfile';
import { ROOT, run } from './support/tools';

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

test('hadolint finds nothing', () => {
  const result = run('hadolint', ['--no-color', 'Dockerfile']);
  expect(result.stdout + result.stderr).toBe('');
  expect(result.status).toBe(0);
});

test('the runtime stages: pinned Node LTS, numeric non-root user, node as PID 1 on compiled JavaScript', () => {
  const stages = parseDockerfile(dockerfile);
  for (const target of ['producer', 'consumer']) {
    const stage = stages.find((item) => item.name === target);
    expect(stage).toBeDefined();
    expect(stage?.instructions.find((item) => item.keyword === 'CMD')?.args).toBe(
      `["dist/services/${target}/main.js"]`,
    );
  }
  const runtime = stages.find((item) => item.name === 'runtime');
  const keyword = (name: string) =>
    runtime?.instructions.find((item) => item.keyword === name)?.args;
  expect(keyword('USER')).toMatch(/^[1-9]\d*:[1-9]\d*$/);
  expect(keyword('ENTRYPOINT')).toBe(
    '["node", "--enable-source-maps", "--disable-warning=TimeoutNegativeWarning"]',
  );
  for (const stage of stages.filter((item) => !stages.some((other) => other.name === item.from))) {
    // Every external base image: node, an LTS major (22 or 24), an exact version.
    expect(stage.from).toMatch(/^node:(22|24)\.\d+\.\d+-[a-z]+-slim$/);
  }
  const commands = stages
    .flatMap((stage) => stage.instructions)
    .filter((item) => ['CMD', 'ENTRYPOINT'].includes(item.keyword));
  expect(commands.map((item) => item.args).join('\n')).not.toMatch(/npm/);
});

test("each service's EXPOSE names the ports it listens on by default", () => {
  const stages = parseDockerfile(dockerfile);
  const exposed = (target: string) =>
    stages
      .find((item) => item.name === target)
      ?.instructions.find((item) => item.keyword === 'EXPOSE')?.args;
  // services/common/config.ts: HTTP_PORT 8080; MANAGEMENT_PORT 8081 (producer), 8082 (consumer).
  expect(exposed('producer')).toBe('8080 8081');
  expect(exposed('consumer')).toBe('8082');
});
