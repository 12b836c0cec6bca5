/**
 * Validation of rendered objects: built-in kinds against the JSON schemas of the Kubernetes
 * API of the version kind runs (the kubernetes-validate package ships them; strict, so an
 * unknown field fails), Strimzi's against Strimzi's own CRDs (strimzi-crds.ts, unknown fields
 * rejected), the Prometheus Operator's against the shapes in shapes.ts. An object that none
 * covers fails.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { K8sObject } from './render';
import { hasShape, shapeProblems } from './shapes';
import { isStrimzi, strimziProblems } from './strimzi-crds';
import { pinned, run } from './tools';

export function validateObjects(objects: readonly K8sObject[]): string[] {
  const custom = (object: K8sObject) =>
    isStrimzi(object.apiVersion) || hasShape(object.apiVersion, object.kind);
  const builtIn = objects.filter((object) => !custom(object));
  const problems = objects
    .filter(custom)
    .flatMap((object) =>
      isStrimzi(object.apiVersion) ? strimziProblems(object) : shapeProblems(object),
    );
  if (builtIn.length === 0) return problems;
  const dir = mkdtempSync(join(tmpdir(), 'k8s-validate-'));
  try {
    const file = join(dir, 'objects.yaml');
    writeFileSync(file, builtIn.map((object) => stringify(object)).join('---\n'));
    const result = run('kubernetes-validate', [
      '--kubernetes-version',
      pinned('KUBERNETES_VERSION'),
      '--strict',
      file,
    ]);
    const lines = `${result.stdout}\n${result.stderr}`.split('\n');
    problems.push(...lines.filter((line) => line.startsWith('ERROR')));
    // A kind without a schema is only a warning for kubernetes-validate; here it fails.
    problems.push(
      ...lines.filter((line) => line.startsWith('WARN') && line.includes("Couldn't find schema")),
    );
    const passed = lines.filter(
      (line) => line.startsWith('INFO') && line.includes(' passed '),
    ).length;
    if (problems.length === 0 && passed !== builtIn.length) {
      problems.push(
        `kubernetes-validate passed ${passed} of ${builtIn.length} objects:\n${lines.join('\n')}`,
      );
    }
    if (result.status !== 0 && problems.length === 0) {
      problems.push(`kubernetes-validate exited ${result.status}: ${result.stderr}`);
    }
    return problems;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
