// Local mode's Trigger controller on a real nats-server, delivering through the real
// dispatcher to a recording deliverer: status, waiting for a missing function, counts,
// removal, and running without NATS.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import type { KfnFunction } from '../../pkg/apis/function/types.js';
import type { KfnTrigger } from '../../pkg/apis/trigger/types.js';
import { getTriggerCondition } from '../../pkg/apis/trigger/lifecycle.js';
import { makeEvent } from '../../pkg/events/cloudevents/event.js';
import { msgIdFor, toNatsMessage } from '../../pkg/events/cloudevents/nats.js';
import { Dispatcher } from '../../pkg/events/dispatcher/dispatcher.js';
import type { Deliverer } from '../../pkg/events/dispatcher/deliver-http.js';
import { FunctionStore, TriggerStore } from '../../pkg/dev/store.js';
import type { NatsProblem } from '../../pkg/dev/nats-health.js';
import { DevTriggerController, type EventBus, type NatsStatus } from '../../pkg/dev/triggers.js';
import { quietLogger } from '../../pkg/shared/log.js';
import { startNatsServer, type NatsServer } from '../util/nats.js';
import { waitFor } from '../util/wait.js';

const STREAM = 'KFN_DEV_TEST';

const fn = (name: string): KfnFunction => ({ apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', metadata: { name, namespace: 'default' }, spec: { image: 'x' } });
const trigger = (name: string, spec: Partial<KfnTrigger['spec']> = {}): KfnTrigger => ({
  apiVersion: 'kfn.dev/v1alpha1',
  kind: 'Trigger',
  metadata: { name, namespace: 'default' },
  spec: { subject: `${name}.>`, function: 'target', ...spec },
});

describe('DevTriggerController on a real nats-server', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let stop: AbortController;
  let run: Promise<void>;
  const delivered: string[] = [];
  let stores: { functions: FunctionStore; triggers: TriggerStore };
  let controller: DevTriggerController;
  let dispatcher: Dispatcher;

  before(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    jsm = await nc.jetstreamManager();
    const deliver: Deliverer = ({ event }) => {
      delivered.push(event.attributes.id);
      // The function refuses these: dead-lettered, or dropped without a dead-letter subject.
      return Promise.resolve({ status: event.attributes.id.startsWith('refused-') ? 400 : 200, headers: {}, body: Buffer.alloc(0) });
    };
    dispatcher = new Dispatcher({ nc, log: quietLogger(), deliver, streamName: STREAM });
    stop = new AbortController();
    run = dispatcher.run(stop.signal);
    stores = { functions: new FunctionStore(), triggers: new TriggerStore() };
    const bus: EventBus = { ok: true, jsm, dispatcher };
    controller = new DevTriggerController({ ...stores, bus, streamName: STREAM, duplicateWindowMs: 60_000, log: quietLogger() });
    controller.start();
  });

  after(async () => {
    controller.stop();
    stop.abort();
    await run;
    await nc.close();
    await nats.stop();
  });

  const publish = async (subject: string, id: string): Promise<void> => {
    const event = makeEvent({ specversion: '1.0', id, type: 'test', source: 'test' }, Buffer.from(JSON.stringify({ id })));
    const msg = toNatsMessage(event);
    await nc.jetstream().publish(subject, msg.data, { headers: msg.headers, msgID: msgIdFor(event) });
  };

  it('holds events for a missing function and delivers them once it exists, then counts them in status', async () => {
    stores.triggers.apply(trigger('orders', { delivery: { deadLetterSubject: 'dead.orders' }, reply: { subject: 'done.orders' } }));
    await controller.idle();
    const waiting = stores.triggers.get({ namespace: 'default', name: 'orders' });
    assert.equal(getTriggerCondition(waiting?.status, 'Ready')?.reason, 'FunctionNotFound');
    assert.equal(waiting?.status?.consumer, 'kfn_default_orders', 'the consumer exists so events wait');
    const info = await jsm.streams.info(STREAM);
    assert.deepEqual(info.config.subjects, ['orders.>', 'done.orders', 'dead.orders']);

    await publish('orders.created', 'early-1');
    assert.equal(delivered.length, 0, 'no function yet: nothing delivered');

    stores.functions.apply(fn('target'));
    await waitFor('the held event delivered', () => delivered.includes('early-1'));
    await controller.idle();
    assert.equal(getTriggerCondition(stores.triggers.get({ namespace: 'default', name: 'orders' })?.status, 'Ready')?.status, 'True');
    await waitFor('delivered counted in status', () => {
      controller.refreshCounts();
      return stores.triggers.get({ namespace: 'default', name: 'orders' })?.status?.delivered === 1;
    });
  });

  it('keeps counting from where it was when its function goes and comes back', async () => {
    const key = { namespace: 'default', name: 'orders' };
    stores.functions.delete({ namespace: 'default', name: 'target' });
    await controller.idle();
    assert.equal(getTriggerCondition(stores.triggers.get(key)?.status, 'Ready')?.reason, 'FunctionNotFound');
    assert.equal(stores.triggers.get(key)?.status?.delivered, 1);
    stores.functions.apply(fn('target'));
    await publish('orders.created', 'later-1');
    await waitFor('the later event delivered', () => delivered.includes('later-1'));
    await waitFor('both deliveries counted', () => {
      controller.refreshCounts();
      return stores.triggers.get(key)?.status?.delivered === 2;
    });
  });

  it('counts an event that failed for good with no dead-letter subject as dropped in status', async () => {
    const key = { namespace: 'default', name: 'nodl' };
    stores.triggers.apply(trigger('nodl'));
    await controller.idle();
    await publish('nodl.created', 'refused-1');
    await waitFor('the refused event counted as dropped', () => {
      controller.refreshCounts();
      return stores.triggers.get(key)?.status?.dropped === 1;
    });
    assert.equal(stores.triggers.get(key)?.status?.deadLettered, 0);
  });

  it('deleting a trigger deletes its consumer', async () => {
    stores.triggers.apply(trigger('gone'));
    await controller.idle();
    await jsm.consumers.info(STREAM, 'kfn_default_gone');
    stores.triggers.delete({ namespace: 'default', name: 'gone' });
    await controller.idle();
    await assert.rejects(jsm.consumers.info(STREAM, 'kfn_default_gone'), /not found/i);
    const subjects = (await jsm.streams.info(STREAM)).config.subjects ?? [];
    assert.ok(!subjects.includes('gone.>'), `the subject only it needed left the stream: ${subjects.join(' ')}`);
    assert.ok(subjects.includes('orders.>'), 'the other trigger keeps its subjects');
  });

  it('while NATS is unavailable every trigger is Ready=False NatsUnavailable with the reason, and Ready again once it is back', async () => {
    const local = { functions: new FunctionStore(), triggers: new TriggerStore() };
    let problem: NatsProblem | undefined;
    const listeners = new Set<(p: NatsProblem | undefined) => void>();
    const nats: NatsStatus = {
      current: () => problem,
      onChange: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    };
    const setProblem = (p: NatsProblem | undefined): void => {
      problem = p;
      for (const l of listeners) l(p);
    };
    const c = new DevTriggerController({ ...local, bus: { ok: true, jsm, dispatcher }, nats, streamName: STREAM, duplicateWindowMs: 60_000, log: quietLogger() });
    c.start();
    try {
      local.functions.apply(fn('target'));
      local.triggers.apply(trigger('flaky'));
      local.triggers.apply(trigger('waiting', { function: 'absent' }));
      await c.idle();
      const ready = (name: string): ReturnType<typeof getTriggerCondition> => getTriggerCondition(local.triggers.get({ namespace: 'default', name })?.status, 'Ready');
      assert.equal(ready('flaky')?.status, 'True');

      setProblem({ reason: 'NatsUnavailable', message: 'NATS at nats://x:1 is unreachable; kfn dev reconnects by itself' });
      await c.idle();
      for (const name of ['flaky', 'waiting']) {
        const r = ready(name);
        assert.equal(r?.status, 'False', name);
        // A missing function is still reported first: it is the one a person fixes.
        assert.equal(r?.reason, name === 'flaky' ? 'NatsUnavailable' : 'FunctionNotFound', name);
      }
      assert.match(ready('flaky')?.message ?? '', /unreachable/);
      const consumer = getTriggerCondition(local.triggers.get({ namespace: 'default', name: 'waiting' })?.status, 'ConsumerReady');
      assert.equal(consumer?.reason, 'NatsUnavailable');

      setProblem(undefined);
      await c.idle();
      assert.equal(ready('flaky')?.status, 'True');
      assert.equal(ready('waiting')?.reason, 'FunctionNotFound');
    } finally {
      c.stop();
      await dispatcher.removeTrigger({ namespace: 'default', name: 'flaky' });
    }
  });

  it('without NATS, a trigger says why it is not ready', async () => {
    const local = { functions: new FunctionStore(), triggers: new TriggerStore() };
    const c = new DevTriggerController({
      ...local,
      bus: { ok: false, reason: 'NatsServerMissing', message: 'nats-server was not found on PATH; install it' },
      streamName: STREAM,
      duplicateWindowMs: 60_000,
      log: quietLogger(),
    });
    c.start();
    local.functions.apply(fn('target'));
    local.triggers.apply(trigger('offline'));
    await c.idle();
    c.stop();
    const ready = getTriggerCondition(local.triggers.get({ namespace: 'default', name: 'offline' })?.status, 'Ready');
    assert.equal(ready?.status, 'False');
    assert.equal(ready?.reason, 'NatsServerMissing');
    assert.match(ready?.message ?? '', /install/);
  });
});

describe('DevTriggerController repairs the stream at start-up', () => {
  it("makes a stream an older kfn left holding '>' hold its triggers' subjects, keeping its events", async () => {
    const nats = await startNatsServer();
    const nc = await connect({ servers: nats.url });
    const c: { controller?: DevTriggerController } = {};
    try {
      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: STREAM, subjects: ['>'] });
      await nc.jetstream().publish('orders.old', new TextEncoder().encode('kept'));
      const dispatcher = new Dispatcher({ nc, log: quietLogger(), deliver: () => Promise.resolve({ status: 200, headers: {}, body: Buffer.alloc(0) }), streamName: STREAM });
      const stores = { functions: new FunctionStore(), triggers: new TriggerStore() };
      c.controller = new DevTriggerController({ ...stores, bus: { ok: true, jsm, dispatcher }, streamName: STREAM, duplicateWindowMs: 60_000, log: quietLogger() });
      // No trigger at all: the stream is repaired anyway.
      c.controller.start();
      await c.controller.idle();
      const info = await jsm.streams.info(STREAM);
      assert.deepEqual(info.config.subjects, [STREAM]);
      const kept = await jsm.streams.getMessage(STREAM, { last_by_subj: 'orders.old' });
      assert.equal(new TextDecoder().decode(kept.data), 'kept');
    } finally {
      c.controller?.stop();
      await nc.close();
      await nats.stop();
    }
  });
});
