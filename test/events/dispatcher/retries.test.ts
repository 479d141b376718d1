// Failures, limits and order: retries spaced by the configured backoff, one dead letter
// after the last attempt, maxInFlight respected, per-key order with orderingKey.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Msg } from 'nats';
import { waitFor } from '../../util/wait.js';
import { event, header, publish, settledConsumer, startSuite, trigger, type Received, type Suite } from './harness.js';

describe('dispatcher retries, dead letters and limits on a real nats-server', () => {
  let s: Suite;
  before(async () => {
    s = await startSuite();
  });
  after(async () => {
    await s.stop();
  });

  it('delivers on the 3rd attempt after 2 failures, spaced by the linear backoff', async () => {
    await s.dispatcher.upsertTrigger(
      trigger('events.flaky', { delivery: { retries: 3, backoff: { policy: 'linear', delay: '300ms', maxDelay: '10s' } } }),
    );
    const e = event();
    s.fn.behaviour = (_r, n) => ({ status: n < 2 ? 500 : 200 });
    await publish(s.js, 'events.flaky', e);
    const got = await waitFor('the third attempt', () => s.fn.forId(e.attributes.id).length === 3 && s.fn.forId(e.attributes.id));
    const [a, b, c] = got.map((r) => r.at);
    // linear 300 ms: 300 ms before the 2nd attempt, 600 ms before the 3rd.
    assertBetween(b! - a!, 280, 1000, 'gap before attempt 2');
    assertBetween(c! - b!, 580, 1300, 'gap before attempt 3');
    s.fn.behaviour = () => ({ status: 200 });
  });

  it('dead-letters an always-failing event once, with the reason, after retries + 1 attempts', async () => {
    const t = trigger('events.doomed', {
      delivery: { retries: 2, backoff: { policy: 'linear', delay: '50ms', maxDelay: '1s' }, deadLetterSubject: 'dl.doomed' },
    });
    await s.dispatcher.upsertTrigger(t);
    const letters: Msg[] = [];
    const sub = s.nc.subscribe('dl.doomed', { callback: (_err, m) => letters.push(m) });
    const e = event({}, { doomed: true });
    s.fn.behaviour = (r) => (header(r.headers, 'ce-id') === e.attributes.id ? { status: 503, body: 'database down' } : { status: 200 });
    await publish(s.js, 'events.doomed', e);
    await waitFor('the dead letter', () => letters.length === 1);
    await waitFor('the counter', () => s.dispatcher.status({ namespace: 'default', name: t.metadata.name })?.counters.deadLettered === 1);
    assert.equal(s.fn.forId(e.attributes.id).length, 3);
    const letter = letters[0]!;
    assert.equal(letter.headers?.get('kfn-dlq-reason'), 'retries-exhausted');
    assert.equal(letter.headers?.get('kfn-dlq-status'), '503');
    assert.match(letter.headers?.get('kfn-dlq-error') ?? '', /database down/);
    assert.equal(letter.headers?.get('kfn-dlq-attempts'), '3');
    assert.equal(letter.headers?.get('kfn-dlq-trigger'), `default/${t.metadata.name}`);
    assert.equal(letter.headers?.get('kfn-dlq-subject'), 'events.doomed');
    assert.equal(letter.headers?.get('ce-id'), e.attributes.id);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(letter.data)), { doomed: true });
    // Terminated, not retried further: nothing pending, still one dead letter.
    await settledConsumer(s.jsm, s.dispatcher.status({ namespace: 'default', name: t.metadata.name })!.consumer);
    assert.equal(letters.length, 1);
    sub.unsubscribe();
    s.fn.behaviour = () => ({ status: 200 });
  });

  it('never has more than maxInFlight deliveries at the function at once', async () => {
    await s.dispatcher.upsertTrigger(trigger('events.busy', { delivery: { maxInFlight: 3 } }));
    s.fn.peakInFlight = 0;
    s.fn.behaviour = () => ({ status: 200, delayMs: 150 });
    const events = Array.from({ length: 12 }, () => event());
    for (const e of events) await publish(s.js, 'events.busy', e);
    await waitFor('all 12 deliveries', () => events.every((e) => s.fn.forId(e.attributes.id).length >= 1));
    assert.ok(s.fn.peakInFlight <= 3, `peak ${s.fn.peakInFlight} > 3`);
    assert.ok(s.fn.peakInFlight >= 2, `peak ${s.fn.peakInFlight}: deliveries never overlapped`);
    s.fn.behaviour = () => ({ status: 200 });
  });

  it('keeps per-key order with orderingKey (across a retry) while different keys overlap', async () => {
    const t = trigger('events.ordered', { orderingKey: 'partition', delivery: { maxInFlight: 10 } });
    await s.dispatcher.upsertTrigger(t);
    const failOnce = new Set<string>();
    s.fn.peakInFlight = 0;
    s.fn.behaviour = (r, n) => {
      const id = header(r.headers, 'ce-id') ?? '';
      if (failOnce.has(id) && n === 0) return { status: 500, delayMs: 20 };
      return { status: 200, delayMs: 80 };
    };
    const byKey: Record<string, string[]> = { a: [], b: [] };
    const events = [];
    for (let i = 0; i < 5; i++) {
      for (const k of ['a', 'b'] as const) {
        const e = event({ partition: k, seq: String(i) });
        byKey[k]!.push(e.attributes.id);
        events.push(e);
      }
    }
    failOnce.add(byKey.a![1]!);
    for (const e of events) await publish(s.js, 'events.ordered', e);
    await waitFor('all events', () => s.dispatcher.status({ namespace: 'default', name: t.metadata.name })?.counters.delivered === events.length);
    const ok = (r: Received): boolean => !(failOnce.has(header(r.headers, 'ce-id') ?? '') && s.fn.forId(header(r.headers, 'ce-id') ?? '')[0] === r);
    for (const k of ['a', 'b']) {
      const seen = s.fn.received.filter((r) => header(r.headers, 'ce-partition') === k && ok(r)).map((r) => header(r.headers, 'ce-id'));
      assert.deepEqual(seen, byKey[k], `order of key ${k}`);
      assert.ok(s.fn.received.filter((r) => header(r.headers, 'ce-partition') === k).every((r) => r.inFlightForKey === 1), `key ${k} overlapped itself`);
    }
    assert.ok(s.fn.peakInFlight >= 2, 'keys a and b never ran at the same time');
    s.fn.behaviour = () => ({ status: 200 });
  });
});

function assertBetween(v: number, lo: number, hi: number, what: string): void {
  assert.ok(v >= lo && v <= hi, `${what}: ${v} ms, want ${lo}..${hi} ms`);
}
