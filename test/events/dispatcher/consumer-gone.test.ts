// A Trigger's consumer deleted while the Trigger runs (by hand, with NATS credentials):
// the dispatcher makes it again from the first event it had not settled, so nothing is
// skipped and the Trigger's history is not handed out again.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../util/wait.js';
import { event, header, publish, startSuite, STREAM, trigger, type Suite } from './harness.js';

describe('a consumer deleted under a running trigger, on a real nats-server', () => {
  let s: Suite;
  before(async () => {
    s = await startSuite();
  });
  after(async () => {
    await s.stop();
  });

  it('is made again: later events are delivered, settled ones are not again, one waiting for its retry is not lost', async () => {
    const t = trigger('events.gone', { delivery: { retries: 3, backoff: { policy: 'linear', delay: '5s', maxDelay: '5s' } } });
    const state = await s.dispatcher.upsertTrigger(t);
    const [first, second, retried, later] = [event(), event(), event(), event()];
    // `retried` fails once; its retry would come 5 s later, from the consumer that is deleted.
    s.fn.behaviour = (r, n) => ({ status: header(r.headers, 'ce-id') === retried.attributes.id && n === 0 ? 500 : 200 });
    for (const e of [first, second, retried]) await publish(s.js, 'events.gone', e);
    await waitFor('the first two delivered and the third refused once', () =>
      s.fn.forId(first.attributes.id).length === 1 && s.fn.forId(second.attributes.id).length === 1 && s.fn.forId(retried.attributes.id).length === 1,
    );
    const before = await s.jsm.consumers.info(STREAM, state.consumer);
    await s.jsm.consumers.delete(STREAM, state.consumer);
    await publish(s.js, 'events.gone', later);

    await waitFor('the event published after the deletion', () => s.fn.forId(later.attributes.id).length === 1, { timeoutMs: 20_000 });
    await waitFor('the refused event delivered again', () => s.fn.forId(retried.attributes.id).length === 2, { timeoutMs: 20_000 });
    const now = await s.jsm.consumers.info(STREAM, state.consumer);
    assert.notEqual(now.created, before.created, 'a new consumer');
    assert.deepEqual([s.fn.forId(first.attributes.id).length, s.fn.forId(second.attributes.id).length], [1, 1], 'settled events were not handed out again');
    s.fn.behaviour = () => ({ status: 200 });
  });
});
