/**
 * What `helm get manifest` shows, read from Helm's storage through the Kubernetes API, and the
 * parts of a pod spec the chart promises (probes, preStop, grace period), compared field by
 * field. Pure: tests/unit/e2e-release.test.ts.
 */
import { gunzipSync } from 'node:zlib';
import { parseAllDocuments } from 'yaml';

export interface HelmRelease {
  name: string;
  version: number;
  manifest: string;
  info?: { status?: string };
}

/**
 * Helm's Secret storage: `data.release` holds base64 (the Secret's own encoding) of base64 of
 * the gzipped release JSON.
 */
export function decodeHelmRelease(secretData: Readonly<Record<string, string>>): HelmRelease {
  const field = secretData.release;
  if (field === undefined) throw new Error('the Secret has no `release` key: not a Helm release');
  const inner = Buffer.from(Buffer.from(field, 'base64').toString('utf8'), 'base64');
  const json = inner[0] === 0x1f && inner[1] === 0x8b ? gunzipSync(inner) : inner;
  const release = JSON.parse(json.toString('utf8')) as HelmRelease;
  if (typeof release.manifest !== 'string') throw new Error('the Helm release has no manifest');
  return release;
}

/** The newest deployed release among Helm's Secrets (label `version` orders them). */
export function latestRelease(
  secrets: ReadonlyArray<{
    metadata?: { labels?: Record<string, string> };
    data?: Record<string, string>;
  }>,
): HelmRelease {
  const deployed = secrets
    .filter((s) => s.metadata?.labels?.owner === 'helm' && s.metadata.labels.status === 'deployed')
    .sort(
      (a, b) => Number(b.metadata?.labels?.version ?? 0) - Number(a.metadata?.labels?.version ?? 0),
    );
  const newest = deployed[0];
  if (newest?.data === undefined) throw new Error('no deployed Helm release found');
  return decodeHelmRelease(newest.data);
}

export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec?: unknown;
}

export function manifestObjects(manifest: string): ManifestObject[] {
  return parseAllDocuments(manifest)
    .map((doc) => doc.toJS() as ManifestObject | null)
    .filter((o): o is ManifestObject => o !== null && typeof o === 'object');
}

export interface ContainerLike {
  name: string;
  startupProbe?: unknown;
  readinessProbe?: unknown;
  livenessProbe?: unknown;
  lifecycle?: { preStop?: unknown };
}

export interface PodSpecLike {
  terminationGracePeriodSeconds?: number;
  containers: ContainerLike[];
}

/** The part of a pod spec that graceful shutdown and health depend on. */
export function shutdownContract(spec: PodSpecLike): Record<string, unknown> {
  return {
    terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
    containers: Object.fromEntries(
      spec.containers.map((c) => [
        c.name,
        {
          startupProbe: c.startupProbe,
          readinessProbe: c.readinessProbe,
          livenessProbe: c.livenessProbe,
          preStop: c.lifecycle?.preStop,
        },
      ]),
    ),
  };
}

/**
 * Where `actual` differs from what `expected` sets. Fields `expected` leaves out are not
 * compared: the API server fills in defaults (scheme: HTTP, successThreshold: 1, ...).
 */
export function differences(expected: unknown, actual: unknown, path = ''): string[] {
  if (expected === undefined) return [];
  if (expected === null || typeof expected !== 'object') {
    return expected === actual
      ? []
      : [`${path || '.'}: rendered ${JSON.stringify(expected)}, live ${JSON.stringify(actual)}`];
  }
  if (actual === null || typeof actual !== 'object') {
    return [`${path || '.'}: rendered ${JSON.stringify(expected)}, live ${JSON.stringify(actual)}`];
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) {
      return [
        `${path}: rendered ${expected.length} items, live ${Array.isArray(actual) ? actual.length : 'none'}`,
      ];
    }
    return expected.flatMap((item, i) => differences(item, actual[i], `${path}[${i}]`));
  }
  return Object.entries(expected as Record<string, unknown>).flatMap(([key, value]) =>
    differences(value, (actual as Record<string, unknown>)[key], `${path}.${key}`),
  );
}
