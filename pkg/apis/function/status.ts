// A Function's status from what was observed of its workload: the one status rule for
// `kfn dev` (pkg/dev/controller.ts, facts from the local platform and the autoscaler) and
// the cluster controller (pkg/reconciler/function/status.ts, facts from the Deployment and
// its pods). Pure; each caller writes the result only when it differs from the stored one.
//
// As a Knative revision: DeploymentReady is False when something keeps replicas from
// serving (whatever else is true), True once a replica is ready or nothing is wanted, and
// Unknown while the workload is being created or its replicas start. Active is True with
// a ready replica, False/NoTraffic at zero (not a failure: Ready stays True), and
// False/Activating while replicas start (lifecycle.ts has no Unknown setter for Active);
// Activating does not make Ready False, because DeploymentReady is Unknown whenever
// Active is Activating. A failure makes Active False with the failure's reason while no
// replica is ready.
//
// Failures come with a reason a person can act on, most specific first:
//   InvalidSpec              the manifest breaks a rule (field errors passed in)
//   FailedCreate / QuotaExceeded   replicas cannot be created (cluster: the ReplicaSet)
//   ImagePullFailed          ErrImagePull, ImagePullBackOff, InvalidImageName
//   ContainerConfigError     CreateContainerConfigError (a missing Secret or ConfigMap key)
//   CrashLoop                replicas keep exiting, with the last exit
//   Unschedulable            no node fits a replica
//   ProgressDeadlineExceeded the rollout made no progress for progressDeadlineSeconds
//   (any other reason)       what the platform reports, e.g. local mode's ExitedAtStart
//   ReplicaCapReached        a cap on replicas for the whole machine (kfn dev --max-replicas)
//                            holds the function below its scale; after every other failure,
//                            and it counts while replicas serve: the function has fewer than
//                            its spec asks for (scale.min 200 with a cap of 64 serves on 64)
// A child the controller could not write makes DeploymentReady False over all of these,
// with a reason chosen in pkg/reconciler/function/apply.ts and a message naming the child
// and quoting the API server:
//   NotOwned                 a Deployment or Service of that name belongs to someone else
//   ChildInvalid             422: the API server refuses the object kfn built
//   ChildQuotaExceeded       403: a ResourceQuota on object counts is used up
//   ChildForbidden           403: RBAC, an admission webhook or a policy refused it
//   ChildWriteFailed         any other failure (5xx, a timeout, the network)
// QuotaExceeded and Unschedulable are capacity shortfalls: while some replica is ready
// the function serves, so they only count when none is (a rollout they block still ends
// in ProgressDeadlineExceeded).
//
// Both conditions are set before Ready is derived, once: deriving it after each would let
// Ready flip and flip back within one call (a child write failing while replicas serve)
// and move its lastTransitionTime, and so write the status, on every reconcile.
import { formatFieldErrors, type FieldError } from '../meta.js';
import { computeReady, REASON_DEPLOYING, REASON_NO_TRAFFIC, setCondition, type FunctionCondition } from './lifecycle.js';
import type { FunctionStatus, KfnFunction } from './types.js';

export const REASON_INVALID_SPEC = 'InvalidSpec';
export const REASON_FAILED_CREATE = 'FailedCreate';
export const REASON_QUOTA_EXCEEDED = 'QuotaExceeded';
export const REASON_IMAGE_PULL_FAILED = 'ImagePullFailed';
export const REASON_CONTAINER_CONFIG_ERROR = 'ContainerConfigError';
export const REASON_CRASH_LOOP = 'CrashLoop';
export const REASON_UNSCHEDULABLE = 'Unschedulable';
export const REASON_PROGRESS_DEADLINE_EXCEEDED = 'ProgressDeadlineExceeded';
export const REASON_STARTING = 'Starting';
export const REASON_ACTIVATING = 'Activating';
export const REASON_NOT_OWNED = 'NotOwned';
export const REASON_CHILD_INVALID = 'ChildInvalid';
export const REASON_CHILD_QUOTA_EXCEEDED = 'ChildQuotaExceeded';
export const REASON_CHILD_FORBIDDEN = 'ChildForbidden';
export const REASON_CHILD_WRITE_FAILED = 'ChildWriteFailed';
export const REASON_REPLICA_CAP_REACHED = 'ReplicaCapReached';

/** Something that keeps a function's replicas from serving, as a platform observed it. */
export interface WorkloadFailure {
  reason: string;
  message: string;
  /** A capacity shortfall (quota, no node fits): it counts only while no replica is ready. */
  capacity?: boolean;
}

/** The replicas of a function's workload, as counted by whichever platform runs it. */
export interface ObservedWorkload {
  /** Replicas that exist (starting, ready or draining). */
  replicas: number;
  readyReplicas: number;
  /** Restarts of its replicas' containers. */
  restarts: number;
}

export interface ReplicaCapFact {
  /** Replicas the scale asks for. */
  wanted: number;
  /** Replicas the cap leaves it. */
  allowed: number;
  cap: number;
  /** Where the cap is set, for the message: `kfn dev --max-replicas`. */
  setting: string;
}

/** Everything the status is made from. */
export interface FunctionFacts {
  url: string;
  /** Undefined until the workload exists (or when it could not be created). */
  workload?: ObservedWorkload;
  /** Replicas wanted: the autoscaler's wish, else the workload's scale, else what it will be created with. */
  desiredReplicas: number;
  /** Problems with the spec; non-empty means nothing was (re)built from it. */
  invalid?: readonly FieldError[];
  /** What keeps replicas from serving, in any order: the most specific one that counts is reported. */
  failures?: readonly WorkloadFailure[];
  /** A cap on replicas for all functions together holds this one below its scale. */
  replicaCap?: ReplicaCapFact;
  /** Children the controller could not write; they make DeploymentReady False over any failure. */
  childFailures?: ReadonlyArray<{ reason: string; message: string }>;
  now: Date;
}

export function functionStatus(fn: KfnFunction, facts: FunctionFacts): FunctionStatus {
  const { workload, now } = facts;
  const desired = facts.desiredReplicas;
  const ready = workload?.readyReplicas ?? 0;
  let status: FunctionStatus = {
    ...fn.status,
    url: facts.url,
    replicas: workload?.replicas ?? 0,
    readyReplicas: ready,
    desiredReplicas: desired,
    restarts: workload?.restarts ?? 0,
    observedGeneration: fn.metadata.generation ?? 0,
  };

  const failure = firstFailure(facts, ready);
  status = setCondition(status, deploymentReady(facts, failure, desired), now);
  status = setCondition(status, active(failure, ready, desired), now);
  return computeReady(status, now);
}

function deploymentReady(facts: FunctionFacts, failure: WorkloadFailure | undefined, desired: number): FunctionCondition {
  const children = facts.childFailures ?? [];
  const [firstChild] = children;
  if (firstChild) return notReady('DeploymentReady', firstChild.reason, children.map((f) => f.message).join('; '));
  if (failure) return notReady('DeploymentReady', failure.reason, failure.message);
  if (!facts.workload) return { type: 'DeploymentReady', status: 'Unknown', reason: REASON_DEPLOYING, message: 'the workload is being created' };
  if (facts.workload.readyReplicas > 0 || desired === 0) return { type: 'DeploymentReady', status: 'True' };
  return { type: 'DeploymentReady', status: 'Unknown', reason: REASON_STARTING, message: `waiting for ${desired} replica(s) to pass the readiness probe` };
}

function active(failure: WorkloadFailure | undefined, ready: number, desired: number): FunctionCondition {
  if (ready > 0) return { type: 'Active', status: 'True' };
  if (desired === 0) return notReady('Active', REASON_NO_TRAFFIC, 'scaled to zero; the next request starts a replica');
  if (failure) return notReady('Active', failure.reason, failure.message);
  return notReady('Active', REASON_ACTIVATING, `starting ${desired} replica(s)`);
}

function notReady(type: 'DeploymentReady' | 'Active', reason: string, message: string): FunctionCondition {
  return { type, status: 'False', reason, message };
}

/** The first failure that counts, most specific first; undefined when nothing is wrong. */
function firstFailure(facts: FunctionFacts, ready: number): WorkloadFailure | undefined {
  if (facts.invalid && facts.invalid.length > 0) {
    return { reason: REASON_INVALID_SPEC, message: `the spec is invalid and was not deployed: ${formatFieldErrors(facts.invalid)}` };
  }
  const counted = (facts.failures ?? []).filter((f) => !f.capacity || ready === 0);
  if (facts.replicaCap) counted.push(replicaCapFailure(facts.replicaCap));
  // Stable: of two failures with one reason, the one observed first is reported.
  return [...counted].sort((a, b) => rank(a) - rank(b))[0];
}

function replicaCapFailure(c: ReplicaCapFact): WorkloadFailure {
  return {
    reason: REASON_REPLICA_CAP_REACHED,
    message:
      `the scale asks for ${c.wanted} replica(s), but this machine's cap of ${c.cap} replicas for all functions together ` +
      `leaves ${c.allowed} for this one; raise the cap (${c.setting}) or lower spec.scale (min, max)`,
  };
}

const RANK = [
  REASON_FAILED_CREATE,
  REASON_QUOTA_EXCEEDED,
  REASON_IMAGE_PULL_FAILED,
  REASON_CONTAINER_CONFIG_ERROR,
  REASON_CRASH_LOOP,
  REASON_UNSCHEDULABLE,
  REASON_PROGRESS_DEADLINE_EXCEEDED,
];

/** Reasons this file does not know (a platform's own) come after the known ones; the cap last. */
function rank(f: WorkloadFailure): number {
  if (f.reason === REASON_REPLICA_CAP_REACHED) return RANK.length + 1;
  const i = RANK.indexOf(f.reason);
  return i === -1 ? RANK.length : i;
}
