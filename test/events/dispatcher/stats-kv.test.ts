// Trigger counts in the kfn-trigger-stats KV bucket, on a real nats-server: each
// dispatcher instance writes its own key only when its counts changed, the reader sums
// the instances, and a process restarted under the same instance name carries on.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type KV, type NatsConnection } from 'nats';
import { emptyCounters, type TriggerCounters, type TriggerKey } from '../../../pkg/events/jetstream/trigger-stats.js';
import {
  TriggerStatsWriter,
  keyToken,
  openTriggerStats,
  parseCounters,
  purgeTriggerStats,
  readTriggerStats,
  statsKey,
  type TriggerStatsSource,
} from '../../../pkg/events/dispatcher/stats-kv.js';
import { quietLogger } from '../../../pkg/shared/log.js';
import { startNatsServer, type NatsServer } from '../../util/nats.js';
import { waitFor } from '../../util/wait.js';

/** A dispatcher stand-in whose counters a test sets by hand. */
class FakeSource implements TriggerStatsSource {
  readonly counts = new Map<string, TriggerCounters>();
  set(key: TriggerKey, c: Partial<TriggerCounters>): void {
    this.counts.set(`${key.namespace}/${key.name}`, { ...emptyCounters(), ...c });
  }
  triggers(): TriggerKey[] {
    return [...this.counts.keys()].map((k) => {
      const [namespace = '', name = ''] = k.split('/');
      return { namespace, name };
    });
  }
  status(key: TriggerKey): { counters: TriggerCounters } | undefined {
    const c = this.counts.get(`${key.namespace}/${key.name}`);
    return c && { counters: { ...c } };
  }
}

describe('trigger counts in the KV bucket', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let kv: KV;
  before(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    kv = await openTriggerStats(nc.jetstream());
  });
  after(async () => {
    await nc.close();
    await nats.stop();
  });

  const writer = (source: TriggerStatsSource, instance: string): TriggerStatsWriter =>
    new TriggerStatsWriter({ kv, source, instance, log: quietLogger(), now: () => new Date('2026-01-02T03:04:05Z') });

  it('keys are <namespace>.<trigger>.<instance>, with the instance made a valid key token', () => {
    assert.equal(statsKey({ namespace: 'shop', name: 'orders' }, 'kfn-dispatcher-7d9f-abcde'), 'shop.orders.kfn-dispatcher-7d9f-abcde');
    assert.equal(statsKey({ namespace: 'shop', name: 'orders' }, 'host.example.com'), 'shop.orders.host_example_com');
    assert.equal(keyToken('a b*c>'), 'a_b_c_');
    assert.equal(keyToken(''), '_');
  });

  it('sums the counts of every instance of one trigger, and only that trigger', async () => {
    const key = { namespace: 'sum', name: 'orders' };
    const a = new FakeSource();
    const b = new FakeSource();
    a.set(key, { delivered: 5, retried: 2 });
    b.set(key, { delivered: 7, deadLettered: 1, dropped: 4, filtered: 3 });
    a.set({ namespace: 'sum', name: 'orders-eu' }, { delivered: 100 });
    await writer(a, 'pod-a').flush();
    await writer(b, 'pod-b').flush();
    assert.deepEqual(await readTriggerStats(kv, key), { delivered: 12, retried: 2, deadLettered: 1, dropped: 4, filtered: 3 });
    assert.deepEqual(await readTriggerStats(kv, { namespace: 'sum', name: 'orders-eu' }), { delivered: 100, retried: 0, deadLettered: 0, dropped: 0, filtered: 0 });
    assert.deepEqual(await readTriggerStats(kv, { namespace: 'sum', name: 'nothing' }), emptyCounters());
    const stored = await kv.get('sum.orders.pod-a');
    assert.deepEqual(stored?.json(), { delivered: 5, retried: 2, deadLettered: 0, dropped: 0, filtered: 0, updatedAt: '2026-01-02T03:04:05.000Z' });
  });

  it('writes only when the counts changed', async () => {
    const key = { namespace: 'quiet', name: 't' };
    const src = new FakeSource();
    const w = writer(src, 'pod-a');
    src.set(key, { delivered: 1 });
    await w.flush();
    const first = (await kv.get('quiet.t.pod-a'))?.revision;
    await w.flush();
    assert.equal((await kv.get('quiet.t.pod-a'))?.revision, first, 'no write when nothing changed');
    src.set(key, { delivered: 2 });
    await w.flush();
    assert.ok(((await kv.get('quiet.t.pod-a'))?.revision ?? 0) > (first ?? 0));
    assert.equal((await readTriggerStats(kv, key)).delivered, 2);
  });

  it('a process restarted under the same instance name adds to the stored counts', async () => {
    const key = { namespace: 'restart', name: 't' };
    const before = new FakeSource();
    before.set(key, { delivered: 40, retried: 3 });
    await writer(before, 'pod-a').flush();
    const again = new FakeSource();
    again.set(key, { delivered: 2 });
    await writer(again, 'pod-a').flush();
    assert.deepEqual(await readTriggerStats(kv, key), { delivered: 42, retried: 3, deadLettered: 0, dropped: 0, filtered: 0 });
  });

  it('the periodic loop writes until its signal aborts', async () => {
    const key = { namespace: 'loop', name: 't' };
    const src = new FakeSource();
    src.set(key, { delivered: 9 });
    const w = new TriggerStatsWriter({ kv, source: src, instance: 'pod-a', log: quietLogger(), intervalMs: 20 });
    const abort = new AbortController();
    const running = w.run(abort.signal);
    await waitFor('counts written by the loop', async () => (await readTriggerStats(kv, key)).delivered === 9);
    abort.abort();
    await running;
    assert.equal((await readTriggerStats(kv, key)).delivered, 9);
  });

  it('purging a trigger removes every instance of it', async () => {
    const key = { namespace: 'purge', name: 't' };
    for (const pod of ['pod-a', 'pod-b']) {
      const src = new FakeSource();
      src.set(key, { delivered: 1 });
      await writer(src, pod).flush();
    }
    assert.equal((await readTriggerStats(kv, key)).delivered, 2);
    await purgeTriggerStats(kv, key);
    assert.deepEqual(await readTriggerStats(kv, key), emptyCounters());
  });

  it('a malformed stored value counts as zeros', () => {
    assert.deepEqual(parseCounters('not json'), emptyCounters());
    assert.deepEqual(parseCounters('{"delivered":-1,"retried":"2","deadLettered":3.7}'), { delivered: 0, retried: 0, deadLettered: 3, dropped: 0, filtered: 0 });
  });
});
