// The throttler with spec.loadBalancing: consistentHash keeps a key on one replica,
// leastRequest spreads by load, and outlier ejection takes failing replicas out for a
// growing time, never all of them. Time is a hand-moved clock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { balancingOf } from '../../pkg/activator/balancing.js';
import type { Replica } from '../../pkg/activator/breaker.js';
import { hashString } from '../../pkg/activator/hash.js';
import { Throttler } from '../../pkg/activator/throttler.js';
import type { LoadBalancingSpec } from '../../pkg/apis/function/types.js';
import type { ReadyEndpoint } from '../../pkg/platform/types.js';
import { FakeClock } from '../../pkg/shared/clock.js';

const ep = (id: string): ReadyEndpoint => ({ id, host: '10.0.0.1', port: 8000 + (Number(id.replace(/\D/g, '')) || 0) });

function throttler(cc: number, lb: LoadBalancingSpec, ids: string[]) {
  const clock = new FakeClock(1_000_000);
  let r = 0;
  const t = new Throttler('default/hello', cc, { maxQueue: 100, maxQueueBytes: 1000, retryAfterSeconds: 1, random: () => (r = (r + 0.37) % 1) }, {
    poke: () => {},
    coldStartServed: () => {},
    now: () => clock.now(),
  });
  t.configureBalancing(balancingOf(lb));
  t.setEndpoints(ids.map(ep), undefined);
  /** One request start to end, answered with `status` (or by replica): which replica it went to. */
  const call = (status: number | ((id: string) => number) = 200, key?: number): string => {
    const got = t.tryAcquire(undefined, key);
    assert.ok(got, 'a replica');
    t.release(got, typeof status === 'number' ? status : status(got.endpoint.id));
    return got.endpoint.id;
  };
  return { t, clock, call };
}

const outlier = { policy: 'default', outlierDetection: { consecutive5xx: 3, baseEjectionTime: '30s', maxEjectionTime: '75s', maxEjectionPercent: 50 } } as const;

describe('Throttler with consistentHash', () => {
  it('sends one key to one replica every time, and a keyless request by the default policy', () => {
    const { t, call } = throttler(0, { policy: 'consistentHash', consistentHash: { header: 'x-user' } }, ['r1', 'r2', 'r3', 'r4']);
    assert.deepEqual(t.hashOn, { kind: 'header', name: 'x-user' });
    for (const user of ['alice', 'bob', 'carol']) {
      const key = hashString(user);
      const first = call(200, key);
      for (let i = 0; i < 20; i++) assert.equal(call(200, key), first, user);
    }
    // Keyless: power of two choices over the four (random injected): more than one replica.
    assert.ok(new Set(Array.from({ length: 20 }, () => call())).size > 1);
  });

  it('moves a key to its next choice while its replica is full, and back when it frees', () => {
    const { t } = throttler(1, { policy: 'consistentHash', consistentHash: { cookie: 'session' } }, ['r1', 'r2', 'r3']);
    const key = hashString('s-17');
    const a = t.tryAcquire(undefined, key) as Replica;
    const b = t.tryAcquire(undefined, key) as Replica;
    assert.notEqual(a, b);
    t.release(a);
    t.release(b);
    assert.equal(t.tryAcquire(undefined, key), a);
  });

  it('has no hash key to read for the default policy', () => {
    assert.equal(throttler(0, {}, ['r1']).t.hashOn, undefined);
  });
});

describe('Throttler with leastRequest', () => {
  it('sends each request to the drawn replica with the fewest in flight', () => {
    const { t } = throttler(0, { policy: 'leastRequest', leastRequest: { choiceCount: 3 } }, ['r1', 'r2', 'r3']);
    // Six requests held at once: least-request keeps them even (2 each) with three draws.
    const held = Array.from({ length: 6 }, () => t.tryAcquire() as Replica);
    const counts = new Map<string, number>();
    for (const r of held) counts.set(r.endpoint.id, (counts.get(r.endpoint.id) ?? 0) + 1);
    assert.ok(Math.max(...counts.values()) <= 3, JSON.stringify([...counts]));
  });
});

describe('Throttler with outlier detection', () => {
  it('ejects a replica after consecutive5xx failures in a row, and takes it back after baseEjectionTime', () => {
    const { clock, call } = throttler(4, outlier, ['r1', 'r2']);
    const r1Fails = (id: string): number => (id === 'r1' ? 500 : 200);
    // Round robin (containerConcurrency 4): r1, r2, r1, r2, ...; r2's successes do not
    // break r1's run, which is r1's own.
    assert.deepEqual(Array.from({ length: 6 }, () => call(r1Fails)), ['r1', 'r2', 'r1', 'r2', 'r1', 'r2']);
    assert.deepEqual(Array.from({ length: 4 }, () => call(r1Fails)), ['r2', 'r2', 'r2', 'r2']);
    clock.advance(29_999);
    assert.equal(call(), 'r2');
    clock.advance(1);
    assert.deepEqual(new Set(Array.from({ length: 2 }, () => call())), new Set(['r1', 'r2']), 'r1 is back after 30 s');
  });

  it('ejects for base × times ejected, capped at maxEjectionTime: 30 s, 60 s, then 75 s', () => {
    const { t, clock, call } = throttler(4, outlier, ['r1', 'r2']);
    const r1 = t.readyReplicas[0] as Replica;
    for (const want of [30_000, 60_000, 75_000, 75_000]) {
      while (r1.ejectedUntil === 0) call((id) => (id === 'r1' ? 502 : 200));
      assert.equal(r1.ejectedUntil - clock.now(), want);
      clock.set(r1.ejectedUntil);
      call(); // the pick that notices the time is up
      assert.equal(r1.ejectedUntil, 0);
    }
  });

  it('never ejects the last replica: two replicas failing together lose one at most', () => {
    const { t, call } = throttler(0, { outlierDetection: { consecutive5xx: 1, maxEjectionPercent: 100 } }, ['r1', 'r2']);
    for (let i = 0; i < 10; i++) call(503);
    const ejected = t.readyReplicas.filter((r) => r.ejectedUntil > 0).length;
    assert.equal(ejected, 1);
    assert.ok(t.tryAcquire(), 'one replica still takes requests');
  });

  it('brings an ejected replica back when the others leave, rather than having none', () => {
    const { t, call } = throttler(0, { outlierDetection: { consecutive5xx: 1, maxEjectionPercent: 100 } }, ['r1', 'r2']);
    const first = call(500);
    t.setEndpoints([ep(first)], undefined);
    assert.equal(call(), first);
  });

  it('keeps to maxEjectionPercent when the set shrinks under its ejected replicas: the one due back first returns', () => {
    // fast-check found it: 2 of 5 out at 40 %, then the set shrank to 3 with both still out.
    const ids = ['r1', 'r2', 'r3', 'r4', 'r5'];
    const { t, clock, call } = throttler(0, { outlierDetection: { consecutive5xx: 1, maxEjectionPercent: 40 } }, ids);
    const first = call(500);
    clock.advance(1000);
    const second = call(500);
    assert.notEqual(first, second, 'an ejected replica gets no new request');
    const other = ids.find((id) => id !== first && id !== second) ?? '';
    t.setEndpoints([ep(first), ep(second), ep(other)], undefined);
    const out = t.readyReplicas.filter((r) => r.ejectedUntil > 0).map((r) => r.endpoint.id);
    assert.deepEqual(out, [second], '1 of 3 may be out at 40 %: the later ejection stays');
  });

  it('ends every ejection when outlier detection is turned off', () => {
    const { t, call } = throttler(0, { outlierDetection: { consecutive5xx: 1 } }, ['r1', 'r2']);
    const bad = call(500);
    assert.ok(!Array.from({ length: 10 }, () => call()).includes(bad));
    t.configureBalancing(balancingOf(undefined));
    assert.ok(Array.from({ length: 20 }, () => call()).includes(bad));
  });

  it('property: whatever the outcomes, clock moves and endpoint changes, a request finds a replica while there is one', () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('call' as const), status: fc.constantFrom(200, 500, 502, 503, 0) }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 200_000 }) }),
      fc.record({ kind: fc.constant('endpoints' as const), ids: fc.uniqueArray(fc.constantFrom('r1', 'r2', 'r3', 'r4', 'r5'), { minLength: 1, maxLength: 5 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 100 }), fc.array(step, { maxLength: 60 }), (n, percent, steps) => {
        const { t, clock, call } = throttler(0, { outlierDetection: { consecutive5xx: 1, baseEjectionTime: '1s', maxEjectionPercent: percent } }, ['r1', 'r2', 'r3', 'r4', 'r5'].slice(0, n));
        for (const s of steps) {
          if (s.kind === 'call') call(s.status);
          else if (s.kind === 'advance') clock.advance(s.ms);
          else t.setEndpoints(s.ids.map(ep), undefined);
          const total = t.readyReplicas.length;
          const out = t.readyReplicas.filter((r) => r.ejectedUntil > 0).length;
          assert.ok(out < total || total === 0, `${out} of ${total} ejected`);
          assert.ok(out <= Math.max(1, Math.floor((total * percent) / 100)), `${out} of ${total} ejected at ${percent} %`);
        }
      }),
    );
  });
});
