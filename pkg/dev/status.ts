// A Function's status from what the platform and the autoscaler report. Pure: the
// controller calls it whenever either side changed and writes the result only if it
// differs from what is stored.
import type { FunctionStatus, KfnFunction } from '../apis/function/types.js';
import {
  markActive,
  markDeploymentNotReady,
  markDeploymentReady,
  markDeploymentUnknown,
  markInactive,
  REASON_NO_TRAFFIC,
} from '../apis/function/lifecycle.js';
import type { WorkloadStatus } from '../platform/types.js';

/** What the status needs from the autoscaler. */
export interface ScalerView {
  desiredReplicas: number;
}

export interface StatusInputs {
  workload: WorkloadStatus | undefined;
  scaler: ScalerView | undefined;
  url: string;
  now: Date;
}

export function computeStatus(fn: KfnFunction, inputs: StatusInputs): FunctionStatus {
  const { workload, scaler, now } = inputs;
  const desired = scaler?.desiredReplicas ?? workload?.desiredReplicas ?? 0;
  let status: FunctionStatus = {
    ...fn.status,
    url: inputs.url,
    replicas: workload?.replicas ?? 0,
    readyReplicas: workload?.readyReplicas ?? 0,
    desiredReplicas: desired,
    restarts: workload?.restarts ?? 0,
    observedGeneration: fn.metadata.generation ?? 0,
  };
  const ready = workload?.readyReplicas ?? 0;

  if (!workload) {
    status = markDeploymentUnknown(status, 'Deploying', 'the workload is being created', now);
  } else if (workload.failure) {
    status = markDeploymentNotReady(status, workload.failure.reason, workload.failure.message, now);
  } else if (ready > 0 || desired === 0) {
    status = markDeploymentReady(status, now);
  } else {
    status = markDeploymentUnknown(status, 'Starting', `waiting for ${desired} replica(s) to pass the readiness probe`, now);
  }

  if (ready > 0) status = markActive(status, now);
  else if (desired === 0) status = markInactive(status, REASON_NO_TRAFFIC, 'scaled to zero; the next request starts a replica', now);
  else if (!workload?.failure) status = markInactive(status, 'Activating', `starting ${desired} replica(s)`, now);
  else status = markInactive(status, workload.failure.reason, workload.failure.message, now);
  return status;
}
