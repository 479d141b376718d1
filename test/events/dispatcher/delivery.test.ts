// An event published to NATS reaches the function as a CloudEvent, once, with its
// attributes intact; filters, wildcards, replies and de-duplication as a user sees them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { headers as natsHeaders } from 'nats';
import { fromNatsMessage } from '../../../pkg/events/cloudevents/nats.js';
import { waitFor } from '../../util/wait.js';
import { event, header, publish, settledConsumer, startSuite, trigger, type Suite } from './harness.js';

describe('dispatcher delivery on a real nats-server', () => {
  let s: Suite;
  before(async () => {
    // A short ack wait, so the slow-delivery test proves in-progress acks work; not so
    // short that a loaded machine's scheduling eats the margin between them.
    s = await startSuite({ ackWaitMs: 3000 });
  });
  after(async () => {
    await s.stop();
  });

  it('delivers an event to the function with its CloudEvent attributes and data intact', async () => {
    await s.dispatcher.upsertTrigger(trigger('events.attrs', { path: '/hook' }));
    const e = event({ subject: 'order-1', myext: 'blue', time: '2026-01-02T03:04:05.000Z' }, { n: 1 });
    await publish(s.js, 'events.attrs', e);
    const [got] = await waitFor('the event to arrive', () => s.fn.forId(e.attributes.id).length > 0 && s.fn.forId(e.attributes.id));
    assert.ok(got);
    assert.equal(got.path, '/default/echo/hook');
    assert.equal(header(got.headers, 'ce-specversion'), '1.0');
    assert.equal(header(got.headers, 'ce-type'), 'test.created');
    assert.equal(header(got.headers, 'ce-source'), '/test');
    assert.equal(header(got.headers, 'ce-subject'), 'order-1');
    assert.equal(header(got.headers, 'ce-myext'), 'blue');
    assert.equal(header(got.headers, 'ce-time'), '2026-01-02T03:04:05.000Z');
    assert.match(header(got.headers, 'content-type') ?? '', /^application\/json/);
    assert.deepEqual(JSON.parse(got.body.toString()), { n: 1 });
  });

  it('wraps a plain NATS message in a CloudEvent whose id is its Nats-Msg-Id', async () => {
    await s.dispatcher.upsertTrigger(trigger('events.plain'));
    const h = natsHeaders();
    h.set('Nats-Msg-Id', 'plain-1');
    await s.js.publish('events.plain', new TextEncoder().encode('just bytes'), { headers: h, msgID: 'plain-1' });
    const [got] = await waitFor('the plain message to arrive', () => s.fn.forId('plain-1').length > 0 && s.fn.forId('plain-1'));
    assert.equal(header(got!.headers, 'ce-subject'), 'events.plain');
    assert.equal(header(got!.headers, 'ce-source'), 'nats:events.plain');
    assert.equal(got!.body.toString(), 'just bytes');
  });

  it('delivers events matching the filter and skips (acks) the rest', async () => {
    const t = trigger('events.filter', { filter: { exact: { type: 'order.created' }, prefix: { source: '/shop' } } });
    await s.dispatcher.upsertTrigger(t);
    const match = event({ type: 'order.created', source: '/shop/eu' });
    const wrongType = event({ type: 'order.deleted', source: '/shop/eu' });
    const wrongSource = event({ type: 'order.created', source: '/warehouse' });
    for (const e of [wrongType, wrongSource, match]) await publish(s.js, 'events.filter', e);
    await waitFor('the matching event', () => s.fn.forId(match.attributes.id).length === 1);
    await waitFor('the two others to be skipped', () => s.dispatcher.status(key(t))?.counters.filtered === 2);
    assert.equal(s.fn.forId(wrongType.attributes.id).length, 0);
    assert.equal(s.fn.forId(wrongSource.attributes.id).length, 0);
  });

  it('honours wildcard subjects: `*` one token, `>` the rest', async () => {
    await s.dispatcher.upsertTrigger(trigger('events.wild.*.created'));
    await s.dispatcher.upsertTrigger(trigger('events.deep.>'));
    const one = event();
    const tooDeep = event();
    const deep = event();
    await publish(s.js, 'events.wild.eu.created', one);
    await publish(s.js, 'events.wild.eu.x.created', tooDeep);
    await publish(s.js, 'events.deep.a.b.c', deep);
    await waitFor('both matching events', () => s.fn.forId(one.attributes.id).length === 1 && s.fn.forId(deep.attributes.id).length === 1);
    assert.equal(s.fn.forId(tooDeep.attributes.id).length, 0);
  });

  it('delivers an event slower than the ack wait exactly once, kept alive by in-progress acks', async () => {
    const t = trigger('events.slow');
    await s.dispatcher.upsertTrigger(t);
    const e = event();
    s.fn.behaviour = (r) => (header(r.headers, 'ce-id') === e.attributes.id ? { status: 200, delayMs: 5000 } : { status: 200 });
    await publish(s.js, 'events.slow', e);
    await waitFor('the slow delivery to be acked', () => s.dispatcher.status(key(t))?.counters.delivered === 1, { timeoutMs: 15_000 });
    // Counted when the ack is sent; JetStream takes it a moment later.
    const consumer = s.dispatcher.status(key(t))!.consumer;
    const info = await settledConsumer(s.jsm, consumer);
    assert.equal(info.num_redelivered, 0);
    assert.equal(info.delivered.consumer_seq, 1, 'sent once');
    assert.equal(s.fn.forId(e.attributes.id).length, 1);
    s.fn.behaviour = () => ({ status: 200 });
  });

  it('delivers once when the same Nats-Msg-Id is published twice', async () => {
    const t = trigger('events.dedup');
    await s.dispatcher.upsertTrigger(t);
    const e = event();
    const next = event();
    await publish(s.js, 'events.dedup', e);
    await publish(s.js, 'events.dedup', e);
    await publish(s.js, 'events.dedup', next);
    // Stream order: once `next` is acked, anything before it was handed out too.
    await waitFor('the later event', () => s.dispatcher.status(key(t))?.counters.delivered === 2);
    assert.equal(s.fn.forId(e.attributes.id).length, 1);
  });

  it('publishes a 2xx response as a CloudEvent on reply.subject', async () => {
    await s.dispatcher.upsertTrigger(trigger('events.reply', { reply: { subject: 'replies.orders' } }));
    const sub = s.nc.subscribe('replies.orders', { max: 1 });
    const e = event({}, { q: 'ping' });
    s.fn.behaviour = (r) =>
      header(r.headers, 'ce-id') === e.attributes.id ? { status: 200, body: '{"a":"pong"}', headers: { 'content-type': 'application/json', 'ce-type': 'test.answered' } } : { status: 200 };
    await publish(s.js, 'events.reply', e);
    let reply;
    for await (const m of sub) reply = fromNatsMessage({ subject: m.subject, headers: m.headers, data: m.data, stream: '', seq: 0 });
    assert.ok(reply);
    assert.equal(reply.attributes.type, 'test.answered');
    assert.equal(reply.attributes.source, '/apis/kfn.dev/v1alpha1/namespaces/default/functions/echo');
    assert.equal(reply.attributes.kfnparentid, e.attributes.id);
    assert.notEqual(reply.attributes.id, e.attributes.id);
    assert.equal(reply.data?.toString(), '{"a":"pong"}');
    s.fn.behaviour = () => ({ status: 200 });
  });
});

function key(t: { metadata: { name: string; namespace?: string } }): { namespace: string; name: string } {
  return { namespace: t.metadata.namespace ?? 'default', name: t.metadata.name };
}
