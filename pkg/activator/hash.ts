// Consistent hashing for policy consistentHash: rendezvous (highest random weight)
// hashing. Each replica scores score(key, replica) and the key goes to the best-scoring
// replica with a free slot.
//
// Why rendezvous and not a ring or Maglev (Envoy's two): a function has tens of replicas,
// not thousands, and they come and go with every scaling decision. Rendezvous needs no
// table to build or rebuild when the set changes (a ring of 100 points per replica, or a
// 65,537-entry Maglev table, would be rebuilt on each endpoint update and allocated per
// function); it is O(replicas) per pick, which at 50 replicas is 50 integer mixes, ~0.2 µs.
// It moves the fewest keys possible: removing a replica moves only the keys it had (every
// other score is unchanged), and adding one takes from each other replica only the keys
// it now outscores, 1/(N+1) of them on average. And its order of preference is the
// fallback when the chosen replica is full: the next best score, so a key spills to the
// same second replica each time (bounded load without a second table).

/** 32-bit FNV-1a of a string's UTF-16 code units. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** MurmurHash3's finalizer: every input bit flips each output bit with probability ~1/2. */
function fmix32(x: number): number {
  let h = x;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The weight of `replica` (its identity's hash) for `key` (a key's hash). */
export function score(key: number, replica: number): number {
  // The golden-ratio multiply keeps keys and replicas from cancelling out in the XOR
  // (key k with replica k would otherwise always score fmix32(0)).
  return fmix32((Math.imul(key, 0x9e3779b1) ^ replica) >>> 0);
}

export interface HashCandidate {
  readonly inFlight: number;
  /** Most requests at once; 0 = unlimited. */
  readonly capacity: number;
  /** hashString of the replica's stable identity (its endpoint id). */
  readonly hashId: number;
}

/**
 * The index of the best-scoring candidate for `key` that has a free slot, other than
 * `skip`, or -1. Ties (two identities with the same hash) go to the first in the list.
 */
export function rendezvous(candidates: readonly HashCandidate[], key: number, skip?: HashCandidate): number {
  let best = -1;
  let bestScore = -1;
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i] as HashCandidate;
    if (c === skip || (c.capacity > 0 && c.inFlight >= c.capacity)) continue;
    const s = score(key, c.hashId);
    if (s > bestScore) {
      best = i;
      bestScore = s;
    }
  }
  return best;
}
