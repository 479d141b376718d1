// On a cluster the activator learns that a function cannot start from the Function's
// own status (the controller reads pods; the activator may not), so requests waiting
// for a function whose replicas crash or cannot be pulled fail at once with the reason,
// as they do locally, instead of after their timeout.
import type { KfnFunction } from '../../apis/function/types.js';
import { getCondition } from '../../apis/function/lifecycle.js';
import {
  REASON_CHILD_INVALID,
  REASON_CONTAINER_CONFIG_ERROR,
  REASON_CRASH_LOOP,
  REASON_FAILED_CREATE,
  REASON_IMAGE_PULL_FAILED,
  REASON_INVALID_SPEC,
  REASON_QUOTA_EXCEEDED,
} from '../../apis/function/status.js';
import type { ActivationFailure } from '../types.js';

/**
 * Reasons that will not fix themselves while a request waits. Unschedulable and a slow
 * rollout are left out: capacity can appear (a node joins, the autoscaler's scale lands)
 * within a request's timeout. Of the refused child writes, ChildInvalid is in: the API
 * server refuses the object kfn built from this spec, and only a new spec (or a new kfn)
 * changes that. ChildForbidden, ChildQuotaExceeded and ChildWriteFailed are out: an
 * operator's RBAC or quota fix, a webhook coming back or a transient 5xx lets the next
 * retry through, and the children of the previous spec may still serve. NotOwned is
 * out too: the clash may be only the public Service, which the activator does not need.
 */
const FATAL_REASONS: ReadonlySet<string> = new Set([
  REASON_CRASH_LOOP,
  REASON_IMAGE_PULL_FAILED,
  REASON_CONTAINER_CONFIG_ERROR,
  REASON_INVALID_SPEC,
  REASON_FAILED_CREATE,
  REASON_QUOTA_EXCEEDED,
  REASON_CHILD_INVALID,
]);

export function activationFailureOf(fn: KfnFunction): ActivationFailure | undefined {
  const deployment = getCondition(fn.status, 'DeploymentReady');
  if (deployment?.status !== 'False' || !deployment.reason || !FATAL_REASONS.has(deployment.reason)) return undefined;
  return { reason: deployment.reason, message: deployment.message ?? deployment.reason };
}

export const EVENT_ACTIVATION_FAILED = 'ActivationFailed';

/**
 * The Warning an activator records when it refuses requests because the function cannot
 * start. The note holds the failure and nothing per request, so every refusal for one
 * reason is one Event whose series counts them.
 */
export function activationFailedNote(failure: ActivationFailure): string {
  return `requests get 503 because the function cannot start: ${failure.reason}: ${failure.message}`;
}
