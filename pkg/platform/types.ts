// The backend seam: everything above it (activator, autoscaler, dev controller) is the
// same code on a cluster and on one machine. It is split by role, and each consumer takes
// only the roles it uses:
//   EndpointWatcher   ready endpoints per function        the activator
//   ScaleTarget       a workload's replicas (write, read)  the autoscaler
//   WorkloadStatuses  what each workload is doing          the autoscaler, kfn dev's status
//   Workloads         create, update, remove workloads     kfn dev only
// Two implementations, each with exactly the roles it can fill: `local` (child processes)
// has all four; `kubernetes` has the first three, one class each (EndpointSlices, the scale
// subresource, Deployments), because on a cluster the controller creates workloads from
// Function objects (pkg/reconciler/function), so no role there refuses a call.
import type { FunctionKey } from '../apis/meta.js';
import type { KfnFunction } from '../apis/function/types.js';

/**
 * setScale's refusal when the function has no workload (yet). On a cluster the autoscaler
 * hears of a new Function as soon as the controller does, before the controller has
 * created its Deployment: for a while this is the normal state, not a failure.
 */
export class WorkloadNotFoundError extends Error {
  override readonly name = 'WorkloadNotFoundError';
}

/** A replica that passed its readiness probe and may get traffic. */
export interface ReadyEndpoint {
  /** Stable for the replica's life and unique within the function. */
  id: string;
  host: string;
  port: number;
}

/**
 * Why a function cannot become ready. Set when replicas keep failing to start, so the
 * activator can fail waiting requests at once instead of after their timeout.
 */
export interface ActivationFailure {
  reason: string;
  message: string;
}

export interface EndpointsUpdate {
  key: FunctionKey;
  endpoints: readonly ReadyEndpoint[];
  failure?: ActivationFailure;
}

export interface WorkloadStatus {
  /** Replicas asked for (the scale). */
  desiredReplicas: number;
  /** Replicas that exist (starting, ready or draining). */
  replicas: number;
  readyReplicas: number;
  /** Restarts of crashed replicas since the workload was created. */
  restarts: number;
  /** Set while the workload is unhealthy, with what a person can act on. */
  failure?: ActivationFailure;
  /** Set while a machine-wide replica cap holds the workload below its scale (local mode). */
  replicaCap?: ReplicaCapShortfall;
}

/** A function held below what its scale asks for by a cap on replicas for all functions together. */
export interface ReplicaCapShortfall {
  /** Replicas its scale asks for. */
  wanted: number;
  /** Replicas it may have now: what it runs plus what the cap leaves. */
  allowed: number;
  /** The cap. */
  cap: number;
}

/** Ready endpoints of every function. */
export interface EndpointWatcher {
  /** Called with the full endpoint set of a function whenever it changes. Returns unsubscribe. */
  watchEndpoints(listener: (update: EndpointsUpdate) => void): () => void;
}

/** A function's replicas: the autoscaler's write. */
export interface ScaleTarget {
  /** Idempotent. Rejects with WorkloadNotFoundError while the function has no workload. */
  setScale(key: FunctionKey, replicas: number): Promise<void>;
  /** Undefined while the function has no workload. */
  getScale(key: FunctionKey): Promise<number | undefined>;
}

/** What each function's workload is doing. */
export interface WorkloadStatuses {
  workloadStatus(key: FunctionKey): WorkloadStatus | undefined;
  /** Called whenever something in `workloadStatus(key)` may have changed. Returns unsubscribe. */
  watchStatus(listener: (key: FunctionKey) => void): () => void;
}

/** Creating and removing workloads, where kfn runs them itself. */
export interface Workloads {
  /** Creates the function's workload, or updates it in place (rolling its replicas). */
  applyFunction(fn: KfnFunction, signal?: AbortSignal): Promise<void>;
  /** Drains and removes every replica, then forgets the function. */
  deleteFunction(key: FunctionKey): Promise<void>;
}
