// A redriven event (kfn-redrive-trigger set) goes to the one trigger it names; every
// other trigger on the subject acks it unseen and counts it as filtered.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Msg } from 'nats';
import { toNatsMessage } from '../../../pkg/events/cloudevents/nats.js';
import { waitFor } from '../../util/wait.js';
import { event, header, settledConsumer, startSuite, trigger, type Suite } from './harness.js';

describe('dispatcher and redriven events on a real nats-server', () => {
  let s: Suite;
  before(async () => {
    s = await startSuite();
  });
  after(async () => {
    await s.stop();
  });

  it('delivers an event marked for one trigger to that trigger only', async () => {
    const a = trigger('events.redrive', { path: '/a' });
    const b = trigger('events.redrive', { path: '/b' });
    await s.dispatcher.upsertTrigger(a);
    await s.dispatcher.upsertTrigger(b);
    const e = event();
    const msg = toNatsMessage(e);
    msg.headers.set('kfn-redrive-trigger', `default/${a.metadata.name}`);
    await s.js.publish('events.redrive', msg.data, { headers: msg.headers, msgID: `redrive-${e.attributes.id}` });
    await waitFor('a to deliver it', () => s.dispatcher.status({ namespace: 'default', name: a.metadata.name })?.counters.delivered === 1);
    await waitFor('b to skip it', () => s.dispatcher.status({ namespace: 'default', name: b.metadata.name })?.counters.filtered === 1);
    assert.deepEqual(
      s.fn.forId(e.attributes.id).map((r) => r.path),
      ['/default/echo/a'],
    );
    // b acked it: nothing pending or handed back.
    const info = await settledConsumer(s.jsm, s.dispatcher.status({ namespace: 'default', name: b.metadata.name })!.consumer);
    assert.equal(info.num_redelivered, 0);
  });

  it('dead-letters with the original subject, and without the redrive mark', async () => {
    const t = trigger('events.redrive.fail', { delivery: { retries: 0, deadLetterSubject: 'dl.redrive' } });
    await s.dispatcher.upsertTrigger(t);
    const letters: Msg[] = [];
    const sub = s.nc.subscribe('dl.redrive', { callback: (_err, m) => letters.push(m) });
    const e = event();
    s.fn.behaviour = (r) => (header(r.headers, 'ce-id') === e.attributes.id ? { status: 500 } : { status: 200 });
    const msg = toNatsMessage(e);
    msg.headers.set('kfn-redrive-trigger', `default/${t.metadata.name}`);
    await s.js.publish('events.redrive.fail', msg.data, { headers: msg.headers, msgID: `redrive-${e.attributes.id}` });
    await waitFor('the dead letter', () => letters.length === 1);
    const letter = letters[0]!;
    assert.equal(letter.headers?.get('kfn-dlq-subject'), 'events.redrive.fail');
    assert.equal(letter.headers?.get('kfn-dlq-trigger'), `default/${t.metadata.name}`);
    assert.equal(letter.headers?.has('kfn-redrive-trigger'), false);
    sub.unsubscribe();
    s.fn.behaviour = () => ({ status: 200 });
  });
});
