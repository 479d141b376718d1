import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { FieldError } from '../../../pkg/apis/meta.js';
import type { FunctionStatus, KfnFunction } from '../../../pkg/apis/function/types.js';
import { localFunctionStatus } from '../../../pkg/dev/status.js';
import { functionStatusFromCluster } from '../../../pkg/reconciler/function/status.js';
import {
  deployment,
  fn,
  NOW,
  pod,
  withCondition,
  withDeleting,
  withGeneration,
  withLastTermination,
  withPodImage,
  withReadyReplicas,
  withReplicas,
  withRestarts,
  withSpecReplicas,
  withStatus,
  withUnschedulable,
  withWaiting,
} from './fixtures.js';

const DOMAIN = 'kfn.example.com';

interface Given {
  fn?: KfnFunction;
  deployment?: V1Deployment;
  pods?: V1Pod[];
  desired?: number;
  invalid?: FieldError[];
}

/** [status, reason?, message pattern?] per condition type. */
type WantCondition = [string, string?, RegExp?];

const rows: Array<{ name: string; given: Given; want: { conditions: Record<string, WantCondition>; replicas?: number; readyReplicas?: number; desiredReplicas?: number; restarts?: number } }> = [
  {
    name: 'no Deployment yet: Unknown/Deploying',
    given: {},
    want: { conditions: { Ready: ['Unknown', 'Deploying'], DeploymentReady: ['Unknown', 'Deploying'], Active: ['False', 'Activating'] }, desiredReplicas: 1 },
  },
  {
    name: 'replicas starting: Unknown/Starting, Activating',
    given: { deployment: deployment(withReplicas(1)), desired: 1 },
    want: { conditions: { Ready: ['Unknown', 'Starting', /1 replica/], DeploymentReady: ['Unknown', 'Starting'], Active: ['False', 'Activating'] }, replicas: 1, readyReplicas: 0 },
  },
  {
    name: 'a ready replica: Ready, Active',
    given: { deployment: deployment(withSpecReplicas(2), withReplicas(2), withReadyReplicas(2)), pods: [pod(), pod()] },
    want: { conditions: { Ready: ['True'], DeploymentReady: ['True'], Active: ['True'] }, replicas: 2, readyReplicas: 2, desiredReplicas: 2 },
  },
  {
    name: 'scaled to zero: Ready, Active=False NoTraffic',
    given: { deployment: deployment(withSpecReplicas(0)), desired: 0 },
    want: { conditions: { Ready: ['True'], DeploymentReady: ['True'], Active: ['False', 'NoTraffic'] }, desiredReplicas: 0 },
  },
  {
    name: 'desired from the autoscaler wins over the Deployment',
    given: { deployment: deployment(withSpecReplicas(1), withReplicas(1), withReadyReplicas(1)), desired: 4 },
    want: { conditions: { Ready: ['True'], Active: ['True'] }, desiredReplicas: 4 },
  },
  {
    name: 'ErrImagePull: ImagePullFailed naming the image and the kubelet message',
    given: {
      deployment: deployment(withReplicas(1)),
      pods: [pod(withPodImage('registry.example/helo:1'), withWaiting('ErrImagePull', 'rpc error: manifest unknown'))],
      desired: 1,
    },
    want: {
      conditions: {
        Ready: ['False', 'ImagePullFailed', /"registry\.example\/helo:1".*manifest unknown/],
        DeploymentReady: ['False', 'ImagePullFailed'],
        Active: ['False', 'ImagePullFailed'],
      },
    },
  },
  {
    name: 'ImagePullBackOff: ImagePullFailed',
    given: { deployment: deployment(withReplicas(1)), pods: [pod(withWaiting('ImagePullBackOff', 'Back-off pulling image "x"'))], desired: 1 },
    want: { conditions: { Ready: ['False', 'ImagePullFailed', /ImagePullBackOff.*Back-off pulling image "x"/] } },
  },
  {
    name: 'CrashLoopBackOff: CrashLoop with the last exit code, reason and message',
    given: {
      deployment: deployment(withReplicas(1)),
      pods: [pod(withWaiting('CrashLoopBackOff', 'back-off 40s'), withRestarts(4), withLastTermination(1, 'Error', 'Error: cannot find module server.js\n'))],
      desired: 1,
    },
    want: {
      conditions: { Ready: ['False', 'CrashLoop', /restarted 4 times.*exit code 1 \(Error\): Error: cannot find module server\.js$/], Active: ['False', 'CrashLoop'] },
      restarts: 4,
    },
  },
  {
    name: 'CrashLoopBackOff from OOM: the reason says OOMKilled',
    given: { deployment: deployment(withReplicas(1)), pods: [pod(withWaiting('CrashLoopBackOff'), withRestarts(2), withLastTermination(137, 'OOMKilled'))], desired: 1 },
    want: { conditions: { Ready: ['False', 'CrashLoop', /exit code 137 \(OOMKilled\)/] } },
  },
  {
    name: 'a crash-looping new replica while old ones serve: not Ready, still Active',
    given: {
      deployment: deployment(withSpecReplicas(2), withReplicas(3), withReadyReplicas(2)),
      pods: [pod(), pod(), pod(withWaiting('CrashLoopBackOff'), withRestarts(3), withLastTermination(2))],
    },
    want: { conditions: { Ready: ['False', 'CrashLoop'], DeploymentReady: ['False', 'CrashLoop'], Active: ['True'] }, restarts: 3 },
  },
  {
    name: 'CreateContainerConfigError: ContainerConfigError with the kubelet message',
    given: { deployment: deployment(withReplicas(1)), pods: [pod(withWaiting('CreateContainerConfigError', 'secret "creds" not found'))], desired: 1 },
    want: { conditions: { Ready: ['False', 'ContainerConfigError', /secret "creds" not found/] } },
  },
  {
    name: 'unschedulable with nothing ready: Unschedulable with the scheduler message',
    given: { deployment: deployment(withReplicas(1)), pods: [pod(withUnschedulable('0/3 nodes are available: 3 Insufficient cpu.'))], desired: 1 },
    want: { conditions: { Ready: ['False', 'Unschedulable', /0\/3 nodes are available: 3 Insufficient cpu\./], Active: ['False', 'Unschedulable'] } },
  },
  {
    name: 'unschedulable extra replica while one serves: capacity shortfall, still Ready',
    given: {
      deployment: deployment(withSpecReplicas(2), withReplicas(2), withReadyReplicas(1)),
      pods: [pod(), pod(withUnschedulable('0/3 nodes are available: 3 Insufficient cpu.'))],
    },
    want: { conditions: { Ready: ['True'], DeploymentReady: ['True'], Active: ['True'] } },
  },
  {
    name: 'ReplicaFailure exceeded quota: QuotaExceeded with the API message',
    given: {
      deployment: deployment(
        withCondition('ReplicaFailure', 'True', 'FailedCreate', 'pods "hello-5d8f7c-x" is forbidden: exceeded quota: compute, requested: cpu=1, used: cpu=4, limited: cpu=4'),
      ),
      desired: 1,
    },
    want: { conditions: { Ready: ['False', 'QuotaExceeded', /exceeded quota: compute/], DeploymentReady: ['False', 'QuotaExceeded'], Active: ['False', 'QuotaExceeded'] } },
  },
  {
    name: 'ReplicaFailure for another cause (Pod Security): FailedCreate with the API message',
    given: {
      deployment: deployment(withCondition('ReplicaFailure', 'True', 'FailedCreate', 'pods "x" is forbidden: violates PodSecurity "restricted:latest": runAsNonRoot != true')),
      desired: 1,
    },
    want: { conditions: { Ready: ['False', 'FailedCreate', /runAsNonRoot != true/] } },
  },
  {
    name: 'progress deadline exceeded: ProgressDeadlineExceeded',
    given: {
      deployment: deployment(withReplicas(1), withCondition('Progressing', 'False', 'ProgressDeadlineExceeded', 'ReplicaSet "hello-5d8f7c" has timed out progressing.')),
      desired: 1,
    },
    want: { conditions: { Ready: ['False', 'ProgressDeadlineExceeded', /timed out progressing/], DeploymentReady: ['False', 'ProgressDeadlineExceeded'] } },
  },
  {
    name: 'invalid spec: InvalidSpec naming the field, even with replicas serving the old spec',
    given: {
      deployment: deployment(withSpecReplicas(1), withReplicas(1), withReadyReplicas(1)),
      pods: [pod()],
      invalid: [{ field: 'spec.scale.max', message: 'must be >= spec.scale.min' }],
    },
    want: { conditions: { Ready: ['False', 'InvalidSpec', /spec\.scale\.max: must be >= spec\.scale\.min/], DeploymentReady: ['False', 'InvalidSpec'], Active: ['True'] } },
  },
  {
    name: 'the most specific failure wins: image pull over the progress deadline',
    given: {
      deployment: deployment(withReplicas(1), withCondition('Progressing', 'False', 'ProgressDeadlineExceeded', 'timed out')),
      pods: [pod(withWaiting('ImagePullBackOff', 'not found'))],
      desired: 1,
    },
    want: { conditions: { Ready: ['False', 'ImagePullFailed'] } },
  },
  {
    name: 'a terminating pod in trouble says nothing about the current spec',
    given: {
      deployment: deployment(withSpecReplicas(1), withReplicas(2), withReadyReplicas(1)),
      pods: [pod(), pod(withDeleting(), withWaiting('CrashLoopBackOff'), withRestarts(5))],
    },
    want: { conditions: { Ready: ['True'], Active: ['True'] }, restarts: 5 },
  },
  {
    name: 'restarts add up over pods',
    given: { deployment: deployment(withSpecReplicas(2), withReplicas(2), withReadyReplicas(2)), pods: [pod(withRestarts(1)), pod(withRestarts(2))] },
    want: { conditions: { Ready: ['True'] }, restarts: 3 },
  },
];

for (const row of rows) {
  test(`functionStatusFromCluster: ${row.name}`, () => {
    const f = row.given.fn ?? fn('default', 'hello', withGeneration(4));
    const st = functionStatusFromCluster(f, {
      deployment: row.given.deployment,
      pods: row.given.pods,
      desiredReplicas: row.given.desired,
      invalid: row.given.invalid,
      now: NOW,
      domain: DOMAIN,
    });
    for (const [type, [status, reason, message]] of Object.entries(row.want.conditions)) {
      const c = st.conditions?.find((x) => x.type === type);
      assert.equal(c?.status, status, `${type}: ${JSON.stringify(st.conditions)}`);
      if (reason !== undefined) assert.equal(c?.reason, reason, `${type} reason`);
      if (message !== undefined) assert.match(c?.message ?? '', message, `${type} message`);
    }
    assert.equal(st.url, 'http://hello.default.kfn.example.com');
    assert.equal(st.observedGeneration, 4);
    for (const k of ['replicas', 'readyReplicas', 'desiredReplicas', 'restarts'] as const) {
      if (row.want[k] !== undefined) assert.equal(st[k], row.want[k], k);
    }
  });
}

test('functionStatusFromCluster is stable: the same cluster later gives an equal status, so nothing is rewritten', () => {
  const view = { deployment: deployment(withReplicas(1)), pods: [pod(withWaiting('ImagePullBackOff', 'x'))], desiredReplicas: 1, domain: DOMAIN };
  const first = functionStatusFromCluster(fn('default', 'hello'), { ...view, now: NOW });
  const later = functionStatusFromCluster(fn('default', 'hello', withStatus(first)), { ...view, now: new Date(NOW.getTime() + 60_000) });
  assert.deepEqual(later, first);
});

test('functionStatusFromCluster: lastTransitionTime moves only when a condition flips', () => {
  const failing = functionStatusFromCluster(fn('default', 'hello'), {
    deployment: deployment(withReplicas(1)),
    pods: [pod(withWaiting('ImagePullBackOff'))],
    desiredReplicas: 1,
    now: NOW,
    domain: DOMAIN,
  });
  const later = new Date(NOW.getTime() + 30_000);
  const fixed = functionStatusFromCluster(fn('default', 'hello', withStatus(failing)), {
    deployment: deployment(withReplicas(1), withReadyReplicas(1)),
    pods: [pod()],
    desiredReplicas: 1,
    now: later,
    domain: DOMAIN,
  });
  const ready = fixed.conditions?.find((c) => c.type === 'Ready');
  assert.equal(ready?.status, 'True');
  assert.equal(ready?.lastTransitionTime, later.toISOString());
});

// Local mode and the cluster must tell a user the same thing for the same situation.
const sameAsLocal: Array<{ name: string; local: Parameters<typeof localFunctionStatus>[1]['workload']; desired?: number; cluster: Given }> = [
  { name: 'no workload yet, the autoscaler not heard from: Activating toward the initial scale', local: undefined, cluster: {} },
  { name: 'no workload yet, the autoscaler wants none', local: undefined, desired: 0, cluster: {} },
  { name: 'scaled to zero', local: { desiredReplicas: 0, replicas: 0, readyReplicas: 0, restarts: 0 }, desired: 0, cluster: { deployment: deployment(withSpecReplicas(0)) } },
  { name: 'starting', local: { desiredReplicas: 1, replicas: 1, readyReplicas: 0, restarts: 0 }, desired: 1, cluster: { deployment: deployment(withReplicas(1)) } },
  { name: 'serving', local: { desiredReplicas: 2, replicas: 2, readyReplicas: 1, restarts: 0 }, desired: 2, cluster: { deployment: deployment(withReplicas(2), withReadyReplicas(1)) } },
  {
    name: 'failing to start',
    local: { desiredReplicas: 1, replicas: 1, readyReplicas: 0, restarts: 3, failure: { reason: 'CrashLoop', message: 'm' } },
    desired: 1,
    cluster: { deployment: deployment(withReplicas(1)), pods: [pod(withWaiting('CrashLoopBackOff'), withRestarts(3))] },
  },
];

for (const row of sameAsLocal) {
  test(`functionStatusFromCluster agrees with local mode on condition statuses and reasons: ${row.name}`, () => {
    const f = fn('default', 'hello');
    const local = localFunctionStatus(f, { workload: row.local, scaler: row.desired === undefined ? undefined : { desiredReplicas: row.desired }, url: 'u', now: NOW });
    const cluster = functionStatusFromCluster(f, { ...row.cluster, desiredReplicas: row.desired, now: NOW, domain: DOMAIN });
    assert.deepEqual(summary(cluster), summary(local));
    assert.equal(cluster.desiredReplicas, local.desiredReplicas);
  });
}

function summary(st: FunctionStatus): Array<[string, string, string | undefined]> {
  return (st.conditions ?? []).map((c) => [c.type, c.status, c.reason]);
}
