/**
 * The Kafka stand-in image: an image built here from the Maven jars of scripts/kafka/fetch.ts
 * that honours the official apache/kafka image's environment contract (see
 * scripts/docker/kafka-stand-in/Dockerfile for what it keeps and how it differs). Used where no
 * registry can be reached, through tests/containers/compose.ci.yaml; compose.yaml names the
 * official image.
 *
 *   ensureKafkaStandIn()              builds the image unless one with the same key exists;
 *                                     returns { image, built, seconds, bytes }
 *   node dist/scripts/docker/kafka-stand-in.js    the same from the command line
 *
 * The key is the Kafka version (scripts/kafka/version.ts) and a hash of the stand-in folder's
 * files, kept as an image label: a changed script or version builds again, nothing else does.
 * The legacy builder (DOCKER_BUILDKIT=0) builds it, as the service images: BuildKit would pull.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureKafkaJars } from '../kafka/fetch';
import { KAFKA_VERSION } from '../kafka/version';
import { docker, dockerOk } from './images';
import { repoRoot } from '../lib/root';

export const KAFKA_STAND_IN_REPOSITORY = 'event-pipeline-kafka-stand-in';
const KEY_LABEL = 'event-pipeline.stand-in.key';

export function kafkaStandInImage(version: string = KAFKA_VERSION): string {
  return `${KAFKA_STAND_IN_REPOSITORY}:${version}`;
}

function standInDir(): string {
  return join(repoRoot(), 'scripts', 'docker', 'kafka-stand-in');
}

/** Kafka version + the content of every file of the stand-in folder. */
function standInKey(version: string): string {
  const hash = createHash('sha256').update(`kafka ${version}\n`);
  for (const name of readdirSync(standInDir()).sort()) {
    hash.update(`${name}\n`).update(readFileSync(join(standInDir(), name)));
  }
  return hash.digest('hex').slice(0, 16);
}

function builtKey(image: string): string | undefined {
  const result = docker([
    'image',
    'inspect',
    '--format',
    `{{ index .Config.Labels "${KEY_LABEL}" }}`,
    image,
  ]);
  return result.status === 0 ? result.stdout.trim() : undefined;
}

export interface KafkaStandIn {
  image: string;
  /** False when an image with the same key was already there. */
  built: boolean;
  seconds: number;
  bytes: number;
}

export async function ensureKafkaStandIn(version: string = KAFKA_VERSION): Promise<KafkaStandIn> {
  const started = performance.now();
  const image = kafkaStandInImage(version);
  const key = standInKey(version);
  let built = false;
  if (builtKey(image) !== key) {
    const libs = await ensureKafkaJars(version);
    // The build context: the stand-in's files and the jars, nothing else of the repository.
    const context = mkdtempSync(join(repoRoot(), '.cache', 'kafka-stand-in-'));
    try {
      cpSync(standInDir(), context, { recursive: true });
      cpSync(libs, join(context, 'libs'), { recursive: true });
      dockerOk(
        [
          'build',
          '--quiet',
          '--build-arg',
          `KAFKA_VERSION=${version}`,
          '--label',
          `${KEY_LABEL}=${key}`,
          '--tag',
          image,
          context,
        ],
        { env: { ...process.env, DOCKER_BUILDKIT: '0' }, timeoutMs: 20 * 60_000 },
      );
      built = true;
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
  }
  const bytes = Number(dockerOk(['image', 'inspect', '--format', '{{.Size}}', image]).trim());
  return { image, built, seconds: (performance.now() - started) / 1000, bytes };
}

if (require.main === module) {
  ensureKafkaStandIn()
    .then(({ image, built, seconds, bytes }) =>
      process.stdout.write(
        `${image}: ${built ? 'built' : 'already built'} in ${seconds.toFixed(1)} s, ${(bytes / 1e6).toFixed(0)} MB\n`,
      ),
    )
    .catch((error: unknown) => {
      process.stderr.write(
        `kafka stand-in: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exit(1);
    });
}
