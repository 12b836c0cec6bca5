import { gzipSync } from 'node:zlib';
import {
  decodeHelmRelease,
  differences,
  latestRelease,
  manifestObjects,
  shutdownContract,
} from '../e2e/support/release';

/** A Secret as Helm's storage writes it and the API returns it (base64 of base64 of gzip). */
function helmSecret(version: number, status: string, manifest: string) {
  const stored = gzipSync(
    Buffer.from(JSON.stringify({ name: 'event-pipeline', version, manifest, info: { status } })),
  );
  return {
    metadata: {
      labels: { owner: 'helm', name: 'event-pipeline', status, version: String(version) },
    },
    data: { release: Buffer.from(stored.toString('base64')).toString('base64') },
  };
}

const MANIFEST = `---
# Source: event-pipeline/templates/producer.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: event-pipeline-producer
spec:
  template:
    spec:
      terminationGracePeriodSeconds: 30
      containers:
        - name: producer
          startupProbe: {httpGet: {path: /livez, port: management}, periodSeconds: 2, failureThreshold: 30}
          readinessProbe: {httpGet: {path: /readyz, port: management}, periodSeconds: 5}
          livenessProbe: {httpGet: {path: /livez, port: management}, periodSeconds: 10}
          lifecycle: {preStop: {sleep: {seconds: 5}}}
---
apiVersion: v1
kind: Service
metadata:
  name: event-pipeline-producer
`;

describe('e2e release and shutdown contract', () => {
  test("reads the newest deployed release from Helm's Secrets", () => {
    const release = latestRelease([
      helmSecret(1, 'superseded', 'old'),
      helmSecret(3, 'deployed', MANIFEST),
      helmSecret(4, 'failed', 'broken'),
    ]);
    expect(release.version).toBe(3);
    expect(manifestObjects(release.manifest).map((o) => o.kind)).toEqual(['Deployment', 'Service']);
    expect(() => latestRelease([helmSecret(1, 'superseded', 'old')])).toThrow(/no deployed/);
    expect(() => decodeHelmRelease({})).toThrow(/not a Helm release/);
  });

  test("the live pod matches when it has what was rendered plus the API server's defaults", () => {
    const [deployment] = manifestObjects(MANIFEST);
    const rendered = shutdownContract(
      (deployment?.spec as { template: { spec: never } }).template.spec,
    );
    const live = {
      terminationGracePeriodSeconds: 30,
      containers: [
        {
          name: 'producer',
          startupProbe: {
            httpGet: { path: '/livez', port: 'management', scheme: 'HTTP' },
            periodSeconds: 2,
            failureThreshold: 30,
            successThreshold: 1,
            timeoutSeconds: 1,
          },
          readinessProbe: {
            httpGet: { path: '/readyz', port: 'management', scheme: 'HTTP' },
            periodSeconds: 5,
          },
          livenessProbe: {
            httpGet: { path: '/livez', port: 'management', scheme: 'HTTP' },
            periodSeconds: 10,
          },
          lifecycle: { preStop: { sleep: { seconds: 5 } } },
        },
      ],
    };
    expect(differences(rendered, shutdownContract(live))).toEqual([]);
    const changed = structuredClone(live);
    changed.terminationGracePeriodSeconds = 10;
    changed.containers[0]!.lifecycle.preStop.sleep.seconds = 0;
    delete (changed.containers[0] as { livenessProbe?: unknown }).livenessProbe;
    expect(differences(rendered, shutdownContract(changed))).toEqual([
      '.terminationGracePeriodSeconds: rendered 30, live 10',
      '.containers.producer.livenessProbe: rendered {"httpGet":{"path":"/livez","port":"management"},"periodSeconds":10}, live undefined',
      '.containers.producer.preStop.sleep.seconds: rendered 5, live 0',
    ]);
  });
});
