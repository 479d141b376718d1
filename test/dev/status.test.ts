import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KfnFunction } from '../../pkg/apis/function/types.js';
import type { WorkloadStatus } from '../../pkg/platform/types.js';
import { localFunctionStatus } from '../../pkg/dev/status.js';

const now = new Date('2026-11-22T00:00:00Z');
const fn: KfnFunction = {
  apiVersion: 'kfn.dev/v1alpha1',
  kind: 'Function',
  metadata: { name: 'hello', namespace: 'default', generation: 3 },
  spec: { image: 'kfn/hello' },
};
const workload = (w: Partial<WorkloadStatus>): WorkloadStatus => ({ desiredReplicas: 0, replicas: 0, readyReplicas: 0, restarts: 0, ...w });

const rows: Array<{
  name: string;
  workload: WorkloadStatus | undefined;
  desired?: number;
  want: Record<string, [string, string?]>;
}> = [
  // As on a cluster (and a Knative revision): a new function is activating toward its
  // initial scale, not scaled to zero. Local mode said NoTraffic here before the two met.
  {
    name: 'no workload yet: deploying, and activating toward the initial scale',
    workload: undefined,
    want: { Ready: ['Unknown', 'Deploying'], DeploymentReady: ['Unknown', 'Deploying'], Active: ['False', 'Activating'] },
  },
  {
    name: 'scaled to zero with nothing wrong: Ready, Active=False NoTraffic',
    workload: workload({}),
    desired: 0,
    want: { Ready: ['True'], DeploymentReady: ['True'], Active: ['False', 'NoTraffic'] },
  },
  {
    name: 'starting from zero: Unknown until a replica is ready',
    workload: workload({ desiredReplicas: 1, replicas: 1 }),
    desired: 1,
    want: { Ready: ['Unknown', 'Starting'], Active: ['False', 'Activating'] },
  },
  {
    name: 'one of two ready: Ready and Active',
    workload: workload({ desiredReplicas: 2, replicas: 2, readyReplicas: 1 }),
    desired: 2,
    want: { Ready: ['True'], DeploymentReady: ['True'], Active: ['True'] },
  },
  {
    name: 'exits at start: Ready=False with the platform reason',
    workload: workload({ desiredReplicas: 1, replicas: 1, failure: { reason: 'ExitedAtStart', message: 'exit 3: boom' } }),
    desired: 1,
    want: { Ready: ['False', 'ExitedAtStart'], DeploymentReady: ['False', 'ExitedAtStart'], Active: ['False', 'ExitedAtStart'] },
  },
];

for (const row of rows) {
  test(`localFunctionStatus: ${row.name}`, () => {
    const scaler = row.desired === undefined ? undefined : { desiredReplicas: row.desired };
    const st = localFunctionStatus(fn, { workload: row.workload, scaler, url: 'http://x/default/hello/', now });
    for (const [type, [status, reason]] of Object.entries(row.want)) {
      const c = st.conditions?.find((x) => x.type === type);
      assert.equal(c?.status, status, `${type}: ${JSON.stringify(st.conditions)}`);
      if (reason !== undefined) assert.equal(c?.reason, reason, type);
    }
    assert.equal(st.observedGeneration, 3);
    assert.equal(st.url, 'http://x/default/hello/');
  });
}

test('localFunctionStatus is stable: the same inputs give an equal status, so nothing is rewritten', () => {
  const w = workload({ desiredReplicas: 1, replicas: 1, readyReplicas: 1 });
  const first = localFunctionStatus(fn, { workload: w, scaler: { desiredReplicas: 1 }, url: 'u', now });
  const later = localFunctionStatus({ ...fn, status: first }, { workload: w, scaler: { desiredReplicas: 1 }, url: 'u', now: new Date(now.getTime() + 60_000) });
  assert.deepEqual(later, first);
});
