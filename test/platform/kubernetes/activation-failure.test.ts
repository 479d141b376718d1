import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Condition } from '../../../pkg/apis/meta.js';
import type { KfnFunction } from '../../../pkg/apis/function/types.js';
import { activationFailureOf } from '../../../pkg/platform/kubernetes/activation-failure.js';

const fnWith = (conditions: Condition[]): KfnFunction => ({
  apiVersion: 'kfn.dev/v1alpha1',
  kind: 'Function',
  metadata: { name: 'hello', namespace: 'default' },
  spec: { image: 'x' },
  status: { conditions },
});

const rows: Array<{ name: string; conditions: Condition[]; want: string | undefined }> = [
  { name: 'no status: nothing to fail on', conditions: [], want: undefined },
  { name: 'crash loop fails fast', conditions: [{ type: 'DeploymentReady', status: 'False', reason: 'CrashLoop', message: 'exit 3' }], want: 'CrashLoop: exit 3' },
  { name: 'image pull failure fails fast', conditions: [{ type: 'DeploymentReady', status: 'False', reason: 'ImagePullFailed', message: 'no such image' }], want: 'ImagePullFailed: no such image' },
  { name: 'unschedulable waits: capacity may appear', conditions: [{ type: 'DeploymentReady', status: 'False', reason: 'Unschedulable', message: '0/3 nodes' }], want: undefined },
  {
    name: 'a child the API server refuses as invalid fails fast: only a new spec changes that',
    conditions: [{ type: 'DeploymentReady', status: 'False', reason: 'ChildInvalid', message: 'cannot write Deployment default/hello: 422' }],
    want: 'ChildInvalid: cannot write Deployment default/hello: 422',
  },
  { name: 'a child refused by RBAC or a webhook waits: an operator may fix it, old children may serve', conditions: [{ type: 'DeploymentReady', status: 'False', reason: 'ChildForbidden', message: '403' }], want: undefined },
  { name: 'a child refused by a quota on object counts waits', conditions: [{ type: 'DeploymentReady', status: 'False', reason: 'ChildQuotaExceeded', message: '403' }], want: undefined },
  { name: 'a child write that failed for another reason waits', conditions: [{ type: 'DeploymentReady', status: 'False', reason: 'ChildWriteFailed', message: '500' }], want: undefined },
  { name: 'starting is not a failure', conditions: [{ type: 'DeploymentReady', status: 'Unknown', reason: 'Starting' }], want: undefined },
  { name: 'ready is not a failure', conditions: [{ type: 'DeploymentReady', status: 'True' }], want: undefined },
];

for (const row of rows) {
  test(`activationFailureOf: ${row.name}`, () => {
    const f = activationFailureOf(fnWith(row.conditions));
    assert.equal(f ? `${f.reason}: ${f.message}` : undefined, row.want);
  });
}
