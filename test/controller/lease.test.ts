// Leader election's pure decisions: is the lease expired at `now`, who holds it, and
// what a candidate does about it, as tables over a hand-set clock.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import { isLeaseExpired, leaseAction, leaseHolder, leaseRecordOf, nextLeaseSpec, type LeaseAction, type LeaseRecord } from '../../pkg/controller/lease.js';
import { FakeClock } from '../../pkg/shared/clock.js';

const T0 = Date.parse('2026-11-22T04:00:00Z');

function rec(holder: string | undefined, renewedAgoMs: number | undefined, durationS = 15, transitions = 0): LeaseRecord {
  return {
    holder,
    renewTimeMs: renewedAgoMs === undefined ? undefined : T0 - renewedAgoMs,
    acquireTimeMs: T0 - 60_000,
    leaseDurationMs: durationS * 1000,
    transitions,
  };
}

describe('lease decisions', () => {
  const rows: Array<{ name: string; lease: LeaseRecord | undefined; expired?: boolean; holder: string | undefined; a: LeaseAction; b: LeaseAction }> = [
    { name: 'no Lease object', lease: undefined, holder: undefined, a: 'create', b: 'create' },
    { name: 'held by a, renewed 1 s ago', lease: rec('a', 1000), expired: false, holder: 'a', a: 'renew', b: 'wait' },
    { name: 'held by a, renewed 14.999 s ago', lease: rec('a', 14_999), expired: false, holder: 'a', a: 'renew', b: 'wait' },
    { name: 'held by a, renewed exactly 15 s ago: expired', lease: rec('a', 15_000), expired: true, holder: undefined, a: 'renew', b: 'acquire' },
    { name: 'held by a, renewed 1 min ago', lease: rec('a', 60_000), expired: true, holder: undefined, a: 'renew', b: 'acquire' },
    { name: 'released (no holder)', lease: rec(undefined, 0, 1), expired: true, holder: undefined, a: 'acquire', b: 'acquire' },
    { name: 'held but never renewed', lease: rec('a', undefined), expired: true, holder: undefined, a: 'renew', b: 'acquire' },
    { name: 'renewTime in the future (skew) is live', lease: rec('a', -5000), expired: false, holder: 'a', a: 'renew', b: 'wait' },
  ];
  for (const r of rows) {
    it(r.name, () => {
      const clock = new FakeClock(T0);
      if (r.lease) assert.equal(isLeaseExpired(r.lease, clock.now()), r.expired);
      assert.equal(leaseHolder(r.lease, clock.now()), r.holder);
      assert.equal(leaseAction(r.lease, 'a', clock.now()), r.a, 'as a');
      assert.equal(leaseAction(r.lease, 'b', clock.now()), r.b, 'as b');
    });
  }

  it('a lease expires as the clock passes renewTime + duration', () => {
    const clock = new FakeClock(T0);
    const lease = rec('a', 0, 2);
    assert.equal(leaseAction(lease, 'b', clock.now()), 'wait');
    clock.advance(1999);
    assert.equal(leaseAction(lease, 'b', clock.now()), 'wait');
    clock.advance(1);
    assert.equal(leaseAction(lease, 'b', clock.now()), 'acquire');
  });

  describe('nextLeaseSpec', () => {
    it('create starts at transition 0 with acquire = renew = now', () => {
      assert.deepEqual(nextLeaseSpec(undefined, 'create', 'a', 15_000, T0), {
        holder: 'a', renewTimeMs: T0, acquireTimeMs: T0, leaseDurationSeconds: 15, transitions: 0,
      });
    });
    it('renew keeps acquireTime and transitions', () => {
      assert.deepEqual(nextLeaseSpec(rec('a', 2000, 15, 3), 'renew', 'a', 15_000, T0), {
        holder: 'a', renewTimeMs: T0, acquireTimeMs: T0 - 60_000, leaseDurationSeconds: 15, transitions: 3,
      });
    });
    it('acquire from another holder counts a transition', () => {
      assert.deepEqual(nextLeaseSpec(rec('a', 20_000, 15, 3), 'acquire', 'b', 15_000, T0), {
        holder: 'b', renewTimeMs: T0, acquireTimeMs: T0, leaseDurationSeconds: 15, transitions: 4,
      });
    });
    it('a sub-second duration is written as 1 s, the API minimum', () => {
      assert.equal(nextLeaseSpec(undefined, 'create', 'a', 300, T0).leaseDurationSeconds, 1);
    });
  });

  describe('leaseRecordOf', () => {
    it('reads MicroTime as the Date client-node sends and as the string it receives', () => {
      const sent: V1Lease = { spec: { holderIdentity: 'a', leaseDurationSeconds: 10, renewTime: new V1MicroTime(T0), leaseTransitions: 2 } };
      const received = { spec: { holderIdentity: 'a', leaseDurationSeconds: 10, renewTime: '2026-11-22T04:00:00.000000Z' } } as unknown as V1Lease;
      assert.deepEqual(leaseRecordOf(sent), { holder: 'a', renewTimeMs: T0, acquireTimeMs: undefined, leaseDurationMs: 10_000, transitions: 2 });
      assert.equal(leaseRecordOf(received).renewTimeMs, T0);
    });
    it('an empty holderIdentity means nobody holds it', () => {
      assert.equal(leaseRecordOf({ spec: { holderIdentity: '' } }).holder, undefined);
    });
  });
});
