/**
 * Before any step: a cluster must answer through the kube context (KUBE_CONTEXT, or the
 * current one) and have the event-pipeline namespace. Otherwise the run fails here, with what
 * to run first; it is never reported as passed.
 */
import { assertReachable, connectKube, NoClusterError } from './support/kube';
import { E2E_NAMESPACE } from './settings';

export default async function globalSetup(): Promise<void> {
  try {
    const kube = await connectKube();
    const version = await assertReachable(kube, E2E_NAMESPACE);
    process.stderr.write(
      `\n[e2e] cluster ${kube.server} (context ${kube.context}, Kubernetes ${version})\n`,
    );
  } catch (error) {
    if (error instanceof NoClusterError) {
      process.stderr.write(`\n[e2e] ${error.message}\n\n`);
    }
    throw error;
  }
}
