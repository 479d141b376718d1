// A Function's status in local mode: the facts the local platform and the autoscaler
// report, handed to the status rule the cluster controller uses too
// (pkg/apis/function/status.ts). Pure.
import { functionStatus, type FunctionFacts } from '../apis/function/status.js';
import type { FunctionStatus, KfnFunction } from '../apis/function/types.js';
import type { WorkloadStatus } from '../platform/types.js';
import { initialReplicas } from '../apis/function/scale.js';

/** What the status needs from the autoscaler. */
export interface ScalerView {
  desiredReplicas: number;
}

/** Where a person raises the local replica cap. */
export const REPLICA_CAP_SETTING = 'kfn dev --max-replicas, or KFN_MAX_REPLICAS';

export interface LocalObservation {
  workload: WorkloadStatus | undefined;
  scaler: ScalerView | undefined;
  url: string;
  now: Date;
}

export function localFacts(fn: KfnFunction, seen: LocalObservation): FunctionFacts {
  const { workload } = seen;
  const facts: FunctionFacts = {
    url: seen.url,
    // Before the workload exists, what it will be created with, as on a cluster.
    desiredReplicas: seen.scaler?.desiredReplicas ?? workload?.desiredReplicas ?? initialReplicas(fn),
    failures: workload?.failure ? [workload.failure] : [],
    now: seen.now,
  };
  if (workload) facts.workload = { replicas: workload.replicas, readyReplicas: workload.readyReplicas, restarts: workload.restarts };
  if (workload?.replicaCap) facts.replicaCap = { ...workload.replicaCap, setting: REPLICA_CAP_SETTING };
  return facts;
}

export function localFunctionStatus(fn: KfnFunction, seen: LocalObservation): FunctionStatus {
  return functionStatus(fn, localFacts(fn, seen));
}
