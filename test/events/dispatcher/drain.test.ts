// Shutdown lets deliveries in flight finish (within drainMs), so stopping or restarting a
// dispatcher does not spend an attempt of the events it was delivering; a delivery that
// outlasts the drain is cut short and handed back to JetStream.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Dispatcher } from '../../../pkg/events/dispatcher/dispatcher.js';
import { httpDeliverer } from '../../../pkg/events/dispatcher/deliver-http.js';
import { quietLogger } from '../../../pkg/shared/log.js';
import { waitFor } from '../../util/wait.js';
import { event, header, publish, settledConsumer, startSuite, STREAM, trigger, type Suite } from './harness.js';

describe('dispatcher shutdown with deliveries in flight, on a real nats-server', () => {
  let s: Suite;
  before(async () => {
    s = await startSuite();
  });
  after(async () => {
    await s.stop();
  });

  async function stopWhileDelivering(subject: string, delayMs: number, drainMs: number): Promise<{ consumer: string; delivered: number }> {
    const t = trigger(subject, { delivery: { retries: 0, deadLetterSubject: `dl.${subject}` } });
    const d = new Dispatcher({ nc: s.nc, log: quietLogger(), deliver: httpDeliverer(s.fnUrl), streamName: STREAM, ackWaitMs: 30_000, drainMs });
    const state = await d.upsertTrigger(t);
    const e = event();
    s.fn.behaviour = (r) => (header(r.headers, 'ce-id') === e.attributes.id ? { status: 200, delayMs } : { status: 200 });
    const stop = new AbortController();
    const running = d.run(stop.signal);
    await publish(s.js, subject, e);
    await waitFor('the delivery to start', () => s.fn.forId(e.attributes.id).length === 1);
    stop.abort();
    await running;
    s.fn.behaviour = () => ({ status: 200 });
    return { consumer: state.consumer, delivered: d.status({ namespace: 'default', name: t.metadata.name })?.counters.delivered ?? 0 };
  }


  it('a delivery that ends within the drain is acknowledged: no attempt spent, nothing to redeliver', async () => {
    const got = await stopWhileDelivering('events.drain.ok', 300, 5000);
    assert.equal(got.delivered, 1);
    const info = await settledConsumer(s.jsm, got.consumer);
    assert.equal(info.num_redelivered, 0, 'not handed back');
  });

  it('a delivery that outlasts the drain is cut short and handed back, not acknowledged', async () => {
    const got = await stopWhileDelivering('events.drain.cut', 3000, 100);
    assert.equal(got.delivered, 0);
    assert.equal((await s.jsm.consumers.info(STREAM, got.consumer)).num_ack_pending, 1, 'JetStream holds it for the next dispatcher');
  });
});
