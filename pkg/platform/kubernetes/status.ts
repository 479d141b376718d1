// A function's WorkloadStatus read off its Deployment. Pure.
import type { V1Deployment, V1DeploymentCondition } from '@kubernetes/client-node';
import type { FunctionKey } from '../../apis/meta.js';
import { LABEL_FUNCTION } from '../../contracts/workload.js';
import type { ActivationFailure, WorkloadStatus } from '../types.js';

/** The function a kfn Deployment runs: its `kfn.dev/function` label, else its name (they are equal). */
export function functionKeyOfDeployment(d: V1Deployment): FunctionKey | undefined {
  const namespace = d.metadata?.namespace;
  const name = d.metadata?.labels?.[LABEL_FUNCTION] ?? d.metadata?.name;
  return namespace && name ? { namespace, name } : undefined;
}

/**
 * Restarts are per pod and a Deployment does not count them, so they stay 0 here; the
 * controller reads pods for that. A failure is reported from the two conditions the
 * Deployment controller sets when it cannot make progress: ReplicaFailure (pods cannot
 * even be created: quota, admission) and Progressing=False (ProgressDeadlineExceeded:
 * pods exist but do not become ready in time, as with a crash loop or a bad image).
 */
export function workloadStatusOf(d: V1Deployment): WorkloadStatus {
  const status: WorkloadStatus = {
    // The API server defaults spec.replicas to 1; an unset value means that.
    desiredReplicas: d.spec?.replicas ?? 1,
    replicas: d.status?.replicas ?? 0,
    readyReplicas: d.status?.readyReplicas ?? 0,
    restarts: 0,
  };
  const failure = failureOf(d.status?.conditions ?? []);
  if (failure) status.failure = failure;
  return status;
}

function failureOf(conditions: readonly V1DeploymentCondition[]): ActivationFailure | undefined {
  const replicaFailure = conditions.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  if (replicaFailure) {
    return { reason: replicaFailure.reason ?? 'ReplicaFailure', message: replicaFailure.message ?? 'the Deployment cannot create its pods' };
  }
  const progressing = conditions.find((c) => c.type === 'Progressing' && c.status === 'False');
  if (progressing) {
    return { reason: progressing.reason ?? 'ProgressDeadlineExceeded', message: progressing.message ?? 'the Deployment is not making progress' };
  }
  return undefined;
}
