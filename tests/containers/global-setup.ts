/**
 * Jest global setup of the containers project: a Docker engine must answer, and both service
 * images are built from the Dockerfile under the chart's image names before any test runs.
 *
 * Where no registry can be reached (CI here), EVENT_PIPELINE_STAND_INS=1 first builds the
 * base images the Dockerfile names (scripts/docker/stand-ins.sh); elsewhere `docker build`
 * pulls them as usual. Without an engine the project fails and says why; only
 * EVENT_PIPELINE_SKIP_DOCKER=1 (for a machine without Docker; CI refuses it) skips it, and the
 * skip is printed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildServiceImages,
  dockerAnswers,
  dockerOk,
  ensureStandIns,
} from '../../scripts/docker/images';
import { SKIP_DOCKER } from './support/skip-flag';
import { repoRoot } from '../../scripts/lib/root';

export default function globalSetup(): void {
  if (SKIP_DOCKER) {
    process.stdout.write(
      '\ncontainers: SKIPPED: EVENT_PIPELINE_SKIP_DOCKER=1; no image was built or run\n',
    );
    return;
  }
  if (!dockerAnswers()) {
    throw new Error(
      'containers: no Docker engine answers. Start Docker (on Linux as root: bash scripts/docker/engine.sh start), ' +
        'or set EVENT_PIPELINE_SKIP_DOCKER=1 to skip the container tests on a machine without Docker.',
    );
  }
  const engine = dockerOk([
    'version',
    '--format',
    '{{.Server.Version}} (API {{.Server.APIVersion}})',
  ]).trim();
  if (process.env.EVENT_PIPELINE_STAND_INS === '1') {
    const started = performance.now();
    const names = ensureStandIns();
    process.stdout.write(
      `\ncontainers: base images ${names.join(', ')} ready in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
    );
  }
  const built = buildServiceImages();
  process.stdout.write(
    `containers: Docker Engine ${engine}; built ${built.map((b) => `${b.image} in ${b.seconds.toFixed(1)} s`).join(', ')}\n`,
  );
  const dir = join(repoRoot(), 'reports', 'containers');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'build.json'), JSON.stringify({ engine, built }, null, 2));
}
