import {
  containerRestarts,
  deploymentRolledOut,
  kafkaReady,
  podReady,
  readyEndpointPods,
  restartPatch,
  statefulSetReady,
  type ContainerStatusLike,
  type PodWithContainers,
} from '../e2e/support/conditions';

describe('e2e conditions', () => {
  test('Kafka is ready only with Ready=True for the current generation', () => {
    expect(kafkaReady(undefined).ready).toBe(false);
    const notReady = kafkaReady({
      status: { conditions: [{ type: 'NotReady', status: 'True', message: 'rolling' }] },
    });
    expect(notReady).toEqual({ ready: false, status: 'not Ready: NotReady' });
    const stale = kafkaReady({
      metadata: { generation: 3 },
      status: { observedGeneration: 2, conditions: [{ type: 'Ready', status: 'True' }] },
    });
    expect(stale.ready).toBe(false);
    expect(
      kafkaReady({
        metadata: { generation: 3 },
        status: { observedGeneration: 3, conditions: [{ type: 'Ready', status: 'True' }] },
      }),
    ).toEqual({ ready: true, status: 'Ready' });
  });

  const available = [{ type: 'Available', status: 'True' }];
  test('a Deployment is rolled out when every replica is updated and available and no old one is left', () => {
    const base = { metadata: { generation: 2 }, spec: { replicas: 2 } };
    expect(deploymentRolledOut(undefined).ready).toBe(false);
    expect(deploymentRolledOut({ ...base, status: { observedGeneration: 1 } }).status).toMatch(
      /new spec/,
    );
    expect(
      deploymentRolledOut({
        ...base,
        status: {
          observedGeneration: 2,
          replicas: 3,
          updatedReplicas: 2,
          availableReplicas: 2,
          conditions: available,
        },
      }).status,
    ).toMatch(/old replicas terminating/);
    expect(
      deploymentRolledOut({
        ...base,
        status: {
          observedGeneration: 2,
          replicas: 2,
          updatedReplicas: 1,
          availableReplicas: 2,
          conditions: available,
        },
      }).ready,
    ).toBe(false);
    expect(
      deploymentRolledOut({
        ...base,
        status: {
          observedGeneration: 2,
          replicas: 2,
          updatedReplicas: 2,
          availableReplicas: 1,
          conditions: available,
        },
      }).ready,
    ).toBe(false);
    expect(
      deploymentRolledOut({
        ...base,
        status: {
          observedGeneration: 2,
          replicas: 2,
          updatedReplicas: 2,
          availableReplicas: 2,
          conditions: [
            {
              type: 'Progressing',
              status: 'False',
              reason: 'ProgressDeadlineExceeded',
              message: 'stuck',
            },
          ],
        },
      }).status,
    ).toBe('rollout stuck: stuck');
    expect(
      deploymentRolledOut({
        ...base,
        status: {
          observedGeneration: 2,
          replicas: 2,
          updatedReplicas: 2,
          availableReplicas: 2,
          conditions: available,
        },
      }),
    ).toEqual({ ready: true, status: '2/2 updated, 2 available, 2 in total, Available' });
  });

  test('the restart patch sets the annotation kubectl rollout restart sets', () => {
    const at = new Date('2026-11-25T12:00:00Z');
    expect(restartPatch(at)).toEqual({
      spec: {
        template: {
          metadata: {
            annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-25T12:00:00.000Z' },
          },
        },
      },
    });
  });

  test('ready pods and ready endpoints exclude terminating ones', () => {
    const ready = { type: 'Ready', status: 'True' };
    expect(podReady({ status: { phase: 'Running', conditions: [ready] } })).toBe(true);
    expect(
      podReady({
        metadata: { deletionTimestamp: '2026-01-01T00:00:00Z' },
        status: { phase: 'Running', conditions: [ready] },
      }),
    ).toBe(false);
    expect(podReady({ status: { phase: 'Pending', conditions: [ready] } })).toBe(false);
    expect(
      readyEndpointPods([
        {
          endpoints: [
            { conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'b' } },
            {
              conditions: { ready: false, serving: true, terminating: true },
              targetRef: { kind: 'Pod', name: 'old' },
            },
            { conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'a' } },
          ],
        },
        { endpoints: [{ conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'a' } }] },
      ]),
    ).toEqual(['a', 'b']);
  });

  test('a StatefulSet is ready with every replica of the current revision ready', () => {
    const base = { metadata: { generation: 2 }, spec: { replicas: 3 } };
    expect(statefulSetReady(undefined).ready).toBe(false);
    expect(statefulSetReady({ ...base, status: { observedGeneration: 1 } }).status).toMatch(
      /not yet observed/,
    );
    const rolling = {
      observedGeneration: 2,
      readyReplicas: 3,
      updatedReplicas: 2,
      currentRevision: 'a',
      updateRevision: 'b',
    };
    expect(statefulSetReady({ ...base, status: rolling }).status).toBe('2 of 3 replicas updated');
    const updatedNotReady = {
      ...rolling,
      updatedReplicas: 3,
      readyReplicas: 2,
      currentRevision: 'b',
    };
    expect(statefulSetReady({ ...base, status: updatedNotReady })).toEqual({
      ready: false,
      status: '2 of 3 replicas ready',
    });
    expect(statefulSetReady({ ...base, status: { ...updatedNotReady, readyReplicas: 3 } })).toEqual(
      {
        ready: true,
        status: '3 of 3 replicas ready',
      },
    );
  });
});

describe('container restarts', () => {
  const running = { running: { startedAt: '2026-12-07T14:40:00Z' } };
  const startError = {
    terminated: { reason: 'StartError', exitCode: 128, message: 'runc create failed: timeout' },
  };
  const pod = (name: string, status: Omit<ContainerStatusLike, 'name'>): PodWithContainers => ({
    metadata: { name },
    status: { containerStatuses: [{ name: 'producer', ...status }] },
  });

  test('none restarted: nothing to report', () => {
    expect(containerRestarts([pod('a', { restartCount: 0, ready: true, state: running })])).toEqual(
      { crashes: [], runtimeStartFailures: [] },
    );
  });

  test('one failed start by the runtime, then running and ready, is not a crash', () => {
    const result = containerRestarts([
      pod('a', { restartCount: 1, ready: true, state: running, lastState: startError }),
    ]);
    expect(result.crashes).toEqual([]);
    expect(result.runtimeStartFailures).toEqual([
      'a/producer: 1 restart(s), last StartError (exit 128): runc create failed: timeout',
    ]);
  });

  test.each([
    ['our process exited', { reason: 'Error', exitCode: 1 }, 1, true, running],
    ['killed for memory', { reason: 'OOMKilled', exitCode: 137 }, 1, true, running],
    ['StartError with another exit code', { reason: 'StartError', exitCode: 1 }, 1, true, running],
    ['StartError twice', { reason: 'StartError', exitCode: 128 }, 2, true, running],
    ['StartError, not ready since', { reason: 'StartError', exitCode: 128 }, 1, false, running],
    ['StartError, not running since', { reason: 'StartError', exitCode: 128 }, 1, false, {}],
  ])('%s: a crash', (_case, terminated, restartCount, ready, state) => {
    const result = containerRestarts([
      pod('a', { restartCount, ready, state, lastState: { terminated } }),
    ]);
    expect(result.runtimeStartFailures).toEqual([]);
    expect(result.crashes).toHaveLength(1);
    expect(result.crashes[0]).toContain(`last ${terminated.reason} (exit ${terminated.exitCode})`);
  });
});
