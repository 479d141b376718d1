// Every event ends acked, dead-lettered with a reason, or counted as dropped: never
// redelivered until JetStream gives up on it and then gone without a trace.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Msg } from 'nats';
import { Dispatcher } from '../../../pkg/events/dispatcher/dispatcher.js';
import { httpDeliverer } from '../../../pkg/events/dispatcher/deliver-http.js';
import { newRegistry } from '../../../pkg/shared/metrics.js';
import { quietLogger } from '../../../pkg/shared/log.js';
import { waitFor } from '../../util/wait.js';
import { event, header, publish, settledConsumer, startSuite, STREAM, trigger, type Suite } from './harness.js';

describe('dispatcher: nothing disappears, on a real nats-server', () => {
  const registry = newRegistry();
  /** Ids whose delivery throws inside the dispatcher, as a bug or a hostile event would make it. */
  const poisoned = new Set<string>();
  const thrown: string[] = [];
  let s: Suite;
  before(async () => {
    s = await startSuite({
      registry,
      wrapDeliver: (inner) => async (req) => {
        if (poisoned.has(req.event.attributes.id)) {
          thrown.push(req.event.attributes.id);
          throw new RangeError('Maximum call stack size exceeded');
        }
        return inner(req);
      },
    });
  });
  after(async () => {
    await s.stop();
  });

  function letters(subject: string): Msg[] {
    const got: Msg[] = [];
    s.nc.subscribe(subject, { callback: (_err, m) => got.push(m) });
    return got;
  }

  for (const ordered of [false, true]) {
    it(`dead-letters an event whose handling throws, reason internal with the error, after retries + 1 attempts${ordered ? ' (orderingKey)' : ''}`, async () => {
      const dl = `dl.internal${ordered ? 'o' : 'u'}`;
      const t = trigger(`events.throws${ordered ? 'o' : 'u'}`, {
        ...(ordered ? { orderingKey: 'partition' } : {}),
        delivery: { retries: 1, backoff: { policy: 'linear', delay: '50ms', maxDelay: '1s' }, deadLetterSubject: dl },
      });
      await s.dispatcher.upsertTrigger(t);
      const got = letters(dl);
      const e = event({ partition: 'p' });
      poisoned.add(e.attributes.id);
      await publish(s.js, t.spec.subject, e);
      const letter = await waitFor('the dead letter', () => got[0]);
      assert.equal(letter.headers?.get('kfn-dlq-reason'), 'internal');
      assert.match(letter.headers?.get('kfn-dlq-error') ?? '', /Maximum call stack size exceeded/);
      assert.equal(letter.headers?.get('kfn-dlq-attempts'), '2');
      assert.equal(letter.headers?.get('ce-id'), e.attributes.id);
      assert.equal(thrown.filter((id) => id === e.attributes.id).length, 2);
      const c = s.dispatcher.status({ namespace: 'default', name: t.metadata.name })?.counters;
      assert.equal(c?.deadLettered, 1);
      assert.equal(c?.dropped, 0);
      const info = await settledConsumer(s.jsm, s.dispatcher.status({ namespace: 'default', name: t.metadata.name })!.consumer);
      assert.equal(info.num_redelivered, 0, 'the event is settled');
    });
  }

  it('counts an event that fails for good as dropped, not dead-lettered, when the trigger has no deadLetterSubject', async () => {
    const t = trigger('events.nodl', { delivery: { retries: 0 } });
    await s.dispatcher.upsertTrigger(t);
    const failing = event();
    const poison = event();
    poisoned.add(poison.attributes.id);
    s.fn.behaviour = (r) => (header(r.headers, 'ce-id') === failing.attributes.id ? { status: 500 } : { status: 200 });
    await publish(s.js, 'events.nodl', failing);
    await publish(s.js, 'events.nodl', poison);
    const key = { namespace: 'default', name: t.metadata.name };
    await waitFor('both dropped', () => s.dispatcher.status(key)?.counters.dropped === 2);
    assert.equal(s.dispatcher.status(key)?.counters.deadLettered, 0);
    assert.match(await registry.metrics(), new RegExp(`kfn_dispatcher_events_total\\{namespace="default",trigger="${t.metadata.name}",outcome="dropped"\\} 2`));
    s.fn.behaviour = () => ({ status: 200 });
  });

  it('an event handed out for its last attempt to a dispatcher that died is dead-lettered when it comes back, not lost', async () => {
    const t = trigger('events.crash', { delivery: { retries: 0, deadLetterSubject: 'dl.crash' } });
    const got = letters('dl.crash');
    // Its consumer made, its loop not started yet.
    const d = new Dispatcher({ nc: s.nc, log: quietLogger(), deliver: httpDeliverer(s.fnUrl), streamName: STREAM, ackWaitMs: 1000 });
    const state = await d.upsertTrigger(t);
    const e = event();
    await publish(s.js, 'events.crash', e);
    // A dispatcher takes the event for its only attempt and dies (killed, out of memory)
    // before it answers: JetStream hands it out again after the ack wait.
    const taken = await (await s.js.consumers.get(STREAM, state.consumer)).next({ expires: 5000 });
    assert.equal(taken?.info.deliveryCount, 1);
    const stop = new AbortController();
    const running = d.run(stop.signal);
    try {
      const letter = await waitFor('the dead letter', () => got[0]);
      assert.equal(letter.headers?.get('kfn-dlq-reason'), 'retries-exhausted');
      assert.match(letter.headers?.get('kfn-dlq-error') ?? '', /without an answer/);
      assert.equal(letter.headers?.get('kfn-dlq-attempts'), '1');
      assert.equal(letter.headers?.get('ce-id'), e.attributes.id);
      assert.equal(d.status({ namespace: 'default', name: t.metadata.name })?.counters.deadLettered, 1);
    } finally {
      stop.abort();
      await running;
    }
  });

  it('an event handed out again and again without being settled (it kills every dispatcher that reads it) is dead-lettered unread', async () => {
    const t = trigger('events.poison', { delivery: { retries: 1, deadLetterSubject: 'dl.poison' } });
    const got = letters('dl.poison');
    const d = new Dispatcher({ nc: s.nc, log: quietLogger(), deliver: httpDeliverer(s.fnUrl), streamName: STREAM });
    const state = await d.upsertTrigger(t);
    const e = event();
    await publish(s.js, 'events.poison', e);
    // Five dispatchers took it and died before settling it; a nak stands for each death.
    const consumer = await s.js.consumers.get(STREAM, state.consumer);
    for (let i = 1; i <= 5; i++) {
      const m = await consumer.next({ expires: 5000 });
      assert.equal(m?.info.deliveryCount, i);
      m?.nak();
    }
    const stop = new AbortController();
    const running = d.run(stop.signal);
    try {
      const letter = await waitFor('the dead letter', () => got[0]);
      assert.equal(letter.headers?.get('kfn-dlq-reason'), 'retries-exhausted');
      assert.match(letter.headers?.get('kfn-dlq-error') ?? '', /unread/);
      assert.equal(letter.headers?.get('ce-id'), e.attributes.id);
      assert.equal(s.fn.forId(e.attributes.id).length, 0, 'never delivered');
    } finally {
      stop.abort();
      await running;
    }
  });
});
