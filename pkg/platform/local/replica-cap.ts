// The machine-wide cap on local replicas: every replica is a process on this machine, and
// nothing in a manifest may take it down (`scale.min: 100000` would fork until memory runs
// out). Pure: the platform counts, this decides.
import type { ActivationFailure, ReplicaCapShortfall } from '../types.js';

/** Resident memory of one kfn-node-runtime replica of samples/hello on Node 24: ~63 MiB measured, rounded up. */
export const REPLICA_MEMORY_BYTES = 64 * 1024 * 1024;

/**
 * The default cap for a machine: half its memory spent on replicas at 64 MiB each, the
 * other half left to the system, kfn dev itself, nats-server and whatever else the person
 * runs. Memory, not cores, is what runs out: idle replicas cost no CPU, but each holds its
 * heap. 8 GiB → 64 replicas, 16 GiB → 128, 24 GiB → 192.
 */
export function defaultMaxReplicas(totalMemoryBytes: number): number {
  return Math.max(1, Math.floor(totalMemoryBytes / 2 / REPLICA_MEMORY_BYTES));
}


/**
 * How many of the `toStart` replicas a function may start when `left` more fit under the
 * cap, and the shortfall to report when that is fewer. `desired` 200 with 3 running
 * (`toStart` 197) and 5 left: start 5, report wanted 200 / allowed 8.
 */
export function capStart(desired: number, toStart: number, left: number, cap: number): { start: number; shortfall?: ReplicaCapShortfall } {
  const start = Math.max(0, Math.min(toStart, left));
  if (start === toStart) return { start };
  return { start, shortfall: { wanted: desired, allowed: desired - toStart + start, cap } };
}

/**
 * What requests to a function the cap keeps at zero replicas get (503 at once, as for a
 * function that cannot start): waiting would hold them for the function's whole timeout
 * while the room they need is taken by other functions. Undefined while it has any room.
 */
export function capActivationFailure(s: ReplicaCapShortfall | undefined): ActivationFailure | undefined {
  if (!s || s.allowed > 0) return undefined;
  return {
    reason: 'ReplicaCapReached',
    message: `no room for a replica: this machine's cap of ${s.cap} replicas for all functions together is in use by other functions (kfn dev --max-replicas raises it)`,
  };
}
