import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { activatorShare } from '../../../pkg/platform/kubernetes/share.js';
import type { ReadyEndpoint } from '../../../pkg/platform/types.js';

const replicas = (n: number): ReadyEndpoint[] => Array.from({ length: n }, (_, i) => ({ id: `r${i}`, host: `10.0.0.${i + 1}`, port: 8080 }));
const activators = (n: number): string[] => Array.from({ length: n }, (_, i) => `a${i}`);

/** Every activator's share of `r` replicas: replica id → capacity, per activator. */
function shares(cc: number, r: number, a: number): Array<Map<string, number>> {
  const names = activators(a);
  return names.map((self) => {
    const s = activatorShare({ containerConcurrency: cc, replicas: replicas(r), activators: names, self });
    return new Map(s.endpoints.map((e) => [e.id, s.containerConcurrency]));
  });
}

describe('activatorShare: the replicas and per-replica capacity one activator of several uses', () => {
  const rows: Array<{ name: string; cc: number; r: number; a: number; want: string[] }> = [
    { name: 'one activator uses every replica at full cc', cc: 4, r: 3, a: 1, want: ['r0 r1 r2 @4'] },
    { name: 'unlimited cc: every activator uses every replica', cc: 0, r: 2, a: 3, want: ['r0 r1 @0', 'r0 r1 @0', 'r0 r1 @0'] },
    { name: 'no replicas: nothing to share', cc: 4, r: 0, a: 2, want: [' @4', ' @4'] },
    { name: 'as many replicas as activators: one each at full cc', cc: 4, r: 2, a: 2, want: ['r0 @4', 'r1 @4'] },
    { name: 'more replicas than activators: subsets by index, at full cc', cc: 2, r: 5, a: 2, want: ['r0 r2 r4 @2', 'r1 r3 @2'] },
    { name: 'fewer replicas, cc ≥ activators: all replicas, cc split with the remainder first', cc: 10, r: 2, a: 3, want: ['r0 r1 @4', 'r0 r1 @3', 'r0 r1 @3'] },
    { name: 'fewer replicas, cc < activators: each activator on one replica, its cc split', cc: 2, r: 2, a: 3, want: ['r0 @1', 'r1 @2', 'r0 @1'] },
    { name: 'one replica with cc 1 and two activators: one serves, the other waits', cc: 1, r: 1, a: 2, want: ['r0 @1', ' @1'] },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const names = activators(row.a);
      const got = names.map((self) => {
        const s = activatorShare({ containerConcurrency: row.cc, replicas: replicas(row.r), activators: names, self });
        return `${s.endpoints.map((e) => e.id).join(' ')} @${s.containerConcurrency}`;
      });
      assert.deepEqual(got, row.want);
    });
  }

  it('counts itself when it is not among the ready activators yet', () => {
    const s = activatorShare({ containerConcurrency: 4, replicas: replicas(2), activators: ['a0'], self: 'a1' });
    assert.deepEqual(s.endpoints.map((e) => e.id), ['r1']);
  });

  it('does not depend on the order replicas and activators are given in', () => {
    const reps = replicas(5);
    const a = activatorShare({ containerConcurrency: 3, replicas: reps, activators: ['b', 'a', 'c'], self: 'b' });
    const b = activatorShare({ containerConcurrency: 3, replicas: [...reps].reverse(), activators: ['c', 'b', 'a'], self: 'b' });
    assert.deepEqual(a, b);
  });

  it('over cc 1-8, 0-9 replicas and 1-7 activators: every replica gets exactly cc in total, and every activator a slot when there are enough', () => {
    for (let cc = 1; cc <= 8; cc++) {
      for (let r = 0; r <= 9; r++) {
        for (let a = 1; a <= 7; a++) {
          const all = shares(cc, r, a);
          const where = `cc ${cc}, ${r} replicas, ${a} activators`;
          for (const rep of replicas(r)) {
            const total = all.reduce((sum, m) => sum + (m.get(rep.id) ?? 0), 0);
            assert.equal(total, cc, `${where}: replica ${rep.id} gets ${total} in total`);
          }
          for (const [i, m] of all.entries()) {
            for (const id of m.keys()) assert.ok(replicas(r).some((e) => e.id === id), `${where}: a${i} got unknown ${id}`);
            if (cc * r >= a) assert.ok(m.size > 0, `${where}: a${i} has no slot although there are ${cc * r} slots`);
          }
        }
      }
    }
  });
});
