// The work queue: dedup, no overlap per key, re-run when added while running, per-key
// exponential retry (client-go's 5 ms → 1000 s) that success forgets, timers cleared on abort.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RETRY_BACKOFF, objectKey, parseObjectKey, retryDelay, WorkQueue } from '../../pkg/controller/queue.js';
import { deferred, type Deferred } from '../../pkg/shared/abort.js';
import { FakeScheduler } from './fake-scheduler.js';

/** A reconcile that records calls and finishes each one when the test says so. */
function controlled() {
  const calls: string[] = [];
  const pending = new Map<string, Deferred<void>[]>();
  let active = 0;
  let maxActive = 0;
  const reconcile = (key: string): Promise<void> => {
    calls.push(key);
    active++;
    maxActive = Math.max(maxActive, active);
    const d = deferred<void>();
    pending.set(key, [...(pending.get(key) ?? []), d]);
    return d.promise.finally(() => active--);
  };
  const finish = async (key: string, err?: Error): Promise<void> => {
    const d = pending.get(key)?.shift();
    assert.ok(d, `no running reconcile of ${key}`);
    if (err) d.reject(err);
    else d.resolve();
    // Let the queue see the outcome.
    await new Promise((r) => setImmediate(r));
  };
  return { calls, reconcile, finish, maxActive: () => maxActive };
}

describe('work queue', () => {
  describe('retryDelay (client-go per-item exponential limiter)', () => {
    const rows: Array<{ failures: number; want: number }> = [
      { failures: 1, want: 5 },
      { failures: 2, want: 10 },
      { failures: 3, want: 20 },
      { failures: 10, want: 2560 },
      { failures: 18, want: 655_360 },
      { failures: 19, want: 1_000_000 },
      { failures: 60, want: 1_000_000 },
    ];
    for (const r of rows) {
      it(`failure ${r.failures} waits ${r.want} ms`, () => {
        assert.equal(retryDelay(DEFAULT_RETRY_BACKOFF, r.failures), r.want);
      });
    }
  });

  it('keys are kind/namespace/name and parse back', () => {
    assert.equal(objectKey('Function', 'default', 'hello'), 'Function/default/hello');
    assert.deepEqual(parseObjectKey('Function/default/hello'), { kind: 'Function', namespace: 'default', name: 'hello' });
    assert.throws(() => parseObjectKey('default/hello'), /invalid object key/);
  });

  it('a key added many times before it runs is reconciled once', async () => {
    const q = new WorkQueue({ scheduler: new FakeScheduler() });
    const r = controlled();
    q.add('F/ns/a');
    q.add('F/ns/a');
    q.add('F/ns/a');
    const abort = new AbortController();
    const done = q.run(r.reconcile, abort.signal);
    assert.deepEqual(r.calls, ['F/ns/a']);
    await r.finish('F/ns/a');
    assert.deepEqual(r.calls, ['F/ns/a']);
    abort.abort();
    await done;
  });

  it('one key never runs twice at once; added while running, it runs once more afterwards', async () => {
    const q = new WorkQueue({ scheduler: new FakeScheduler() });
    const r = controlled();
    const abort = new AbortController();
    const done = q.run(r.reconcile, abort.signal);
    q.add('F/ns/a');
    q.add('F/ns/a');
    q.add('F/ns/a');
    assert.deepEqual(r.calls, ['F/ns/a'], 'not started again while running');
    await r.finish('F/ns/a');
    assert.deepEqual(r.calls, ['F/ns/a', 'F/ns/a'], 'the adds during the run make one more run');
    await r.finish('F/ns/a');
    assert.equal(r.maxActive(), 1);
    assert.equal(q.length, 0);
    abort.abort();
    await done;
  });

  it('different keys run in parallel, at most `workers` at once, in the order added', async () => {
    const q = new WorkQueue({ workers: 2, scheduler: new FakeScheduler() });
    const r = controlled();
    for (const k of ['F/ns/a', 'F/ns/b', 'F/ns/c']) q.add(k);
    const abort = new AbortController();
    const done = q.run(r.reconcile, abort.signal);
    assert.deepEqual(r.calls, ['F/ns/a', 'F/ns/b']);
    await r.finish('F/ns/b');
    assert.deepEqual(r.calls, ['F/ns/a', 'F/ns/b', 'F/ns/c']);
    await r.finish('F/ns/a');
    await r.finish('F/ns/c');
    assert.equal(r.maxActive(), 2);
    abort.abort();
    await done;
  });

  it('a failing key is retried after 5, 10, 20 ms; a success forgets its failures', async () => {
    const clock = new FakeScheduler();
    const errors: Array<{ key: string; retryInMs: number }> = [];
    const q = new WorkQueue({ scheduler: clock, onError: (key, _err, retryInMs) => errors.push({ key, retryInMs }) });
    const r = controlled();
    const abort = new AbortController();
    const done = q.run(r.reconcile, abort.signal);
    q.add('F/ns/a');
    await r.finish('F/ns/a', new Error('boom'));
    assert.equal(q.numRequeues('F/ns/a'), 1);
    clock.advance(4);
    assert.equal(r.calls.length, 1, 'not before 5 ms');
    clock.advance(1);
    assert.equal(r.calls.length, 2);
    await r.finish('F/ns/a', new Error('boom'));
    clock.advance(9);
    assert.equal(r.calls.length, 2, 'not before 10 ms');
    clock.advance(1);
    assert.equal(r.calls.length, 3);
    await r.finish('F/ns/a', new Error('boom'));
    clock.advance(20);
    assert.equal(r.calls.length, 4);
    await r.finish('F/ns/a');
    assert.equal(q.numRequeues('F/ns/a'), 0, 'forgotten on success');
    assert.deepEqual(errors.map((e) => e.retryInMs), [5, 10, 20]);

    // The next failure starts from 5 ms again.
    q.add('F/ns/a');
    await r.finish('F/ns/a', new Error('boom'));
    clock.advance(5);
    assert.equal(r.calls.length, 6);
    await r.finish('F/ns/a');
    abort.abort();
    await done;
  });

  it('failures back off per key: one failing key does not delay another', async () => {
    const clock = new FakeScheduler();
    const q = new WorkQueue({ scheduler: clock });
    const r = controlled();
    const abort = new AbortController();
    const done = q.run(r.reconcile, abort.signal);
    q.add('F/ns/bad');
    await r.finish('F/ns/bad', new Error('boom'));
    q.add('F/ns/good');
    assert.deepEqual(r.calls, ['F/ns/bad', 'F/ns/good']);
    await r.finish('F/ns/good');
    assert.equal(q.numRequeues('F/ns/good'), 0);
    assert.equal(q.numRequeues('F/ns/bad'), 1);
    abort.abort();
    await done;
  });

  it('an event for a key waiting on a retry runs it at once, once', async () => {
    const clock = new FakeScheduler();
    const q = new WorkQueue({ scheduler: clock });
    const r = controlled();
    const abort = new AbortController();
    const done = q.run(r.reconcile, abort.signal);
    q.add('F/ns/a');
    await r.finish('F/ns/a', new Error('boom'));
    assert.equal(clock.pending, 1);
    q.add('F/ns/a');
    assert.equal(r.calls.length, 2, 'ran without waiting for the retry');
    assert.equal(clock.pending, 0, 'the retry timer is cancelled');
    await r.finish('F/ns/a');
    abort.abort();
    await done;
  });

  it('a key that failed while re-added runs again at once rather than after the backoff', async () => {
    const clock = new FakeScheduler();
    const q = new WorkQueue({ scheduler: clock });
    const r = controlled();
    const abort = new AbortController();
    const done = q.run(r.reconcile, abort.signal);
    q.add('F/ns/a');
    q.add('F/ns/a');
    await r.finish('F/ns/a', new Error('boom'));
    assert.equal(r.calls.length, 2);
    assert.equal(clock.pending, 0);
    await r.finish('F/ns/a');
    abort.abort();
    await done;
  });

  it('abort clears every retry timer, stops taking keys, passes the signal, and run() waits for running reconciles', async () => {
    const clock = new FakeScheduler();
    const q = new WorkQueue({ scheduler: clock });
    const signals: AbortSignal[] = [];
    const r = controlled();
    const abort = new AbortController();
    const done = q.run((key, signal) => {
      signals.push(signal);
      return r.reconcile(key);
    }, abort.signal);
    q.add('F/ns/fails');
    await r.finish('F/ns/fails', new Error('boom'));
    q.add('F/ns/slow');
    assert.equal(clock.pending, 1);

    abort.abort();
    assert.equal(clock.pending, 0, 'retry timer cleared');
    assert.ok(signals.every((s) => s.aborted));
    let finished = false;
    void done.then(() => (finished = true));
    await new Promise((res) => setImmediate(res));
    assert.equal(finished, false, 'waits for the running reconcile');
    q.add('F/ns/late');
    await r.finish('F/ns/slow');
    await done;
    assert.deepEqual(r.calls, ['F/ns/fails', 'F/ns/slow']);
  });
});
