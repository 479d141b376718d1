// Condition helpers for FunctionStatus, as Knative's lifecycle files have. Every helper
// returns a new status and leaves its argument alone, so a reconciler can compare the
// old and new status and write only when something changed.
//
// Ready is derived, never set by hand: it follows DeploymentReady, and Active only
// matters when it reports a failure. A function scaled to zero with nothing wrong is
// Ready=True with Active=False/NoTraffic, as a Knative revision at zero is.
import type { Condition, ConditionStatus } from '../meta.js';
import { findCondition, withCondition } from '../conditions.js';
import type { FunctionStatus } from './types.js';

export type FunctionConditionType = 'Ready' | 'DeploymentReady' | 'Active';

export interface FunctionCondition extends Condition {
  type: FunctionConditionType;
}

/** Active=False with this reason means "scaled to zero", which is not a failure. */
export const REASON_NO_TRAFFIC = 'NoTraffic';
/** Ready's reason while the deployment has not reported yet. */
export const REASON_DEPLOYING = 'Deploying';

export function getCondition(status: FunctionStatus | undefined, type: FunctionConditionType): Condition | undefined {
  return findCondition(status, type);
}

/** `status` with `cond` set (see withCondition for when lastTransitionTime moves). */
export function setCondition(status: FunctionStatus, cond: FunctionCondition, now: Date): FunctionStatus {
  return withCondition(status, cond, now);
}

export function markDeploymentReady(status: FunctionStatus, now: Date): FunctionStatus {
  return computeReady(setCondition(status, { type: 'DeploymentReady', status: 'True' }, now), now);
}

export function markDeploymentNotReady(status: FunctionStatus, reason: string, message: string, now: Date): FunctionStatus {
  return computeReady(setCondition(status, { type: 'DeploymentReady', status: 'False', reason, message }, now), now);
}

/** The deployment has not reported yet (just created, or rolling out). */
export function markDeploymentUnknown(status: FunctionStatus, reason: string, message: string, now: Date): FunctionStatus {
  return computeReady(setCondition(status, { type: 'DeploymentReady', status: 'Unknown', reason, message }, now), now);
}

export function markActive(status: FunctionStatus, now: Date): FunctionStatus {
  return computeReady(setCondition(status, { type: 'Active', status: 'True' }, now), now);
}

/** Use reason NoTraffic for "scaled to zero"; any other reason is a failure and makes the function not Ready. */
export function markInactive(status: FunctionStatus, reason: string, message: string, now: Date): FunctionStatus {
  return computeReady(setCondition(status, { type: 'Active', status: 'False', reason, message }, now), now);
}

/** Everything is in order: the deployment is ready and the function serves traffic. */
export function markReady(status: FunctionStatus, now: Date): FunctionStatus {
  return markActive(markDeploymentReady(status, now), now);
}

/** `status` with Ready derived from DeploymentReady and Active. */
export function computeReady(status: FunctionStatus, now: Date): FunctionStatus {
  const deployment = getCondition(status, 'DeploymentReady');
  const active = getCondition(status, 'Active');
  let ready: FunctionCondition;
  if (deployment?.status !== 'True') {
    const readyStatus: ConditionStatus = deployment?.status === 'False' ? 'False' : 'Unknown';
    ready = { type: 'Ready', status: readyStatus, reason: deployment?.reason ?? REASON_DEPLOYING, message: deployment?.message };
  } else if (active?.status === 'False' && active.reason !== REASON_NO_TRAFFIC) {
    ready = { type: 'Ready', status: 'False', reason: active.reason, message: active.message };
  } else {
    ready = { type: 'Ready', status: 'True' };
  }
  return setCondition(status, ready, now);
}

export function isReady(status: FunctionStatus | undefined): boolean {
  return getCondition(status, 'Ready')?.status === 'True';
}
