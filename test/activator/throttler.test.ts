import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Replica } from '../../pkg/activator/breaker.js';
import type { ActivatorError } from '../../pkg/activator/errors.js';
import { WaitQueue, type QueueEntry } from '../../pkg/activator/queue.js';
import { Throttler, type ThrottlerLimits, type Waiter } from '../../pkg/activator/throttler.js';
import type { ReadyEndpoint } from '../../pkg/platform/types.js';
import { FakeClock } from '../../pkg/shared/clock.js';
import { waitFor } from '../util/wait.js';

class TestWaiter implements Waiter {
  bytes = 0;
  queueSlot = undefined;
  avoid: Replica | undefined = undefined;
  waitTimer: NodeJS.Timeout | undefined = undefined;
  granted: Replica | undefined;
  failed: ActivatorError | undefined;
  constructor(
    readonly name: string,
    bytes = 0,
  ) {
    this.bytes = bytes;
  }
  grant(r: Replica): void {
    this.granted = r;
  }
  fail(err: ActivatorError): void {
    this.failed = err;
  }
  grantedId(): string | undefined {
    return this.granted?.endpoint.id;
  }
}

const ep = (id: string): ReadyEndpoint => ({ id, host: '10.0.0.1', port: Number(id.replace(/\D/g, '')) || 8080 });

function throttler(cc: number, limits: Partial<ThrottlerLimits> = {}) {
  const clock = new FakeClock(1000);
  const pokes: number[] = [];
  const coldStarts: number[] = [];
  const refused: string[] = [];
  const t = new Throttler('default/hello', cc, { maxQueue: 100, maxQueueBytes: 1000, retryAfterSeconds: 2, random: () => 0, ...limits }, {
    poke: () => pokes.push(clock.now()),
    coldStartServed: (ms) => coldStarts.push(ms),
    now: () => clock.now(),
    activationFailed: (f, n) => refused.push(`${f.reason} ×${n}`),
  });
  return { t, clock, pokes, coldStarts, refused };
}

describe('Throttler', () => {
  it('hands out a free replica at once and never more than containerConcurrency', () => {
    const { t } = throttler(2);
    t.setEndpoints([ep('r1')], undefined);
    const a = t.tryAcquire();
    const b = t.tryAcquire();
    assert.ok(a && b);
    assert.equal(a, b);
    assert.equal(a.inFlight, 2);
    assert.equal(t.tryAcquire(), undefined);
    t.release(a);
    assert.equal(t.tryAcquire(), a);
  });

  it('queues with no replica, pokes once per cold spell, and serves FIFO when endpoints appear', () => {
    const { t, clock, pokes, coldStarts } = throttler(1);
    const ws = ['w1', 'w2', 'w3'].map((n) => new TestWaiter(n));
    for (const w of ws) t.enqueue(w, 10_000);
    assert.equal(t.queueDepth, 3);
    assert.equal(pokes.length, 1, 'poked once for three waiting requests');
    clock.advance(1500);
    t.setEndpoints([ep('r1'), ep('r2')], undefined);
    assert.deepEqual(ws.map((w) => w.granted?.endpoint.id), ['r1', 'r2', undefined], 'first-available, FIFO');
    assert.deepEqual(coldStarts, [1500]);
    const r1 = ws[0]?.granted;
    assert.ok(r1);
    t.release(r1);
    assert.equal(ws[2]?.granted, r1);
    for (const w of ws) clearTimeout(w.waitTimer);
  });

  it('does not let a new request jump the queue', () => {
    const { t } = throttler(1);
    t.setEndpoints([ep('r1')], undefined);
    const held = t.tryAcquire();
    assert.ok(held);
    const w = new TestWaiter('w');
    t.enqueue(w, 10_000);
    t.release(held);
    assert.equal(w.granted, held);
    assert.equal(t.tryAcquire(), undefined, 'slot went to the waiter');
    clearTimeout(w.waitTimer);
  });

  it('refuses past the count bound and the byte bound with queue_full and Retry-After', () => {
    const { t } = throttler(1, { maxQueue: 2, maxQueueBytes: 100 });
    const a = new TestWaiter('a', 60);
    const b = new TestWaiter('b', 60);
    const c = new TestWaiter('c', 10);
    const d = new TestWaiter('d', 10);
    t.enqueue(a, 10_000);
    t.enqueue(b, 10_000);
    assert.equal(b.failed?.code, 'queue_full', 'bytes: 60 + 60 > 100');
    t.enqueue(c, 10_000);
    t.enqueue(d, 10_000);
    assert.equal(d.failed?.code, 'queue_full', 'count: 2 queued');
    assert.equal(d.failed?.status, 503);
    assert.equal(d.failed?.retryAfterSeconds, 2);
    assert.match(d.failed?.message ?? '', /default\/hello/);
    assert.equal(t.grow(a, 40), false, 'growing past the byte bound is refused');
    assert.equal(t.grow(a, 30), true);
    assert.equal(t.queuedBytes, 100);
    t.failAll(d.failed ?? assert.fail());
  });

  it('fails waiting and new requests fast on activation failure, until endpoints appear', () => {
    const { t, refused } = throttler(0);
    const w = new TestWaiter('w');
    t.enqueue(w, 10_000);
    t.enqueue(new TestWaiter('w2'), 10_000);
    t.setEndpoints([], { reason: 'ExitedAtStart', message: 'exit code 1: cannot find module' });
    assert.equal(w.failed?.code, 'activation_failed');
    assert.match(w.failed?.message ?? '', /ExitedAtStart: exit code 1: cannot find module/);
    const late = new TestWaiter('late');
    t.enqueue(late, 10_000);
    assert.equal(late.failed?.code, 'activation_failed');
    assert.deepEqual(refused, ['ExitedAtStart ×2', 'ExitedAtStart ×1'], 'the refusals are reported, for the ActivationFailed Event');
    t.setEndpoints([ep('r1')], { reason: 'ExitedAtStart', message: 'one replica still crashing' });
    assert.ok(t.tryAcquire(), 'a ready replica is used even while another fails');
  });

  it('times out a waiting request with 504 naming the function', async () => {
    const { t } = throttler(1);
    const cold = new TestWaiter('cold');
    t.enqueue(cold, 20);
    await waitFor('cold timeout', () => cold.failed);
    assert.equal(cold.failed?.code, 'activation_timeout');
    assert.match(cold.failed?.message ?? '', /function default\/hello did not become ready within 0.02s/);
    t.setEndpoints([ep('r1')], undefined);
    assert.ok(t.tryAcquire());
    const busy = new TestWaiter('busy');
    t.enqueue(busy, 20);
    await waitFor('busy timeout', () => busy.failed);
    assert.equal(busy.failed?.code, 'queue_timeout');
    assert.equal(busy.failed?.status, 504);
  });

  it('pokes again for a new cold spell after the last waiter left', () => {
    const { t, pokes } = throttler(1);
    const a = new TestWaiter('a');
    t.enqueue(a, 10_000);
    t.cancel(a);
    const b = new TestWaiter('b');
    t.enqueue(b, 10_000);
    assert.equal(pokes.length, 2);
    t.cancel(b);
  });

  it('stops routing to a removed replica at once, keeps in-flight counts of the ones that stay', () => {
    const { t } = throttler(1);
    t.setEndpoints([ep('r1'), ep('r2')], undefined);
    const r1 = t.tryAcquire();
    assert.equal(r1?.endpoint.id, 'r1');
    t.setEndpoints([ep('r2'), ep('r3')], undefined);
    assert.equal(r1?.removed, true);
    const next = t.tryAcquire();
    assert.equal(next?.endpoint.id, 'r2');
    t.setEndpoints([ep('r2')], undefined);
    assert.equal(t.readyReplicas[0], next, 'same breaker kept');
    assert.equal(next?.inFlight, 1);
    const w = new TestWaiter('w');
    t.enqueue(w, 10_000);
    if (r1) t.release(r1); // the removed replica's request finished: nothing goes to it
    assert.equal(w.granted, undefined);
    if (next) t.release(next);
    assert.equal(w.grantedId(), 'r2');
  });

  it('prefers another replica for a retry, but uses the same one when it is the only one', () => {
    const { t } = throttler(0);
    t.setEndpoints([ep('r1'), ep('r2')], undefined);
    const [r1, r2] = t.readyReplicas;
    assert.equal(t.tryAcquire(r1), r2);
    t.setEndpoints([ep('r1')], undefined);
    assert.equal(t.tryAcquire(r1), r1);
  });

  it('round-robins over replicas with a free slot above containerConcurrency 3', () => {
    const { t } = throttler(4);
    t.setEndpoints([ep('r1'), ep('r2'), ep('r3')], undefined);
    const ids = Array.from({ length: 6 }, () => t.tryAcquire()?.endpoint.id);
    assert.deepEqual(ids, ['r1', 'r2', 'r3', 'r1', 'r2', 'r3']);
  });

  it('applies a new containerConcurrency to existing replicas and dispatches', () => {
    const { t } = throttler(1);
    t.setEndpoints([ep('r1')], undefined);
    assert.ok(t.tryAcquire());
    const w = new TestWaiter('w');
    t.enqueue(w, 10_000);
    assert.equal(w.granted, undefined);
    t.configure(2);
    assert.equal(w.grantedId(), 'r1');
  });
});

describe('WaitQueue', () => {
  const entry = (bytes = 0): QueueEntry => ({ bytes, queueSlot: undefined });

  it('is FIFO, skips removed entries and lets an entry join again', () => {
    const q = new WaitQueue<QueueEntry>(10, 100);
    const [a, b, c] = [entry(1), entry(2), entry(3)];
    q.push(a);
    q.push(b);
    q.push(c);
    q.remove(b);
    assert.equal(q.count, 2);
    assert.equal(q.bytes, 4);
    q.push(b);
    assert.deepEqual(q.drain(), [a, c, b]);
    assert.equal(q.count, 0);
    assert.equal(q.bytes, 0);
  });

  it('refuses to push an entry twice', () => {
    const q = new WaitQueue<QueueEntry>(10, 100);
    const a = entry();
    assert.equal(q.push(a), true);
    assert.equal(q.push(a), false);
    assert.equal(q.count, 1);
  });

  it('stays correct across many pushes and removals', () => {
    const q = new WaitQueue<QueueEntry>(100_000, Infinity);
    const all = Array.from({ length: 5000 }, () => entry(1));
    for (const e of all) q.push(e);
    for (let i = 0; i < 5000; i += 2) q.remove(all[i] as QueueEntry);
    for (let i = 0; i < 1000; i++) q.shift();
    assert.equal(q.count, 1500);
    assert.equal(q.peek(), all[2001]);
  });
});
