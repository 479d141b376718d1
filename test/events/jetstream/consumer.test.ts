// The consumer a Trigger gets (a pure builder, tested as a table) and stream/consumer
// management against a real nats-server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AckPolicy, DeliverPolicy, connect, nanos, type JetStreamManager, type NatsConnection } from 'nats';
import type { KfnTrigger } from '../../../pkg/apis/trigger/types.js';
import { consumerConfigFor, consumerNameFor, ensureConsumer, removeConsumer } from '../../../pkg/events/jetstream/consumer.js';
import { subjectCovers } from '../../../pkg/apis/trigger/subject.js';
import { ensureStream, mergeSubjects } from '../../../pkg/events/jetstream/stream.js';
import { startNatsServer, type NatsServer } from '../../util/nats.js';

function trig(name: string, namespace: string | undefined, subject: string): KfnTrigger {
  return { apiVersion: 'kfn.dev/v1alpha1', kind: 'Trigger', metadata: { name, ...(namespace ? { namespace } : {}) }, spec: { subject, function: 'fn' } };
}

describe('consumerConfigFor', () => {
  const rows = [
    {
      name: 'defaults: maxInFlight 100 pending, 30 s ack wait, no max_deliver (the dispatcher counts attempts)',
      trigger: trig('orders', 'shop', 'orders.>'),
      delivery: { retries: 3, maxInFlight: 100 },
      opts: {},
      want: { durable_name: 'kfn_shop_orders', filter_subject: 'orders.>', max_deliver: -1, max_ack_pending: 100, ack_wait: nanos(30_000) },
    },
    {
      name: 'no retries still no max_deliver: JetStream would drop an event whose only attempt was cut short; maxInFlight 1',
      trigger: trig('one', 'default', 'a.b'),
      delivery: { retries: 0, maxInFlight: 1 },
      opts: {},
      want: { durable_name: 'kfn_default_one', filter_subject: 'a.b', max_deliver: -1, max_ack_pending: 1, ack_wait: nanos(30_000) },
    },
    {
      name: 'dots in the name become underscores; no namespace means default; ack wait overridden',
      trigger: trig('v1.orders', undefined, 'x.*'),
      delivery: { retries: 5, maxInFlight: 7 },
      opts: { ackWaitMs: 1000 },
      want: { durable_name: 'kfn_default_v1_orders', filter_subject: 'x.*', max_deliver: -1, max_ack_pending: 7, ack_wait: nanos(1000) },
    },
    {
      name: 'orderingKey, maxInFlight 2: room for 100 events parked behind busy keys besides the 2 deliveries',
      trigger: { ...trig('keyed', 'shop', 'k.>'), spec: { subject: 'k.>', function: 'fn', orderingKey: 'customer' } },
      delivery: { retries: 3, maxInFlight: 2 },
      opts: {},
      want: { durable_name: 'kfn_shop_keyed', filter_subject: 'k.>', max_deliver: -1, max_ack_pending: 102, ack_wait: nanos(30_000) },
    },
    {
      name: 'orderingKey, maxInFlight 500: as many parked as deliveries, 1000 in all',
      trigger: { ...trig('keyed', 'shop', 'k.>'), spec: { subject: 'k.>', function: 'fn', orderingKey: 'customer' } },
      delivery: { retries: 3, maxInFlight: 500 },
      opts: {},
      want: { durable_name: 'kfn_shop_keyed', filter_subject: 'k.>', max_deliver: -1, max_ack_pending: 1000, ack_wait: nanos(30_000) },
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const got = consumerConfigFor(row.trigger, row.delivery, row.opts);
      assert.deepEqual(
        { durable_name: got.durable_name, filter_subject: got.filter_subject, max_deliver: got.max_deliver, max_ack_pending: got.max_ack_pending, ack_wait: got.ack_wait },
        row.want,
      );
      assert.equal(got.name, got.durable_name);
      assert.equal(got.ack_policy, AckPolicy.Explicit);
      assert.equal(got.deliver_policy, DeliverPolicy.All);
    });
  }

  it('gives different triggers different consumer names', () => {
    const names = [trig('a', 'x', 's'), trig('a', 'y', 's'), trig('a.b', 'x', 's'), trig('b', 'x', 's')].map(consumerNameFor);
    assert.equal(new Set(names).size, names.length);
    for (const n of names) assert.doesNotMatch(n, /[.*> ]/);
  });
});

describe('mergeSubjects', () => {
  it('keeps existing subjects first and adds only the missing ones', () => {
    assert.deepEqual(mergeSubjects(['a.>', 'b'], ['b', 'c.*']), ['a.>', 'b', 'c.*']);
    assert.deepEqual(mergeSubjects([], ['a']), ['a']);
  });

  const rows: Array<{ name: string; existing: string[]; wanted: string[]; want: string[] }> = [
    { name: 'a wider wanted subject replaces the ones it covers', existing: ['orders.created', 'x', 'orders.eu.new'], wanted: ['orders.>'], want: ['x', 'orders.>'] },
    { name: 'a wanted subject already covered is not added', existing: ['orders.*'], wanted: ['orders.created'], want: ['orders.*'] },
    { name: 'overlaps inside the wanted list collapse too', existing: [], wanted: ['orders.dlq', 'orders.>', 'orders.charged'], want: ['orders.>'] },
    { name: '`*` does not cover a deeper subject', existing: ['orders.*'], wanted: ['orders.eu.new'], want: ['orders.*', 'orders.eu.new'] },
    { name: '`>` covers everything', existing: ['a', 'b.*'], wanted: ['>'], want: ['>'] },
  ];
  for (const row of rows) {
    it(row.name, () => assert.deepEqual(mergeSubjects(row.existing, row.wanted), row.want));
  }
});

describe('subjectCovers', () => {
  const rows: Array<[string, string, boolean]> = [
    ['orders.>', 'orders.created', true],
    ['orders.>', 'orders.*.new', true],
    ['orders.>', 'orders', false],
    ['orders.*', 'orders.eu', true],
    ['orders.*', 'orders.>', false],
    ['orders.*', 'orders.*', true],
    ['orders.created', 'orders.*', false],
    ['a.*.c', 'a.b.*', false],
    ['>', 'a.b', true],
    ['a.b', 'a.b', true],
  ];
  for (const [outer, inner, want] of rows) {
    it(`${outer} ${want ? 'covers' : 'does not cover'} ${inner}`, () => assert.equal(subjectCovers(outer, inner), want));
  }
});

describe('ensureStream / ensureConsumer on a real nats-server', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  before(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    jsm = await nc.jetstreamManager();
  });
  after(async () => {
    await nc.close();
    await nats.stop();
  });

  it('creates a file-backed stream with the duplicate window, then sets its subjects idempotently', async () => {
    const created = await ensureStream(jsm, { name: 'S1', subjects: ['a.>'], duplicateWindowMs: 120_000 });
    assert.equal(created?.config.storage, 'file');
    assert.equal(created?.config.duplicate_window, nanos(120_000));
    const again = await ensureStream(jsm, { name: 'S1', subjects: ['a.>'], duplicateWindowMs: 120_000 });
    assert.deepEqual(again?.config.subjects, ['a.>']);
    const more = await ensureStream(jsm, { name: 'S1', subjects: ['a.>', 'b.*'], duplicateWindowMs: 120_000 });
    assert.deepEqual(more?.config.subjects, ['a.>', 'b.*']);
  });

  it('creates a consumer, updates its limits in place, recreates it for a new subject, and removes it', async () => {
    await ensureStream(jsm, { name: 'S2', subjects: ['c.>'], duplicateWindowMs: 60_000 });
    const t = trig('orders', 'shop', 'c.orders');
    const first = await ensureConsumer(jsm, 'S2', consumerConfigFor(t, { retries: 3, maxInFlight: 10 }));
    assert.equal(first.config.max_deliver, -1);
    assert.equal(first.config.max_ack_pending, 10);
    const updated = await ensureConsumer(jsm, 'S2', consumerConfigFor(t, { retries: 1, maxInFlight: 3 }));
    assert.equal(updated.config.max_ack_pending, 3);
    // A consumer made before max_deliver was unlimited gets its limit lifted in place.
    await jsm.consumers.update('S2', consumerNameFor(t), { max_deliver: 2 });
    const lifted = await ensureConsumer(jsm, 'S2', consumerConfigFor(t, { retries: 1, maxInFlight: 3 }));
    assert.equal(lifted.config.max_deliver, -1);
    const moved = await ensureConsumer(jsm, 'S2', consumerConfigFor({ ...t, spec: { ...t.spec, subject: 'c.refunds' } }, { retries: 1, maxInFlight: 3 }));
    assert.equal(moved.config.filter_subject, 'c.refunds');
    await removeConsumer(jsm, 'S2', consumerNameFor(t));
    await removeConsumer(jsm, 'S2', consumerNameFor(t));
    await assert.rejects(jsm.consumers.info('S2', consumerNameFor(t)), /not found/i);
  });
});
