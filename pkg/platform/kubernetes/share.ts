// How N activators split a function's replicas so that containerConcurrency stays a hard
// per-replica limit across all of them. Pure.
//
// Each activator enforces the limit it is given on the replicas it is given, and knows
// nothing of the others. So the split must give every replica out at most cc slots in
// total, summed over activators. The throttler gives every replica of a function the
// same capacity, so a share is a set of replicas plus one capacity.
//
// With A activators (sorted pod names; `self` at index i) and R ready replicas (sorted
// ids), cc > 0:
// - R ≥ A: subsetting. Replica r belongs to activator r mod A alone, at full cc. Every
//   activator gets ⌊R/A⌋ or ⌈R/A⌉ replicas, and a replica's breaker sees all its load.
//   5 replicas, 2 activators: a0 gets r0 r2 r4, a1 gets r1 r3, each at cc.
// - R < A, cc ≥ A: every activator uses every replica, and cc is split:
//   ⌊cc/A⌋ each, plus one for the first cc mod A activators. cc 10, 3 activators:
//   4, 3, 3 per replica = 10.
// - R < A, cc < A: cc cannot be split A ways. Activator i goes to replica i mod R only,
//   and the activators on one replica split its cc the same way. Those left with 0 get
//   no replica: their requests wait and are counted as demand, so the autoscaler adds
//   replicas until everyone has a slot (1 replica, cc 1, 2 activators: one activator
//   serves, the other queues; demand 2 → 3 replicas at 70% utilization → R ≥ A).
//   Knative overshoots the limit here instead; a hard limit is what cc promises.
//
// The sum holds for one consistent view. While activators disagree about the membership
// (one saw a peer join, another not yet) the total may briefly exceed cc: nobody
// coordinates that moment, as in Knative.
import type { ReadyEndpoint } from '../types.js';

export interface ShareInput {
  /** The function's hard per-replica limit; 0 = unlimited. */
  containerConcurrency: number;
  /** Ready replicas of the function, any order. */
  replicas: readonly ReadyEndpoint[];
  /** Names of the ready activators, any order. */
  activators: readonly string[];
  /** This activator's name. Counted even if not in `activators` yet (it is starting). */
  self: string;
}

export interface Share {
  /** The replicas this activator may send to. */
  endpoints: ReadyEndpoint[];
  /** What this activator may send to each of them at once; 0 = unlimited. */
  containerConcurrency: number;
}

export function activatorShare(input: ShareInput): Share {
  const cc = Math.max(0, Math.floor(input.containerConcurrency));
  const replicas = [...input.replicas].sort(byId);
  const activators = [...new Set([...input.activators, input.self])].sort();
  const A = activators.length;
  const R = replicas.length;
  const i = activators.indexOf(input.self);
  if (cc === 0 || A <= 1 || R === 0) return { endpoints: replicas, containerConcurrency: cc };
  if (R >= A) return { endpoints: replicas.filter((_, r) => r % A === i), containerConcurrency: cc };
  if (cc >= A) return { endpoints: replicas, containerConcurrency: split(cc, A, i) };
  const r = i % R;
  // Activators on replica r are r, r + R, r + 2R…; this one is number ⌊i/R⌋ of them.
  const sharing = Math.floor((A - 1 - r) / R) + 1;
  const capacity = split(cc, sharing, Math.floor(i / R));
  const replica = replicas[r];
  return capacity > 0 && replica ? { endpoints: [replica], containerConcurrency: capacity } : { endpoints: [], containerConcurrency: cc };
}

/** Part `k` of `total` split `n` ways, the remainder going to the first parts. */
function split(total: number, n: number, k: number): number {
  return Math.floor(total / n) + (k < total % n ? 1 : 0);
}

function byId(a: ReadyEndpoint, b: ReadyEndpoint): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
