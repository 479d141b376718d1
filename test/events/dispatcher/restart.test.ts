// nats-server restarted mid-stream: the client reconnects, the consume loop resumes, and
// every event published before and after is delivered at least once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../util/wait.js';
import { event, publish, startSuite, trigger, type Suite } from './harness.js';

describe('dispatcher across a nats-server restart', () => {
  let s: Suite;
  before(async () => {
    // Acks sent as the server goes down are lost; those events come back after the ack
    // wait, so keep it short here.
    s = await startSuite({ ackWaitMs: 3000 });
  });
  after(async () => {
    await s.stop();
  });

  it('delivers every event at least once when the server restarts mid-stream', async () => {
    await s.dispatcher.upsertTrigger(trigger('events.restart', { delivery: { maxInFlight: 2 } }));
    s.fn.behaviour = () => ({ status: 200, delayMs: 50 });
    const before = Array.from({ length: 10 }, () => event());
    for (const e of before) await publish(s.js, 'events.restart', e);
    await waitFor('a few deliveries before the restart', () => s.fn.received.length >= 3);

    await s.nats.restart();

    const afterRestart = Array.from({ length: 10 }, () => event());
    for (const e of afterRestart) {
      // The client reconnects by itself; until it has, a publish fails and is retried.
      await waitFor(`publish ${e.attributes.id}`, async () => {
        await publish(s.js, 'events.restart', e);
        return true;
      });
    }
    const all = [...before, ...afterRestart];
    await waitFor('every event delivered', () => all.every((e) => s.fn.forId(e.attributes.id).length >= 1), { timeoutMs: 60_000 });
    assert.equal(new Set(all.map((e) => e.attributes.id)).size, 20);
  });
});
