// Rendezvous hashing (policy consistentHash): table cases, and the properties that make it
// consistent, checked over generated replica sets and keys with fast-check.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { hashString, rendezvous, score, type HashCandidate } from '../../pkg/activator/hash.js';

const replica = (id: string, inFlight = 0, capacity = 0): HashCandidate => ({ inFlight, capacity, hashId: hashString(id) });
const ids = (n: number, prefix = 'r'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const owner = (set: readonly HashCandidate[], key: number): number => rendezvous(set, key);

describe('hashString', () => {
  // Published FNV-1a 32-bit test vectors (Fowler/Noll/Vo).
  const vectors: Array<[string, number]> = [
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968],
  ];
  for (const [s, want] of vectors) it(`FNV-1a("${s}") = 0x${want.toString(16)}`, () => assert.equal(hashString(s), want));
});

describe('rendezvous', () => {
  it('has no choice with no replicas, or with all of them full', () => {
    assert.equal(rendezvous([], 1), -1);
    assert.equal(rendezvous([replica('a', 1, 1), replica('b', 2, 2)], 1), -1);
  });

  it('sends a key to the replica that scores it highest', () => {
    const set = ids(5).map((id) => replica(id));
    const key = hashString('user-42');
    const scores = set.map((r) => score(key, r.hashId));
    assert.equal(rendezvous(set, key), scores.indexOf(Math.max(...scores)));
  });

  it('sends a key whose replica is full to its second choice, the same one every time', () => {
    const set = ids(5).map((id) => replica(id, 0, 1));
    const key = hashString('user-42');
    const first = rendezvous(set, key);
    const full = set.map((r, i) => (i === first ? { ...r, inFlight: 1 } : r));
    const second = rendezvous(full, key);
    assert.notEqual(second, first);
    assert.ok(second >= 0);
    assert.equal(rendezvous(full, key), second);
    const scores = set.map((r) => score(key, r.hashId));
    const ranked = [...scores].sort((a, b) => b - a);
    assert.equal(scores[second], ranked[1], 'the next best score');
  });

  it('skips the replica a retry comes from, going to the next choice', () => {
    const set = ids(5).map((id) => replica(id));
    const key = hashString('user-42');
    const first = rendezvous(set, key);
    const full = set.map((r, i) => (i === first ? { ...r, inFlight: 1, capacity: 1 } : r));
    assert.equal(rendezvous(set, key, set[first]), rendezvous(full, key));
  });

  const replicaSet = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 20 }), { minLength: 2, maxLength: 40 });
  const keys = fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 50 });

  it('property: the same key goes to the same replica while the set is unchanged, whatever its order', () => {
    fc.assert(
      fc.property(replicaSet, keys, (names, ks) => {
        const set = names.map((n) => replica(n));
        const reversed = [...set].reverse();
        for (const k of ks) {
          const a = set[owner(set, k)];
          assert.equal(set[owner(set, k)], a);
          assert.equal(reversed[owner(reversed, k)], a);
        }
      }),
    );
  });

  it('property: removing one of N replicas moves only the keys that were on it', () => {
    fc.assert(
      fc.property(replicaSet, keys, fc.nat(), (names, ks, pick) => {
        const set = names.map((n) => replica(n));
        const gone = pick % set.length;
        const rest = set.filter((_, i) => i !== gone);
        for (const k of ks) {
          const before = set[owner(set, k)];
          const after = rest[owner(rest, k)];
          if (before !== set[gone]) assert.equal(after, before);
        }
      }),
    );
  });

  it('property: adding a replica moves keys only onto the new one', () => {
    fc.assert(
      fc.property(replicaSet, keys, (names, ks) => {
        const set = names.map((n) => replica(n));
        const grown = [...set, replica('newcomer\u0000')];
        for (const k of ks) {
          const after = grown[owner(grown, k)];
          if (after !== grown[grown.length - 1]) assert.equal(after, set[owner(set, k)]);
        }
      }),
    );
  });

  it('moves about 1/(N+1) of the keys when one of N+1 replicas is added (N = 4, 9, 19; 20,000 keys)', () => {
    for (const n of [4, 9, 19]) {
      const set = ids(n).map((id) => replica(id));
      const grown = [...set, replica(`r${n}`)];
      let moved = 0;
      const total = 20_000;
      for (let i = 0; i < total; i++) {
        const k = hashString(`session-${i}`);
        if (grown[owner(grown, k)] !== set[owner(set, k)]) moved++;
      }
      const want = total / (n + 1);
      // Binomial(20,000, 1/(N+1)): a standard deviation is at most ~71 keys; ±15 % of the
      // expectation (≥ 150 keys at N=19) is more than 2 of them.
      assert.ok(Math.abs(moved - want) < want * 0.15, `N=${n}: moved ${moved}, expected about ${want.toFixed(0)}`);
    }
  });

  it('spreads keys evenly: each of 10 replicas gets 10 % ± 2 % of 20,000 keys', () => {
    const set = ids(10, 'fn-7d9c-').map((id) => replica(id));
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 20_000; i++) {
      const at = owner(set, hashString(`user-${i}`));
      counts[at] = (counts[at] ?? 0) + 1;
    }
    for (const [i, n] of counts.entries()) assert.ok(n > 1600 && n < 2400, `replica ${i}: ${n} keys`);
  });
});
