// Outlier ejection's pure decisions, in the terms of Envoy's outlier detection
// (consecutive_5xx, base_ejection_time × times ejected, max_ejection_time,
// max_ejection_percent with at least one host ejectable) and never all replicas.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { countOutcome, eject, ejectionMs, isFailure, mayEject, type OutlierPolicy, type OutlierState } from '../../pkg/activator/outlier.js';

const policy: OutlierPolicy = { consecutive5xx: 3, baseEjectionMs: 30_000, maxEjectionMs: 300_000, maxEjectionPercent: 10 };
const fresh = (): OutlierState => ({ consecutiveFailures: 0, ejections: 0, ejectedUntil: 0 });

describe('isFailure', () => {
  const rows: Array<[number, boolean]> = [
    [200, false],
    [404, false],
    [499, false],
    [500, true],
    [502, true],
    [503, true],
    [599, true],
  ];
  for (const [status, want] of rows) it(`${status} → ${want}`, () => assert.equal(isFailure(status), want));
});

describe('countOutcome', () => {
  it('asks for ejection at the Nth failure in a row, not before', () => {
    const s = fresh();
    assert.deepEqual([true, true, true].map((f) => countOutcome(s, f, policy)), [false, false, true]);
  });
  it('starts the run again after a success', () => {
    const s = fresh();
    const seen = [true, true, false, true, true, true].map((f) => countOutcome(s, f, policy));
    assert.deepEqual(seen, [false, false, false, false, false, true]);
  });
});

describe('ejectionMs', () => {
  // base 30 s × times ejected, capped at 300 s: 30, 60, 90, ... 300, 300
  const rows: Array<[number, number]> = [
    [1, 30_000],
    [2, 60_000],
    [3, 90_000],
    [10, 300_000],
    [11, 300_000],
    [1_000_000, 300_000],
  ];
  for (const [nth, want] of rows) it(`ejection ${nth} lasts ${want / 1000}s`, () => assert.equal(ejectionMs(nth, policy), want));
  it('never lasts less than the base when the cap is set below it', () => {
    assert.equal(ejectionMs(1, { ...policy, baseEjectionMs: 60_000, maxEjectionMs: 10_000 }), 60_000);
    assert.equal(ejectionMs(5, { ...policy, baseEjectionMs: 60_000, maxEjectionMs: 10_000 }), 60_000);
  });
});

describe('eject', () => {
  it('counts the ejection, clears the run and sets when the replica comes back', () => {
    const s: OutlierState = { consecutiveFailures: 3, ejections: 1, ejectedUntil: 0 };
    assert.equal(eject(s, 1_000, policy), 61_000);
    assert.deepEqual(s, { consecutiveFailures: 0, ejections: 2, ejectedUntil: 61_000 });
  });
});

describe('mayEject', () => {
  const rows: Array<{ name: string; total: number; ejected: number; percent: number; want: boolean }> = [
    { name: 'never the only replica', total: 1, ejected: 0, percent: 100, want: false },
    { name: 'one of two, even at 10 % (one may always be)', total: 2, ejected: 0, percent: 10, want: true },
    { name: 'never the second of two (never all)', total: 2, ejected: 1, percent: 100, want: false },
    { name: '20 replicas at 10 %: a second', total: 20, ejected: 1, percent: 10, want: true },
    { name: '20 replicas at 10 %: not a third', total: 20, ejected: 2, percent: 10, want: false },
    { name: '4 replicas at 100 %: three', total: 4, ejected: 2, percent: 100, want: true },
    { name: '4 replicas at 100 %: not the fourth', total: 4, ejected: 3, percent: 100, want: false },
    { name: '0 % still allows one, as Envoy', total: 10, ejected: 0, percent: 0, want: true },
    { name: '0 %: not two', total: 10, ejected: 1, percent: 0, want: false },
    { name: 'no replicas', total: 0, ejected: 0, percent: 100, want: false },
  ];
  for (const r of rows) it(r.name, () => assert.equal(mayEject(r.total, r.ejected, r.percent), r.want));

  it('property: ejecting while mayEject allows never leaves zero replicas, nor more than the percentage (or one)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 100 }), (total, percent) => {
        let ejected = 0;
        while (mayEject(total, ejected, percent)) ejected++;
        if (total > 0) assert.ok(total - ejected >= 1, `${total} replicas, ${ejected} ejected`);
        assert.ok(ejected <= Math.max(1, Math.floor((total * percent) / 100)));
      }),
    );
  });
});
