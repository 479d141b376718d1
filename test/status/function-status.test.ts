// The Function status rule both modes share (pkg/apis/function/status.ts) as a table:
// observed facts → the conditions a person reads. The cluster's and kfn dev's adapters
// (test/reconciler/function/status.test.ts, test/dev/status.test.ts) only turn what their
// platform shows into these facts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cond, NOW } from './conditions.js';
import type { FunctionStatus, KfnFunction } from '../../pkg/apis/function/types.js';
import { functionStatus, type FunctionFacts } from '../../pkg/apis/function/status.js';

const EARLIER = '2026-11-21T00:00:00.000Z';

function fn(status?: FunctionStatus): KfnFunction {
  return { apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', metadata: { name: 'hello', namespace: 'default', generation: 2 }, spec: { image: 'kfn/hello' }, ...(status ? { status } : {}) };
}
const facts = (f: Partial<FunctionFacts>): FunctionFacts => ({ url: 'http://hello.default.example', desiredReplicas: 1, now: NOW, ...f });
const serving = { replicas: 1, readyReplicas: 1, restarts: 0 };
const starting = { replicas: 1, readyReplicas: 0, restarts: 0 };

/** [status, reason?] per condition type. */
type Want = Record<string, [string, string?]>;

const rows: Array<{ name: string; facts: FunctionFacts; want: Want; message?: [string, RegExp] }> = [
  {
    name: 'no workload yet: Deploying, and Activating toward the replicas it will be created with',
    facts: facts({ desiredReplicas: 1 }),
    want: { Ready: ['Unknown', 'Deploying'], DeploymentReady: ['Unknown', 'Deploying'], Active: ['False', 'Activating'] },
  },
  {
    name: 'scaled to zero with nothing wrong: Ready, Active=False NoTraffic',
    facts: facts({ workload: { replicas: 0, readyReplicas: 0, restarts: 0 }, desiredReplicas: 0 }),
    want: { Ready: ['True'], DeploymentReady: ['True'], Active: ['False', 'NoTraffic'] },
  },
  {
    name: 'replicas starting: Unknown/Starting until one passes its probe',
    facts: facts({ workload: starting, desiredReplicas: 1 }),
    want: { Ready: ['Unknown', 'Starting'], DeploymentReady: ['Unknown', 'Starting'], Active: ['False', 'Activating'] },
  },
  {
    name: 'a ready replica: Ready and Active',
    facts: facts({ workload: serving }),
    want: { Ready: ['True'], DeploymentReady: ['True'], Active: ['True'] },
  },
  {
    name: "a platform's own reason (local mode's ExitedAtStart) is reported as it is",
    facts: facts({ workload: starting, failures: [{ reason: 'ExitedAtStart', message: 'exit 3: boom' }] }),
    want: { Ready: ['False', 'ExitedAtStart'], DeploymentReady: ['False', 'ExitedAtStart'], Active: ['False', 'ExitedAtStart'] },
  },
  {
    name: 'the most specific failure wins, in whatever order they were observed; unknown reasons come last',
    facts: facts({
      workload: starting,
      failures: [
        { reason: 'ExitedAtStart', message: 'x' },
        { reason: 'ProgressDeadlineExceeded', message: 'slow' },
        { reason: 'ImagePullFailed', message: 'no such image' },
      ],
    }),
    want: { Ready: ['False', 'ImagePullFailed'], Active: ['False', 'ImagePullFailed'] },
  },
  {
    name: 'a capacity shortfall while a replica serves is not a failure',
    facts: facts({ workload: serving, desiredReplicas: 2, failures: [{ reason: 'Unschedulable', message: 'no node', capacity: true }] }),
    want: { Ready: ['True'], DeploymentReady: ['True'], Active: ['True'] },
  },
  {
    name: 'a capacity shortfall with nothing ready is',
    facts: facts({ workload: starting, failures: [{ reason: 'Unschedulable', message: 'no node', capacity: true }] }),
    want: { Ready: ['False', 'Unschedulable'], Active: ['False', 'Unschedulable'] },
  },
  {
    name: "the machine's replica cap holding a serving function below its scale: Ready False naming the setting, Active (it serves)",
    facts: facts({ workload: { replicas: 2, readyReplicas: 2, restarts: 0 }, desiredReplicas: 200, replicaCap: { wanted: 200, allowed: 2, cap: 2, setting: 'kfn dev --max-replicas' } }),
    want: { Ready: ['False', 'ReplicaCapReached'], DeploymentReady: ['False', 'ReplicaCapReached'], Active: ['True'] },
    message: ['Ready', /asks for 200 replica\(s\), but this machine's cap of 2 replicas for all functions together leaves 2 for this one; raise the cap \(kfn dev --max-replicas\)/],
  },
  {
    name: 'the cap leaving a function nothing: not Active, with the cap as the reason',
    facts: facts({ workload: { replicas: 0, readyReplicas: 0, restarts: 0 }, desiredReplicas: 1, replicaCap: { wanted: 1, allowed: 0, cap: 4, setting: 'kfn dev --max-replicas' } }),
    want: { Ready: ['False', 'ReplicaCapReached'], Active: ['False', 'ReplicaCapReached'] },
  },
  {
    name: 'a failure of the replicas themselves is more specific than the cap',
    facts: facts({ workload: starting, failures: [{ reason: 'ExitedAtStart', message: 'exit 1' }], replicaCap: { wanted: 9, allowed: 1, cap: 1, setting: 's' } }),
    want: { Ready: ['False', 'ExitedAtStart'], Active: ['False', 'ExitedAtStart'] },
  },
  {
    name: 'an invalid spec wins over any observed failure, naming the field; old replicas still serve',
    facts: facts({ workload: serving, invalid: [{ field: 'spec.scale.max', message: 'must be >= spec.scale.min' }], failures: [{ reason: 'CrashLoop', message: 'm' }] }),
    want: { Ready: ['False', 'InvalidSpec'], DeploymentReady: ['False', 'InvalidSpec'], Active: ['True'] },
    message: ['Ready', /spec\.scale\.max: must be >= spec\.scale\.min/],
  },
  {
    name: 'children that could not be written make DeploymentReady False over everything, with every message',
    facts: facts({
      workload: starting,
      failures: [{ reason: 'CrashLoop', message: 'crash' }],
      childFailures: [
        { reason: 'NotOwned', message: 'Service default/hello exists and is not controlled by this Function' },
        { reason: 'ChildForbidden', message: 'Deployment refused' },
      ],
    }),
    want: { Ready: ['False', 'NotOwned'], DeploymentReady: ['False', 'NotOwned'], Active: ['False', 'CrashLoop'] },
    message: ['DeploymentReady', /not controlled by this Function; Deployment refused$/],
  },
];

describe('Function status from observed facts, in either mode', () => {
  for (const row of rows) {
    it(row.name, () => {
      const before = fn();
      const st = functionStatus(before, row.facts);
      for (const [type, [status, reason]] of Object.entries(row.want)) {
        const c = st.conditions?.find((x) => x.type === type);
        assert.equal(c?.status, status, `${type}: ${JSON.stringify(st.conditions)}`);
        assert.equal(c?.reason, reason, `${type} reason`);
      }
      if (row.message) assert.match(st.conditions?.find((c) => c.type === row.message?.[0])?.message ?? '', row.message[1]);
      assert.equal(st.observedGeneration, 2);
      assert.equal(st.url, 'http://hello.default.example');
      assert.deepEqual(before, fn(), 'the function itself is not changed');
    });
  }

  it('counts come from the workload, desired from the facts', () => {
    const st = functionStatus(fn(), facts({ workload: { replicas: 3, readyReplicas: 2, restarts: 5 }, desiredReplicas: 4 }));
    assert.deepEqual([st.replicas, st.readyReplicas, st.desiredReplicas, st.restarts], [3, 2, 4, 5]);
  });

  // Deriving Ready after each condition made it True for a moment (replicas serve) before
  // the refused child made it False again: every reconcile moved the transition times and
  // so wrote the status, while nothing changed.
  it('a child write that keeps failing while replicas serve moves no transition time', () => {
    const child = [{ reason: 'ChildForbidden', message: 'refused' }];
    const stored: FunctionStatus = {
      conditions: [
        cond('Active', 'True', undefined, undefined, EARLIER),
        cond('DeploymentReady', 'False', 'ChildForbidden', 'refused', EARLIER),
        cond('Ready', 'False', 'ChildForbidden', 'refused', EARLIER),
      ],
    };
    const st = functionStatus(fn(stored), facts({ workload: serving, childFailures: child }));
    assert.deepEqual(st.conditions, stored.conditions);
  });

  it('is stable: the same facts later give an equal status, so nothing is rewritten', () => {
    const f = facts({ workload: starting, failures: [{ reason: 'CrashLoop', message: 'm' }] });
    const first = functionStatus(fn(), f);
    assert.deepEqual(functionStatus(fn(first), { ...f, now: new Date(NOW.getTime() + 60_000) }), first);
  });
});
