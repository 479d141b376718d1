// orderingKey: one key's events go one at a time, in stream order, across retries; a key
// waiting for its retries does not hold up the other keys.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DiscardPolicy, type Msg } from 'nats';
import { waitFor } from '../../util/wait.js';
import { event, header, publish, startSuite, trigger, type Received, type Suite } from './harness.js';

describe('dispatcher orderingKey on a real nats-server', () => {
  let s: Suite;
  before(async () => {
    s = await startSuite();
  });
  after(async () => {
    await s.stop();
  });

  it("delivers other keys' events while one key waits for its retries, each key in order (maxInFlight 2)", async () => {
    const t = trigger('events.keyed', {
      orderingKey: 'partition',
      delivery: { maxInFlight: 2, retries: 5, backoff: { policy: 'linear', delay: '200ms', maxDelay: '2s' } },
    });
    await s.dispatcher.upsertTrigger(t);
    const a = [0, 1, 2, 3].map((i) => event({ partition: 'a', seq: String(i) }));
    const b = [0, 1, 2, 3].map((i) => event({ partition: 'b', seq: String(i) }));
    const head = a[0]!.attributes.id;
    // Key a's first event fails three times before it succeeds.
    s.fn.behaviour = (r, n) => (header(r.headers, 'ce-id') === head && n < 3 ? { status: 503 } : { status: 200 });
    for (const e of [...a, ...b]) await publish(s.js, 'events.keyed', e);
    const key = { namespace: 'default', name: t.metadata.name };
    await waitFor('all 8 delivered', () => s.dispatcher.status(key)?.counters.delivered === 8);

    const id = (r: Received): string => header(r.headers, 'ce-id') ?? '';
    const headSuccess = s.fn.received.findIndex((r) => id(r) === head && s.fn.forId(head).indexOf(r) === 3);
    assert.ok(headSuccess > 0, "key a's first event succeeded on its 4th attempt");
    for (const e of b) {
      const at = s.fn.received.findIndex((r) => id(r) === e.attributes.id);
      assert.ok(at >= 0 && at < headSuccess, `${e.attributes.id} of key b waited for key a's retries`);
    }
    const successes = (events: typeof a): string[] =>
      s.fn.received.filter((r) => events.some((e) => e.attributes.id === id(r)) && !(id(r) === head && s.fn.forId(head).indexOf(r) < 3)).map(id);
    assert.deepEqual(successes(a), a.map((e) => e.attributes.id), 'key a in stream order, once each after the retries');
    assert.deepEqual(successes(b), b.map((e) => e.attributes.id), 'key b in stream order');
    for (const k of ['a', 'b']) {
      assert.ok(s.fn.received.filter((r) => header(r.headers, 'ce-partition') === k).every((r) => r.inFlightForKey === 1), `key ${k} overlapped itself`);
    }
    s.fn.behaviour = () => ({ status: 200 });
  });

  it("retries a failed reply in place: the key's next event does not overtake it", async () => {
    // A reply stream that is full and refuses new messages: every reply publish fails.
    await s.jsm.streams.add({ name: 'FULL', subjects: ['full.>'], max_msgs: 1, discard: DiscardPolicy.New });
    await s.js.publish('full.filler', new Uint8Array());
    const t = trigger('events.replies', {
      orderingKey: 'partition',
      reply: { subject: 'full.out' },
      delivery: { maxInFlight: 2, retries: 1, backoff: { policy: 'linear', delay: '100ms', maxDelay: '1s' }, deadLetterSubject: 'dl.replies' },
    });
    await s.dispatcher.upsertTrigger(t);
    const letters: Msg[] = [];
    const sub = s.nc.subscribe('dl.replies', { callback: (_err, m) => letters.push(m) });
    const first = event({ partition: 'k' });
    const second = event({ partition: 'k' });
    s.fn.behaviour = () => ({ status: 200, body: '{"ok":true}', headers: { 'content-type': 'application/json' } });
    await publish(s.js, 'events.replies', first);
    await publish(s.js, 'events.replies', second);
    await waitFor('both dead letters', () => letters.length === 2);
    const seen = s.fn.received.filter((r) => [first.attributes.id, second.attributes.id].includes(header(r.headers, 'ce-id') ?? '')).map((r) => header(r.headers, 'ce-id'));
    assert.deepEqual(seen, [first.attributes.id, first.attributes.id, second.attributes.id, second.attributes.id], 'each event both attempts before the next');
    assert.deepEqual(letters.map((m) => [m.headers?.get('ce-id'), m.headers?.get('kfn-dlq-reason')]), [
      [first.attributes.id, 'reply-failed'],
      [second.attributes.id, 'reply-failed'],
    ]);
    sub.unsubscribe();
    s.fn.behaviour = () => ({ status: 200 });
  });
});
