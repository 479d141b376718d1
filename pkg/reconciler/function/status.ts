// A Function's status on a cluster: the facts read off its Deployment and the Deployment's
// pods, handed to the status rule both modes share (pkg/apis/function/status.ts). Pure;
// the controller calls it whenever one of them changed and writes the result only if it
// differs from the stored status.
//
// What the pods and the Deployment say becomes a WorkloadFailure each:
//   ReplicaFailure=True                      FailedCreate, or QuotaExceeded (capacity)
//   ErrImagePull, ImagePullBackOff, ...      ImagePullFailed, naming the image
//   CreateContainerConfigError               ContainerConfigError
//   CrashLoopBackOff                         CrashLoop, with the last exit
//   PodScheduled=False/Unschedulable         Unschedulable (capacity)
//   Progressing=False/ProgressDeadlineExceeded  ProgressDeadlineExceeded
// and the shared rule picks the one to report.
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { FieldError } from '../../apis/meta.js';
import type { FunctionStatus, KfnFunction } from '../../apis/function/types.js';
import {
  functionStatus,
  REASON_CONTAINER_CONFIG_ERROR,
  REASON_CRASH_LOOP,
  REASON_FAILED_CREATE,
  REASON_IMAGE_PULL_FAILED,
  REASON_PROGRESS_DEADLINE_EXCEEDED,
  REASON_QUOTA_EXCEEDED,
  REASON_UNSCHEDULABLE,
  type FunctionFacts,
  type WorkloadFailure,
} from '../../apis/function/status.js';
import { initialReplicas } from '../../apis/function/scale.js';
import { namespaceOf } from './names.js';

export {
  REASON_ACTIVATING,
  REASON_CHILD_FORBIDDEN,
  REASON_CHILD_INVALID,
  REASON_CHILD_QUOTA_EXCEEDED,
  REASON_CHILD_WRITE_FAILED,
  REASON_CONTAINER_CONFIG_ERROR,
  REASON_CRASH_LOOP,
  REASON_FAILED_CREATE,
  REASON_IMAGE_PULL_FAILED,
  REASON_INVALID_SPEC,
  REASON_NOT_OWNED,
  REASON_PROGRESS_DEADLINE_EXCEEDED,
  REASON_QUOTA_EXCEEDED,
  REASON_STARTING,
  REASON_UNSCHEDULABLE,
} from '../../apis/function/status.js';

export interface ClusterView {
  /** Undefined until it exists (or when it could not be created). */
  deployment?: V1Deployment;
  /** The pods the Deployment selects. */
  pods?: readonly V1Pod[];
  /** The autoscaler's wish; else the Deployment's spec.replicas, or what it will be created with. */
  desiredReplicas?: number;
  /** Problems with the Function's spec; non-empty means nothing was (re)built from it. */
  invalid?: readonly FieldError[];
  /** Children the controller could not write (apply.ts). */
  childFailures?: ReadonlyArray<{ reason: string; message: string }>;
  now: Date;
  domain: string;
}

export function functionUrl(fn: KfnFunction, domain: string): string {
  return `http://${fn.metadata.name}.${namespaceOf(fn)}.${domain}`;
}

export function functionStatusFromCluster(fn: KfnFunction, view: ClusterView): FunctionStatus {
  return functionStatus(fn, clusterFacts(fn, view));
}

/** What the Deployment and its pods say, as the shared status rule takes it. */
export function clusterFacts(fn: KfnFunction, view: ClusterView): FunctionFacts {
  const { deployment } = view;
  const pods = livePods(view.pods ?? []);
  const facts: FunctionFacts = {
    url: functionUrl(fn, view.domain),
    // Before the Deployment exists, what it will be created with.
    desiredReplicas: view.desiredReplicas ?? (deployment ? (deployment.spec?.replicas ?? 0) : initialReplicas(fn)),
    failures: [
      replicaFailure(deployment),
      ...pods.map((p) => containerFailure(fn, p)),
      ...pods.map(unschedulable),
      progressDeadline(deployment),
    ].filter((f): f is WorkloadFailure => f !== undefined),
    now: view.now,
  };
  if (deployment) {
    facts.workload = {
      replicas: deployment.status?.replicas ?? 0,
      readyReplicas: deployment.status?.readyReplicas ?? 0,
      // All pods, terminating ones too: their restarts happened. Pods already gone are
      // forgotten, so this can drop on scale-down (local mode counts for the workload's life).
      restarts: restartsOf(view.pods ?? []),
    };
  }
  if (view.invalid && view.invalid.length > 0) facts.invalid = view.invalid;
  if (view.childFailures && view.childFailures.length > 0) facts.childFailures = view.childFailures;
  return facts;
}

function replicaFailure(d: V1Deployment | undefined): WorkloadFailure | undefined {
  const c = d?.status?.conditions?.find((x) => x.type === 'ReplicaFailure' && x.status === 'True');
  if (!c) return undefined;
  const detail = c.message ?? c.reason ?? 'no message';
  if (/exceeded quota/i.test(detail)) {
    return { reason: REASON_QUOTA_EXCEEDED, message: `a replica cannot be created, the namespace's ResourceQuota is used up: ${detail}`, capacity: true };
  }
  return { reason: REASON_FAILED_CREATE, message: `a replica cannot be created: ${detail}` };
}

const IMAGE_PULL_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);

function containerFailure(fn: KfnFunction, pod: V1Pod): WorkloadFailure | undefined {
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

function unschedulable(pod: V1Pod): WorkloadFailure | undefined {
  const c = pod.status?.conditions?.find((x) => x.type === 'PodScheduled' && x.status === 'False' && x.reason === 'Unschedulable');
  if (!c) return undefined;
  return { reason: REASON_UNSCHEDULABLE, message: `no node can run a replica: ${c.message ?? 'no message from the scheduler'}`, capacity: true };
}

function progressDeadline(d: V1Deployment | undefined): WorkloadFailure | undefined {
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
