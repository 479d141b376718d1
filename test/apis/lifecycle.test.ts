// node:test's describe/it return promises that the runner itself awaits.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FunctionStatus } from '../../pkg/apis/function/types.js';
import {
  computeReady, getCondition, isReady, markActive, markDeploymentNotReady, markDeploymentReady,
  markDeploymentUnknown, markInactive, markReady, setCondition, type FunctionConditionType,
} from '../../pkg/apis/function/lifecycle.js';

const t0 = new Date('2025-01-01T00:00:00Z');
const t1 = new Date('2025-01-01T00:01:00Z');
const t2 = new Date('2025-01-01T00:02:00Z');

/** type → "status/reason" for compact assertions. */
function summary(status: FunctionStatus): Partial<Record<FunctionConditionType, string>> {
  return Object.fromEntries((status.conditions ?? []).map((c) => [c.type, c.reason ? `${c.status}/${c.reason}` : c.status]));
}

describe('setCondition', () => {
  it('keeps lastTransitionTime while the status stays the same, even if the reason changes', () => {
    let st = setCondition({}, { type: 'DeploymentReady', status: 'False', reason: 'ImagePullBackOff' }, t0);
    st = setCondition(st, { type: 'DeploymentReady', status: 'False', reason: 'CrashLoopBackOff', message: 'exit 1' }, t1);
    assert.deepEqual(getCondition(st, 'DeploymentReady'), {
      type: 'DeploymentReady', status: 'False', reason: 'CrashLoopBackOff', message: 'exit 1', lastTransitionTime: t0.toISOString(),
    });
  });

  it('moves lastTransitionTime when the status flips, and drops the old reason', () => {
    let st = setCondition({}, { type: 'Active', status: 'False', reason: 'NoTraffic' }, t0);
    st = setCondition(st, { type: 'Active', status: 'True' }, t1);
    assert.deepEqual(getCondition(st, 'Active'), { type: 'Active', status: 'True', lastTransitionTime: t1.toISOString() });
  });

  it('does not change the status it is given', () => {
    const before: FunctionStatus = { replicas: 1, conditions: [{ type: 'Active', status: 'True', lastTransitionTime: t0.toISOString() }] };
    const copy = structuredClone(before);
    const after = setCondition(before, { type: 'Active', status: 'False', reason: 'NoTraffic' }, t1);
    assert.deepEqual(before, copy);
    assert.equal(after.replicas, 1);
  });

  it('keeps conditions in one order whatever order they were set in', () => {
    const a = setCondition(setCondition({}, { type: 'Ready', status: 'True' }, t0), { type: 'Active', status: 'True' }, t0);
    const b = setCondition(setCondition({}, { type: 'Active', status: 'True' }, t0), { type: 'Ready', status: 'True' }, t0);
    assert.deepEqual(a, b);
  });
});

describe('Ready', () => {
  interface Row {
    name: string;
    mark: (st: FunctionStatus) => FunctionStatus;
    want: Partial<Record<FunctionConditionType, string>>;
  }
  const rows: Row[] = [
    { name: 'is Unknown/Deploying before the deployment reports', mark: (st) => computeReady(st, t0), want: { Ready: 'Unknown/Deploying' } },
    {
      name: 'follows a deployment that is still rolling out',
      mark: (st) => markDeploymentUnknown(st, 'Progressing', 'waiting for 1 replica', t0),
      want: { DeploymentReady: 'Unknown/Progressing', Ready: 'Unknown/Progressing' },
    },
    {
      name: 'is False with the deployment’s reason when it fails',
      mark: (st) => markDeploymentNotReady(st, 'ExitedAtStart', 'exit code 1', t0),
      want: { DeploymentReady: 'False/ExitedAtStart', Ready: 'False/ExitedAtStart' },
    },
    { name: 'is True once the deployment is ready', mark: (st) => markDeploymentReady(st, t0), want: { DeploymentReady: 'True', Ready: 'True' } },
    { name: 'is True when everything is in order', mark: (st) => markReady(st, t0), want: { Active: 'True', DeploymentReady: 'True', Ready: 'True' } },
    {
      name: 'stays True at zero replicas: NoTraffic is not a failure',
      mark: (st) => markInactive(markDeploymentReady(st, t0), 'NoTraffic', 'scaled to zero', t0),
      want: { Active: 'False/NoTraffic', DeploymentReady: 'True', Ready: 'True' },
    },
    {
      name: 'is False when activation failed for another reason',
      mark: (st) => markInactive(markDeploymentReady(st, t0), 'ActivationTimeout', 'no replica became ready in 300s', t0),
      want: { Active: 'False/ActivationTimeout', DeploymentReady: 'True', Ready: 'False/ActivationTimeout' },
    },
    {
      name: 'is False when the deployment fails, even while active',
      mark: (st) => markDeploymentNotReady(markActive(st, t0), 'CrashLoopBackOff', 'restarting', t0),
      want: { Active: 'True', DeploymentReady: 'False/CrashLoopBackOff', Ready: 'False/CrashLoopBackOff' },
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      assert.deepEqual(summary(row.mark({})), row.want);
    });
  }

  it('carries the message a person can act on', () => {
    const st = markDeploymentNotReady({}, 'ExitedAtStart', 'exit code 1: cannot find module server.js', t0);
    assert.equal(getCondition(st, 'Ready')?.message, 'exit code 1: cannot find module server.js');
    assert.equal(isReady(st), false);
  });

  it('records when the function became ready, not when it was last checked', () => {
    let st = markDeploymentNotReady({}, 'ExitedAtStart', 'exit 1', t0);
    st = markDeploymentReady(st, t1);
    st = markInactive(st, 'NoTraffic', 'scaled to zero', t2);
    assert.equal(getCondition(st, 'Ready')?.lastTransitionTime, t1.toISOString());
    assert.equal(isReady(st), true);
  });
});
