/**
 * A real Kubernetes API server for the chart tests: etcd and kube-apiserver (built by
 * `bash scripts/tools/install.sh kube-apiserver` from the Go module proxy, KUBE_APISERVER_VERSION)
 * on free 127.0.0.1 ports, with a serving certificate and a service-account key made with
 * openssl, a static admin token (group system:masters), and a kubeconfig in a temp folder.
 *
 * Only the API server runs: no kube-controller-manager, no scheduler, no kubelet. Objects are
 * admitted (authentication, RBAC, the default admission plugins with PodSecurity, CRD schemas and
 * their CEL rules, strict field validation) and stored; nothing reconciles them, no Pod is scheduled.
 *
 * stop() ends both processes and removes the folder; a watchdog (scripts/watchdog.ts) does the
 * same if the test process dies without stopping them.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { Watchdog } from '../../../scripts/watchdog';
import { pinned, type RunResult } from './tools';
import { freePorts } from '../../../scripts/lib/ports';
import { PollTimeoutError, waitUntil } from '../../../scripts/lib/poll';

/** The context `make up` gives skaffold (`kind-$(CLUSTER)`), pointing at this server. */
export const TEST_CONTEXT = 'kind-event-pipeline';
/** A context whose server is a closed port: a kubectl that ignores --context fails on it. */
export const ELSEWHERE_CONTEXT = 'somewhere-else';

const INSTALL = 'bash scripts/tools/install.sh kube-apiserver';

export function apiServerBinDir(): string {
  const cache = process.env.EVENT_PIPELINE_CACHE ?? join(homedir(), '.cache', 'event-pipeline');
  return join(cache, `kube-apiserver-${pinned('KUBE_APISERVER_VERSION')}`, 'bin');
}

/** The binaries; throws (failing the test) with the command that builds them. */
export function apiServerBinaries(): { kubeApiserver: string; kubectl: string; etcd: string } {
  const dir = apiServerBinDir();
  const bins = {
    kubeApiserver: join(dir, 'kube-apiserver'),
    kubectl: join(dir, 'kubectl'),
    etcd: join(dir, 'etcd'),
  };
  const missing = Object.values(bins).filter((path) => !existsSync(path));
  if (missing.length > 0) {
    throw new Error(
      `the API server's binaries are missing (${missing.join(', ')}): run \`${INSTALL}\` (CI does; the first build takes a while)`,
    );
  }
  return bins;
}

export interface ApiServer {
  readonly url: string;
  readonly dir: string;
  /** A kubeconfig whose current context is TEST_CONTEXT. */
  readonly kubeconfig: string;
  readonly kubectlPath: string;
  /** Writes another kubeconfig with the same contexts and `current` as the current one. */
  kubeconfigWithCurrentContext(current: string): string;
  /** kubectl with this server's kubeconfig and context; any status. */
  kubectl(args: readonly string[], input?: string): RunResult;
  /** kubectl that must succeed; returns stdout. */
  kubectlOk(args: readonly string[], input?: string): string;
  /** Tails of the processes' logs, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

interface Process {
  name: string;
  child: ChildProcess;
  log: string;
  exited: Promise<void>;
}

function openssl(dir: string, args: readonly string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, a serving certificate for 127.0.0.1 signed by it, and a service-account key. */
function makePki(dir: string): void {
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=event-pipeline-test-ca',
  ]);
  openssl(dir, [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=kube-apiserver',
  ]);
  writeFileSync(
    join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes.default.svc\n' +
      'extendedKeyUsage=serverAuth\n',
  );
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'server.ext',
  ]);
  openssl(dir, [
    'genpkey',
    '-algorithm',
    'RSA',
    '-pkeyopt',
    'rsa_keygen_bits:2048',
    '-out',
    'sa.key',
  ]);
}

function tail(file: string, lines = 30): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

function startProcess(name: string, bin: string, args: readonly string[], dir: string): Process {
  const log = join(dir, `${name}.log`);
  const fd = openSync(log, 'a');
  const child = spawn(bin, args, { cwd: dir, stdio: ['ignore', fd, fd] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { name, child, log, exited };
}

async function stopProcess(proc: Process): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  const stopped = await Promise.race([
    proc.exited.then(() => true),
    sleep(20_000, false, { ref: false }),
  ]);
  if (!stopped) {
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
}

/** The status of a GET (0 when it fails); no keep-alive, so no socket outlives the server. */
function getStatus(url: string, ca?: Buffer, token?: string): Promise<number> {
  return new Promise((resolve) => {
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = send(
      url,
      {
        agent: false,
        ...(ca ? { ca } : {}),
        headers: token ? { authorization: `Bearer ${token}` } : {},
        timeout: 5_000,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** Waits until `check` is true; fails at once when one of `processes` exits, with its log. */
async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  processes: readonly Process[],
  timeoutMs: number,
): Promise<void> {
  const alive = async () => {
    const dead = processes.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    if (dead) {
      throw new Error(
        `${dead.name} exited (${dead.child.exitCode ?? dead.child.signalCode}) before ${what}:\n${tail(dead.log)}`,
      );
    }
    return check();
  };
  await waitUntil(what, alive, { timeoutMs, intervalMs: 250 }).catch((error: unknown) => {
    if (!(error instanceof PollTimeoutError)) throw error;
    throw new Error(
      `${what} not within ${timeoutMs / 1000}s:\n${processes.map((p) => `${p.name}:\n${tail(p.log)}`).join('\n')}`,
    );
  });
}

export async function startApiServer(): Promise<ApiServer> {
  const bins = apiServerBinaries();
  const dir = mkdtempSync(join(tmpdir(), 'kube-apiserver-'));
  const watchdog = new Watchdog(dir);
  const processes: Process[] = [];
  const stop = async () => {
    for (const proc of [...processes].reverse()) await stopProcess(proc);
    rmSync(dir, { recursive: true, force: true });
    watchdog.release();
  };
  try {
    makePki(dir);
    const token = randomBytes(24).toString('hex');
    writeFileSync(join(dir, 'tokens.csv'), `${token},admin,admin,system:masters\n`);
    // The fourth port stays closed: the server of ELSEWHERE_CONTEXT.
    const [etcdClient, etcdPeer, securePort, closedPort] = (await freePorts(4)) as [
      number,
      number,
      number,
      number,
    ];
    const etcdUrl = `http://127.0.0.1:${etcdClient}`;

    const etcd = startProcess(
      'etcd',
      bins.etcd,
      [
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-url=${etcdUrl}`,
        `--listen-peer-url=http://127.0.0.1:${etcdPeer}`,
      ],
      dir,
    );
    processes.push(etcd);
    watchdog.track(etcd.child.pid!);
    await waitFor(
      'etcd was healthy',
      async () => (await getStatus(`${etcdUrl}/health`)) === 200,
      processes,
      60_000,
    );

    const apiserver = startProcess(
      'kube-apiserver',
      bins.kubeApiserver,
      [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        // The reconciler of the `kubernetes` Service's endpoints refuses a loopback address; no
        // pod here would use that Service.
        '--endpoint-reconciler-type=none',
        `--secure-port=${securePort}`,
        `--cert-dir=${join(dir, 'certs')}`,
        `--tls-cert-file=${join(dir, 'server.crt')}`,
        `--tls-private-key-file=${join(dir, 'server.key')}`,
        `--token-auth-file=${join(dir, 'tokens.csv')}`,
        '--authorization-mode=RBAC',
        `--service-account-key-file=${join(dir, 'sa.key')}`,
        `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        '--service-cluster-ip-range=10.96.0.0/16',
        '--profiling=false',
      ],
      dir,
    );
    processes.push(apiserver);
    watchdog.track(apiserver.child.pid!);
    const url = `https://127.0.0.1:${securePort}`;
    const ca = readFileSync(join(dir, 'ca.crt'));
    await waitFor(
      'kube-apiserver answered /readyz',
      async () => (await getStatus(`${url}/readyz`, ca, token)) === 200,
      processes,
      180_000,
    );

    const writeKubeconfig = (file: string, current: string) => {
      writeFileSync(
        file,
        stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [
            {
              name: 'test-apiserver',
              cluster: { server: url, 'certificate-authority-data': ca.toString('base64') },
            },
            {
              name: 'closed-port',
              cluster: {
                server: `https://127.0.0.1:${closedPort}`,
                'certificate-authority-data': ca.toString('base64'),
              },
            },
          ],
          users: [{ name: 'admin', user: { token } }],
          contexts: [
            { name: TEST_CONTEXT, context: { cluster: 'test-apiserver', user: 'admin' } },
            { name: ELSEWHERE_CONTEXT, context: { cluster: 'closed-port', user: 'admin' } },
          ],
          'current-context': current,
        }),
        { mode: 0o600 },
      );
      return file;
    };
    const kubeconfig = writeKubeconfig(join(dir, 'kubeconfig'), TEST_CONTEXT);
    let extra = 0;

    const kubectl = (args: readonly string[], input?: string): RunResult => {
      const result = spawnSync(
        bins.kubectl,
        ['--kubeconfig', kubeconfig, '--context', TEST_CONTEXT, ...args],
        { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
      );
      if (result.error) throw result.error;
      return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
    };
    return {
      url,
      dir,
      kubeconfig,
      kubectlPath: bins.kubectl,
      kubeconfigWithCurrentContext: (current) =>
        writeKubeconfig(join(dir, `kubeconfig-${++extra}`), current),
      kubectl,
      kubectlOk: (args, input) => {
        const result = kubectl(args, input);
        if (result.status !== 0) {
          throw new Error(
            `kubectl ${args.join(' ')} exited ${result.status}\n${result.stdout}\n${result.stderr}`,
          );
        }
        return result.stdout;
      },
      logs: () => processes.map((p) => `${p.name}:\n${tail(p.log)}`).join('\n'),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
