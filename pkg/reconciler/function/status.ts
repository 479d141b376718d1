// A Function's status from what the cluster shows: its Deployment and the Deployment's
// pods. Pure; the controller calls it whenever one of them changed and writes the result
// only if it differs from the stored status.
//
// Ready follows the same rules as local mode (pkg/dev/status.ts): a failure makes
// DeploymentReady False whatever else is true; otherwise DeploymentReady is True once a
// replica is ready or nothing is wanted, Unknown while replicas start. Active is True
// with a ready replica, False/NoTraffic at zero, and False/Activating while starting:
// local mode says it that way and lifecycle.ts has no Unknown setter for Active. It does
// not make Ready False, because DeploymentReady is Unknown whenever Active is Activating.
//
// Failures come with a reason a person can act on, most specific first:
//   InvalidSpec              the manifest breaks a rule (field errors passed in)
//   FailedCreate / QuotaExceeded   the ReplicaSet cannot create pods
//   ImagePullFailed          ErrImagePull, ImagePullBackOff, InvalidImageName
//   ContainerConfigError     CreateContainerConfigError (a missing Secret or ConfigMap key)
//   CrashLoop                CrashLoopBackOff, with the last exit
//   Unschedulable            no node fits a replica
//   ProgressDeadlineExceeded the rollout made no progress for progressDeadlineSeconds
// A child the controller could not write makes DeploymentReady False too, with a reason
// chosen in apply.ts (childWriteError) and a message naming the child and quoting the
// API server:
//   NotOwned                 a Deployment or Service of that name belongs to someone else
//   ChildInvalid             422: the API server refuses the object kfn built
//   ChildQuotaExceeded       403: a ResourceQuota on object counts is used up
//   ChildForbidden           403: RBAC, an admission webhook or a policy refused it
//   ChildWriteFailed         any other failure (5xx, a timeout, the network)
// QuotaExceeded and Unschedulable are capacity shortfalls: while some replica is ready
// the function serves, so they only count when none is (a rollout they block still ends
// in ProgressDeadlineExceeded).
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { formatFieldErrors, type FieldError } from '../../apis/meta.js';
import type { FunctionStatus, KfnFunction } from '../../apis/function/types.js';
import {
  markActive,
  markDeploymentNotReady,
  markDeploymentReady,
  markDeploymentUnknown,
  markInactive,
  REASON_DEPLOYING,
  REASON_NO_TRAFFIC,
} from '../../apis/function/lifecycle.js';
import { initialReplicas } from './deployment.js';
import { namespaceOf } from './names.js';

export const REASON_INVALID_SPEC = 'InvalidSpec';
export const REASON_FAILED_CREATE = 'FailedCreate';
export const REASON_QUOTA_EXCEEDED = 'QuotaExceeded';
export const REASON_IMAGE_PULL_FAILED = 'ImagePullFailed';
export const REASON_CONTAINER_CONFIG_ERROR = 'ContainerConfigError';
export const REASON_CRASH_LOOP = 'CrashLoop';
export const REASON_UNSCHEDULABLE = 'Unschedulable';
export const REASON_PROGRESS_DEADLINE_EXCEEDED = 'ProgressDeadlineExceeded';
export const REASON_STARTING = 'Starting';
export const REASON_NOT_OWNED = 'NotOwned';
export const REASON_CHILD_INVALID = 'ChildInvalid';
export const REASON_CHILD_QUOTA_EXCEEDED = 'ChildQuotaExceeded';
export const REASON_CHILD_FORBIDDEN = 'ChildForbidden';
export const REASON_CHILD_WRITE_FAILED = 'ChildWriteFailed';
export const REASON_ACTIVATING = 'Activating';

export interface ClusterView {
  /** Undefined until it exists (or when it could not be created). */
  deployment?: V1Deployment;
  /** The pods the Deployment selects. */
  pods?: readonly V1Pod[];
  /** The autoscaler's wish; else the Deployment's spec.replicas, or what it will be created with. */
  desiredReplicas?: number;
  /** Problems with the Function's spec; non-empty means nothing was (re)built from it. */
  invalid?: readonly FieldError[];
  now: Date;
  domain: string;
}

interface Failure {
  reason: string;
  message: string;
  /** Capacity shortfalls do not make a serving function not ready. */
  capacity?: boolean;
}

export function functionUrl(fn: KfnFunction, domain: string): string {
  return `http://${fn.metadata.name}.${namespaceOf(fn)}.${domain}`;
}

export function functionStatusFromCluster(fn: KfnFunction, view: ClusterView): FunctionStatus {
  const { deployment, now } = view;
  const pods = livePods(view.pods ?? []);
  // Before the Deployment exists, what it will be created with.
  const desired = view.desiredReplicas ?? (deployment ? (deployment.spec?.replicas ?? 0) : initialReplicas(fn));
  const ready = deployment?.status?.readyReplicas ?? 0;
  let status: FunctionStatus = {
    ...fn.status,
    url: functionUrl(fn, view.domain),
    replicas: deployment?.status?.replicas ?? 0,
    readyReplicas: ready,
    desiredReplicas: desired,
    // All pods, terminating ones too: their restarts happened. Pods already gone are
    // forgotten, so this can drop on scale-down (local mode counts for the workload's life).
    restarts: restartsOf(view.pods ?? []),
    observedGeneration: fn.metadata.generation ?? 0,
  };

  const failure = findFailure(fn, view, pods, ready);
  if (failure) {
    status = markDeploymentNotReady(status, failure.reason, failure.message, now);
  } else if (!deployment) {
    status = markDeploymentUnknown(status, REASON_DEPLOYING, 'the Deployment is being created', now);
  } else if (ready > 0 || desired === 0) {
    status = markDeploymentReady(status, now);
  } else {
    status = markDeploymentUnknown(status, REASON_STARTING, `waiting for ${desired} replica(s) to pass the readiness probe`, now);
  }

  if (ready > 0) status = markActive(status, now);
  else if (desired === 0) status = markInactive(status, REASON_NO_TRAFFIC, 'scaled to zero; the next request starts a replica', now);
  else if (failure) status = markInactive(status, failure.reason, failure.message, now);
  else status = markInactive(status, REASON_ACTIVATING, `starting ${desired} replica(s)`, now);
  return status;
}

/** The first failure that counts, most specific first; undefined when nothing is wrong. */
function findFailure(fn: KfnFunction, view: ClusterView, pods: readonly V1Pod[], ready: number): Failure | undefined {
  if (view.invalid && view.invalid.length > 0) {
    return { reason: REASON_INVALID_SPEC, message: `the spec is invalid and was not deployed: ${formatFieldErrors(view.invalid)}` };
  }
  const candidates = [
    replicaFailure(view.deployment),
    ...pods.map((p) => containerFailure(fn, p)),
    ...pods.map(unschedulable),
    progressDeadline(view.deployment),
  ].filter((f): f is Failure => f !== undefined);
  const counted = candidates.filter((f) => !f.capacity || ready === 0);
  counted.sort((a, b) => rank(a) - rank(b));
  return counted[0];
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
function rank(f: Failure): number {
  return RANK.indexOf(f.reason);
}

function replicaFailure(d: V1Deployment | undefined): Failure | undefined {
  const c = d?.status?.conditions?.find((x) => x.type === 'ReplicaFailure' && x.status === 'True');
  if (!c) return undefined;
  const detail = c.message ?? c.reason ?? 'no message';
  if (/exceeded quota/i.test(detail)) {
    return { reason: REASON_QUOTA_EXCEEDED, message: `a replica cannot be created, the namespace's ResourceQuota is used up: ${detail}`, capacity: true };
  }
  return { reason: REASON_FAILED_CREATE, message: `a replica cannot be created: ${detail}` };
}

const IMAGE_PULL_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);

function containerFailure(fn: KfnFunction, pod: V1Pod): Failure | undefined {
  for (const cs of pod.status?.containerStatuses ?? []) {
    const waiting = cs.state?.waiting;
    if (!waiting?.reason) continue;
    const kubelet = waiting.message ? `: ${waiting.message}` : '';
    if (IMAGE_PULL_REASONS.has(waiting.reason)) {
      const image = pod.spec?.containers.find((c) => c.name === cs.name)?.image ?? cs.image ?? fn.spec.image;
      return {
        reason: REASON_IMAGE_PULL_FAILED,
        message: `cannot pull image "${image}" (${waiting.reason})${kubelet}; check the image name and tag, and imagePullSecrets for a private registry`,
      };
    }
    if (waiting.reason === 'CreateContainerConfigError') {
      return { reason: REASON_CONTAINER_CONFIG_ERROR, message: `container "${cs.name}" cannot be configured${kubelet}` };
    }
    if (waiting.reason === 'CrashLoopBackOff') {
      const last = cs.lastState?.terminated;
      let exit = 'no earlier exit recorded';
      if (last) {
        exit = `last exit code ${last.exitCode}`;
        if (last.reason) exit += ` (${last.reason})`;
        if (last.message) exit += `: ${last.message.trim()}`;
      }
      return {
        reason: REASON_CRASH_LOOP,
        message: `container "${cs.name}" keeps exiting (restarted ${cs.restartCount} times); ${exit}`,
      };
    }
  }
  return undefined;
}

function unschedulable(pod: V1Pod): Failure | undefined {
  const c = pod.status?.conditions?.find((x) => x.type === 'PodScheduled' && x.status === 'False' && x.reason === 'Unschedulable');
  if (!c) return undefined;
  return { reason: REASON_UNSCHEDULABLE, message: `no node can run a replica: ${c.message ?? 'no message from the scheduler'}`, capacity: true };
}

function progressDeadline(d: V1Deployment | undefined): Failure | undefined {
  const c = d?.status?.conditions?.find((x) => x.type === 'Progressing' && x.status === 'False' && x.reason === 'ProgressDeadlineExceeded');
  if (!c) return undefined;
  const seconds = d?.spec?.progressDeadlineSeconds;
  const within = seconds === undefined ? '' : ` within ${seconds}s`;
  return {
    reason: REASON_PROGRESS_DEADLINE_EXCEEDED,
    message: `the rollout made no progress${within}: ${c.message ?? 'no message'}; new replicas never became ready`,
  };
}

/** Pods on their way out say nothing about the current spec. */
function livePods(pods: readonly V1Pod[]): V1Pod[] {
  return pods.filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
}

function restartsOf(pods: readonly V1Pod[]): number {
  let n = 0;
  for (const p of pods) for (const cs of p.status?.containerStatuses ?? []) n += cs.restartCount;
  return n;
}
