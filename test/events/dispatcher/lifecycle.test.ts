// Triggers changing and going away, events that can never succeed, and the numbers the
// dispatcher reports.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { headers as natsHeaders, type Msg, type MsgHdrs } from 'nats';
import { newRegistry } from '../../../pkg/shared/metrics.js';
import { waitFor } from '../../util/wait.js';
import { event, header, publish, startSuite, trigger, type Suite } from './harness.js';

describe('dispatcher trigger lifecycle on a real nats-server', () => {
  const registry = newRegistry();
  let s: Suite;
  before(async () => {
    s = await startSuite({ registry });
  });
  after(async () => {
    await s.stop();
  });

  it('dead-letters a 4xx answer at once: the same event would fail the same way', async () => {
    const t = trigger('events.bad', { delivery: { retries: 3, deadLetterSubject: 'dl.bad' } });
    await s.dispatcher.upsertTrigger(t);
    const letters: Msg[] = [];
    const sub = s.nc.subscribe('dl.bad', { callback: (_err, m) => letters.push(m) });
    const e = event();
    s.fn.behaviour = (r) => (header(r.headers, 'ce-id') === e.attributes.id ? { status: 400, body: 'no such order' } : { status: 200 });
    await publish(s.js, 'events.bad', e);
    await waitFor('the dead letter', () => letters.length === 1);
    assert.equal(letters[0]!.headers?.get('kfn-dlq-reason'), 'rejected');
    assert.equal(letters[0]!.headers?.get('kfn-dlq-status'), '400');
    assert.equal(s.fn.forId(e.attributes.id).length, 1);
    sub.unsubscribe();
    s.fn.behaviour = () => ({ status: 200 });
  });

  it('dead-letters a message that claims to be a CloudEvent but is malformed, without calling the function', async () => {
    const t = trigger('events.garbled', { delivery: { deadLetterSubject: 'dl.garbled' } });
    await s.dispatcher.upsertTrigger(t);
    const letters: Msg[] = [];
    const sub = s.nc.subscribe('dl.garbled', { callback: (_err, m) => letters.push(m) });
    const before = s.fn.received.length;
    await s.js.publish('events.garbled', new TextEncoder().encode('{}'), { headers: headersOf({ 'ce-specversion': '1.0', 'ce-id': 'g-1' }) });
    await waitFor('the dead letter', () => letters.length === 1);
    assert.equal(letters[0]!.headers?.get('kfn-dlq-reason'), 'malformed');
    assert.match(letters[0]!.headers?.get('kfn-dlq-error') ?? '', /source/);
    assert.equal(s.fn.received.length, before);
    sub.unsubscribe();
  });

  it('applies a changed maxInFlight to the consumer, and stops delivering once the trigger is removed', async () => {
    const t = trigger('events.life', { delivery: { maxInFlight: 5 } });
    const first = await s.dispatcher.upsertTrigger(t);
    const changed = await s.dispatcher.upsertTrigger({ ...t, spec: { ...t.spec, delivery: { ...t.spec.delivery, maxInFlight: 2 } } });
    assert.equal(changed.consumer, first.consumer);
    assert.equal((await s.jsm.consumers.info('KFN_TEST', first.consumer)).config.max_ack_pending, 2);
    const e = event();
    await publish(s.js, 'events.life', e);
    await waitFor('delivery by the updated trigger', () => s.fn.forId(e.attributes.id).length === 1);

    await s.dispatcher.removeTrigger({ namespace: 'default', name: t.metadata.name });
    await assert.rejects(s.jsm.consumers.info('KFN_TEST', first.consumer), /not found/i);
    assert.equal(s.dispatcher.status({ namespace: 'default', name: t.metadata.name }), undefined);
  });

  it('counts outcomes per trigger in status and in Prometheus metrics', async () => {
    const t = trigger('events.count', { filter: { exact: { type: 'keep' } } });
    await s.dispatcher.upsertTrigger(t);
    await publish(s.js, 'events.count', event({ type: 'keep' }));
    await publish(s.js, 'events.count', event({ type: 'drop' }));
    const key = { namespace: 'default', name: t.metadata.name };
    await waitFor('both handled', () => {
      const c = s.dispatcher.status(key)?.counters;
      return c?.delivered === 1 && c.filtered === 1;
    });
    const text = await registry.metrics();
    assert.match(text, new RegExp(`kfn_dispatcher_events_total\\{namespace="default",trigger="${t.metadata.name}",outcome="delivered"\\} 1`));
    assert.match(text, new RegExp(`kfn_dispatcher_events_total\\{namespace="default",trigger="${t.metadata.name}",outcome="filtered"\\} 1`));
  });
});

function headersOf(values: Record<string, string>): MsgHdrs {
  return Object.entries(values).reduce((h, [k, v]) => {
    h.set(k, v);
    return h;
  }, natsHeaders());
}
