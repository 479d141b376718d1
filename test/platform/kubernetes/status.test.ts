import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Deployment } from '@kubernetes/client-node';
import { functionKeyOfDeployment, workloadStatusOf } from '../../../pkg/platform/kubernetes/status.js';
import type { WorkloadStatus } from '../../../pkg/platform/types.js';
import { deployment } from './fixtures.js';

const now = new Date(0);

describe('workloadStatusOf: a function workload status from its Deployment', () => {
  const rows: Array<{ name: string; given: V1Deployment; want: WorkloadStatus }> = [
    { name: 'new, no status yet', given: deployment('hello', { replicas: 2 }), want: { desiredReplicas: 2, replicas: 0, readyReplicas: 0, restarts: 0 } },
    {
      name: 'serving: replicas and ready replicas from status',
      given: deployment('hello', { replicas: 3, status: { replicas: 3, readyReplicas: 2 } }),
      want: { desiredReplicas: 3, replicas: 3, readyReplicas: 2, restarts: 0 },
    },
    {
      name: 'spec.replicas unset means 1, as the API server defaults it',
      given: { ...deployment('hello'), spec: { ...deployment('hello').spec!, replicas: undefined } },
      want: { desiredReplicas: 1, replicas: 0, readyReplicas: 0, restarts: 0 },
    },
    {
      name: 'ReplicaFailure=True is a failure with its reason and message',
      given: deployment('hello', {
        status: { conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'exceeded quota: pods', lastUpdateTime: now }] },
      }),
      want: { desiredReplicas: 1, replicas: 0, readyReplicas: 0, restarts: 0, failure: { reason: 'FailedCreate', message: 'exceeded quota: pods' } },
    },
    {
      name: 'Progressing=False (deadline exceeded) is a failure',
      given: deployment('hello', {
        status: { replicas: 1, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "hello-1" has timed out progressing.' }] },
      }),
      want: { desiredReplicas: 1, replicas: 1, readyReplicas: 0, restarts: 0, failure: { reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "hello-1" has timed out progressing.' } },
    },
    {
      name: 'Progressing=True and Available=False are no failure (a rollout or a cold start)',
      given: deployment('hello', {
        status: { conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated' }, { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' }] },
      }),
      want: { desiredReplicas: 1, replicas: 0, readyReplicas: 0, restarts: 0 },
    },
  ];
  for (const row of rows) {
    it(row.name, () => assert.deepEqual(workloadStatusOf(row.given), row.want));
  }

  it('the function key comes from the kfn.dev/function label, else the name', () => {
    assert.deepEqual(functionKeyOfDeployment(deployment('hello', { namespace: 'team-a' })), { namespace: 'team-a', name: 'hello' });
    assert.deepEqual(functionKeyOfDeployment({ metadata: { name: 'bare', namespace: 'default' } }), { namespace: 'default', name: 'bare' });
    assert.equal(functionKeyOfDeployment({ metadata: { name: 'x' } }), undefined);
  });
});
