// Load-balancing policies as pure functions of the candidate replicas, as Knative's
// activator does: each returns the index of the replica to use, or -1 when none has a
// free slot. Which one applies depends on containerConcurrency:
//   0 (unlimited) → power of two choices: no slot to wait for, so spread by load;
//   1..3          → first available: with so few slots, packing onto the first replicas
//                   keeps the others idle enough to be scaled down;
//   above 3       → round robin over replicas with a free slot.
// A function may choose another (spec.loadBalancing): leastRequest below, consistentHash
// in hash.ts. Outlier ejection (outlier.ts) narrows the candidates before any of them.

export interface Candidate {
  readonly inFlight: number;
  /** Most requests at once; 0 = unlimited. */
  readonly capacity: number;
}

export type PolicyName = 'first-available' | 'round-robin' | 'power-of-two-choices' | 'least-request' | 'consistent-hash';

export function policyFor(containerConcurrency: number): PolicyName {
  if (containerConcurrency <= 0) return 'power-of-two-choices';
  if (containerConcurrency <= 3) return 'first-available';
  return 'round-robin';
}

export function hasFreeSlot(c: Candidate): boolean {
  return c.capacity <= 0 || c.inFlight < c.capacity;
}

export function firstAvailable(candidates: readonly Candidate[]): number {
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i];
    if (c && hasFreeSlot(c)) return i;
  }
  return -1;
}

/**
 * The first replica with a free slot at or after `cursor` (wrapping). The caller keeps
 * the cursor and moves it to the returned index + 1; a cursor past the end (the set
 * shrank) starts again from 0.
 */
export function roundRobin(candidates: readonly Candidate[], cursor: number): number {
  const n = candidates.length;
  const start = cursor >= 0 && cursor < n ? cursor : 0;
  for (let i = 0; i < n; i++) {
    const at = (start + i) % n;
    const c = candidates[at];
    if (c && hasFreeSlot(c)) return at;
  }
  return -1;
}

/**
 * Two distinct replicas drawn with `random` (in [0, 1)); the one with fewer requests in
 * flight wins, the first drawn on a tie. If the winner has no free slot, the other is used
 * when it has one.
 */
export function powerOfTwoChoices(candidates: readonly Candidate[], random: () => number): number {
  const n = candidates.length;
  if (n === 0) return -1;
  if (n === 1) return candidates[0] && hasFreeSlot(candidates[0]) ? 0 : -1;
  const a = Math.min(n - 1, Math.floor(random() * n));
  let b = Math.min(n - 2, Math.floor(random() * (n - 1)));
  if (b >= a) b++; // draw from the n-1 indexes other than a
  const ca = candidates[a];
  const cb = candidates[b];
  if (!ca || !cb) return -1;
  const [win, lose, wi, li] = cb.inFlight < ca.inFlight ? [cb, ca, b, a] : [ca, cb, a, b];
  if (hasFreeSlot(win)) return wi;
  return hasFreeSlot(lose) ? li : -1;
}

/**
 * Envoy's LEAST_REQUEST with equal weights (N_CHOICES): `choices` replicas drawn at random,
 * with replacement as Envoy draws them, and the one with the fewest requests in flight
 * wins (the first drawn on a tie). Drawn replicas without a free slot do not count; when
 * none drawn has one, the least loaded replica with a free slot anywhere is used, since a
 * request must never wait while a slot is free.
 */
export function leastRequest(candidates: readonly Candidate[], choices: number, random: () => number): number {
  const n = candidates.length;
  if (n === 0) return -1;
  let best = -1;
  let bestLoad = Infinity;
  for (let k = 0; k < choices; k++) {
    const i = Math.min(n - 1, Math.floor(random() * n));
    const c = candidates[i] as Candidate;
    if (c.inFlight < bestLoad && hasFreeSlot(c)) {
      best = i;
      bestLoad = c.inFlight;
    }
  }
  if (best >= 0) return best;
  for (let i = 0; i < n; i++) {
    const c = candidates[i] as Candidate;
    if (c.inFlight < bestLoad && hasFreeSlot(c)) {
      best = i;
      bestLoad = c.inFlight;
    }
  }
  return best;
}
