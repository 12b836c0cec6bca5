/**
 * The Kubernetes side of the suite, with @kubernetes/client-node against the current kube
 * context (or KUBE_CONTEXT). The library is ESM-only and this project is CommonJS: it is
 * loaded with a dynamic import(), which jest allows only under --experimental-vm-modules
 * (`npm run e2e` passes it); its types come in with `resolution-mode: import`.
 */
import { Writable } from 'node:stream';
import type * as k8s from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import type { OpenTunnel } from './forwarder';

export type K8sLib = typeof k8s;

let library: Promise<K8sLib> | undefined;

export function loadClientLibrary(): Promise<K8sLib> {
  library ??= import('@kubernetes/client-node');
  return library;
}

export interface Kube {
  lib: K8sLib;
  kc: k8s.KubeConfig;
  context: string;
  server: string;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  custom: k8s.CustomObjectsApi;
  discovery: k8s.DiscoveryV1Api;
}

export class NoClusterError extends Error {
  override readonly name = 'NoClusterError';
}

const WHAT_TO_RUN =
  'Run `make up` first (it creates the kind cluster `event-pipeline` and deploys Strimzi, Kafka and both services; a few minutes), then `make e2e` again.';

/** The API clients for the context KUBE_CONTEXT names, or the current one. */
export async function connectKube(context = process.env.KUBE_CONTEXT): Promise<Kube> {
  const lib = await loadClientLibrary();
  const kc = new lib.KubeConfig();
  try {
    kc.loadFromDefault();
  } catch (error) {
    throw new NoClusterError(`no usable kubeconfig (${(error as Error).message}). ${WHAT_TO_RUN}`);
  }
  if (context !== undefined && context !== '') {
    if (!kc.getContexts().some((c) => c.name === context)) {
      throw new NoClusterError(`the kubeconfig has no context ${context}. ${WHAT_TO_RUN}`);
    }
    kc.setCurrentContext(context);
  }
  const current = kc.getCurrentContext();
  const server = kc.getCurrentCluster()?.server;
  if (!current || server === undefined) {
    throw new NoClusterError(`the kubeconfig has no current context. ${WHAT_TO_RUN}`);
  }
  return {
    lib,
    kc,
    context: current,
    server,
    core: kc.makeApiClient(lib.CoreV1Api),
    apps: kc.makeApiClient(lib.AppsV1Api),
    custom: kc.makeApiClient(lib.CustomObjectsApi),
    discovery: kc.makeApiClient(lib.DiscoveryV1Api),
  };
}

/** Asks the API server for its version within `timeoutMs`; a clear NoClusterError otherwise. */
export async function assertReachable(
  kube: Kube,
  namespace: string,
  timeoutMs = 10_000,
): Promise<string> {
  const version = kube.kc.makeApiClient(kube.lib.VersionApi);
  let timer: NodeJS.Timeout | undefined;
  try {
    const info = await Promise.race([
      version.getCode(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    await kube.core.readNamespace({ name: namespace }).catch(() => {
      throw new NoClusterError(
        `the cluster of context ${kube.context} has no namespace ${namespace}: nothing is deployed. ${WHAT_TO_RUN}`,
      );
    });
    return info.gitVersion;
  } catch (error) {
    if (error instanceof NoClusterError) throw error;
    throw new NoClusterError(
      `no Kubernetes cluster is reachable through context ${kube.context} (${kube.server}): ${
        error instanceof Error ? error.message : String(error)
      }. ${WHAT_TO_RUN}`,
    );
  } finally {
    clearTimeout(timer);
  }
}

/** Tunnels through the API server's pods/portforward, one WebSocket per connection. */
export function portForwardTunnels(kube: Kube, namespace: string): OpenTunnel {
  const forward = new kube.lib.PortForward(kube.kc);
  return async (pod, port, socket, onError) => {
    const errors = new Writable({
      write(chunk: Buffer, _encoding, done) {
        // The error channel's first frame carries only the port number, which the library
        // strips: an empty chunk is not an error.
        if (chunk.length > 0) onError(chunk.toString('utf8'));
        done();
      },
    });
    const ws = await forward.portForward(namespace, pod, [port], socket, errors, socket);
    if (typeof ws === 'function') throw new Error('unexpected restartable port-forward');
    return {
      close: () => ws.close(),
      onClose: (listener) => {
        ws.on('close', listener);
      },
    };
  };
}

/** GET through the API server's pod proxy, e.g. a pod's /metrics on its management port. */
export function podProxyGet(
  kube: Kube,
  namespace: string,
  pod: string,
  port: number,
  path: string,
): Promise<string> {
  return kube.core.connectGetNamespacedPodProxyWithPath({
    name: `${pod}:${port}`,
    namespace,
    path: path.replace(/^\//, ''),
  });
}

export interface FollowedLog {
  /** The lines printed since the follow began. */
  lines: () => string[];
  /** Settles when the stream ends: the container exited (or the API server closed it). */
  ended: Promise<void>;
  stop: () => void;
}

/** Follows a container's log from now on, as `kubectl logs -f --since=1s` does. */
export async function followLog(
  kube: Kube,
  namespace: string,
  pod: string,
  container: string,
): Promise<FollowedLog> {
  let text = '';
  let end: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => (end = resolve));
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString('utf8');
      done();
    },
    final(done) {
      end();
      done();
    },
  });
  sink.once('error', () => end());
  const controller = await new kube.lib.Log(kube.kc).log(namespace, pod, container, sink, {
    follow: true,
    sinceSeconds: 1,
  });
  return {
    lines: () => text.split('\n').filter((line) => line !== ''),
    ended,
    stop: () => controller.abort(),
  };
}
