// The Trigger controller end to end against the API server double (real client-node) and
// a real nats-server: what a user sees after `kubectl apply` of a Trigger, a Trigger whose
// Function comes later, an invalid spec, counts from the dispatchers, deletion (also while
// the controller is down), and NATS out of reach.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { connect, type JetStreamManager, type KV, type NatsConnection } from 'nats';
import { getTriggerCondition } from '../../pkg/apis/trigger/lifecycle.js';
import type { KfnTrigger, TriggerSpec } from '../../pkg/apis/trigger/types.js';
import { openTriggerStats, readTriggerStats } from '../../pkg/events/dispatcher/stats-kv.js';
import { runTriggerController } from '../../pkg/reconciler/trigger/controller.js';
import { NatsTriggerJetStream } from '../../pkg/reconciler/trigger/jetstream.js';
import { TRIGGER_FINALIZER } from '../../pkg/reconciler/trigger/names.js';
import type { EventRecorder } from '../../pkg/controller/events/types.js';
import { quietLogger } from '../../pkg/shared/log.js';
import { startApiServer, type ApiServer } from '../kube/apiserver.js';
import { startNatsServer, type NatsServer } from '../util/nats.js';
import { waitFor } from '../util/wait.js';
import { fnApi } from './harness.js';

const triggerApi = { group: 'kfn.dev', version: 'v1alpha1', plural: 'triggers' };
const STREAM = 'KFN';

interface Controller {
  stop(): Promise<void>;
  /** ensureConsumer calls so far: one per reconcile of a valid Trigger. */
  ensures(): number;
}

interface RecordedEvent {
  name: string;
  type: string;
  reason: string;
  note: string;
}

/** An EventRecorder that keeps what it is told, without aggregating: what the reconciler asks for. */
function eventLog(): { recorder: EventRecorder; events: RecordedEvent[]; about(name: string): string[] } {
  const events: RecordedEvent[] = [];
  return {
    events,
    recorder: { record: (r, type, reason, _action, note) => void events.push({ name: `${r.namespace}/${r.name}`, type, reason, note }) },
    about: (name) => events.filter((e) => e.name === name).map((e) => `${e.type} ${e.reason}`),
  };
}

/** The Trigger controller on `server` and `natsUrl`, with fast retries and a 200 ms resync. */
function startController(server: ApiServer, natsUrl: string, recorder?: EventRecorder): Controller {
  const abort = new AbortController();
  const jetstream = new NatsTriggerJetStream({ servers: natsUrl, log: quietLogger(), duplicateWindowMs: 60_000, defaultStream: STREAM });
  let ensures = 0;
  const ensure = jetstream.ensureConsumer.bind(jetstream);
  jetstream.ensureConsumer = (...args) => {
    ensures++;
    return ensure(...args);
  };
  const done = runTriggerController({
    kubeConfig: server.kubeConfig(),
    jetstream,
    log: quietLogger(),
    signal: abort.signal,
    defaultStream: STREAM,
    resyncMs: 200,
    queue: { retry: { kind: 'exponential', baseMs: 20, maxMs: 300 } },
    informerBackoff: { kind: 'exponential', baseMs: 50, maxMs: 200 },
    ...(recorder ? { recorder } : {}),
  });
  return {
    ensures: () => ensures,
    async stop() {
      abort.abort();
      await done;
      await jetstream.close();
    },
  };
}

type StoredTrigger = KfnTrigger & { metadata: { finalizers?: string[] } };

describe('Trigger controller against the API server double and nats-server', () => {
  let server: ApiServer;
  let nats: NatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let kv: KV;
  let custom: CustomObjectsApi;
  let controller: Controller;
  const log = eventLog();
  before(async () => {
    [server, nats] = await Promise.all([startApiServer(), startNatsServer()]);
    nc = await connect({ servers: nats.url });
    jsm = await nc.jetstreamManager();
    kv = await openTriggerStats(nc.jetstream());
    custom = server.kubeConfig().makeApiClient(CustomObjectsApi);
    controller = startController(server, nats.url, log.recorder);
  });
  after(async () => {
    await controller.stop();
    await nc.close();
    await Promise.all([server.close(), nats.stop()]);
  });

  const createFunction = (namespace: string, name: string, spec: Record<string, unknown> = {}): Promise<unknown> =>
    custom.createNamespacedCustomObject({ ...fnApi, namespace, body: { apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', metadata: { name }, spec: { image: 'registry.example/fn:1', ...spec } } });
  const createTrigger = (namespace: string, name: string, spec: Partial<TriggerSpec> & Record<string, unknown>): Promise<unknown> =>
    custom.createNamespacedCustomObject({ ...triggerApi, namespace, body: { apiVersion: 'kfn.dev/v1alpha1', kind: 'Trigger', metadata: { name }, spec } });
  const stored = (namespace: string, name: string): StoredTrigger | undefined => server.store.get('triggers.kfn.dev', namespace, name) as StoredTrigger | undefined;
  const whenReady = (namespace: string, name: string, status: 'True' | 'False', reason?: string): Promise<StoredTrigger> =>
    waitFor(`trigger ${namespace}/${name} Ready=${status}${reason ? `/${reason}` : ''}`, () => {
      const t = stored(namespace, name);
      const ready = getTriggerCondition(t?.status, 'Ready');
      return ready?.status === status && (reason === undefined || ready.reason === reason) ? t : undefined;
    });
  const consumer = async (name: string): Promise<Awaited<ReturnType<JetStreamManager['consumers']['info']>> | undefined> => {
    try {
      return await jsm.consumers.info(STREAM, name);
    } catch {
      return undefined;
    }
  };

  it('a valid Trigger gets its durable consumer, its subjects in the stream, the finalizer, and Ready=True', async () => {
    await createFunction('apply', 'fulfil', { containerConcurrency: 5, scale: { max: 2 } });
    await createTrigger('apply', 'orders', { subject: 'orders.>', function: 'fulfil', reply: { subject: 'invoices.new' }, delivery: { retries: 4, deadLetterSubject: 'dlq.orders' } });
    const t = await whenReady('apply', 'orders', 'True');
    assert.equal(t.status?.consumer, 'kfn_apply_orders');
    assert.equal(t.status?.observedGeneration, 1);
    assert.deepEqual(t.metadata.finalizers, [TRIGGER_FINALIZER]);
    const info = await consumer('kfn_apply_orders');
    assert.ok(info, 'the consumer exists in JetStream');
    assert.equal(info.config.filter_subject, 'orders.>');
    assert.equal(info.config.max_deliver, -1, 'no limit: the dispatcher counts attempts and dead-letters the last');
    assert.equal(info.config.max_ack_pending, 10, "the function's capacity: 5 per replica × 2 replicas");
    const stream = await jsm.streams.info(STREAM);
    for (const s of ['orders.>', 'invoices.new', 'dlq.orders']) assert.ok(stream.config.subjects?.includes(s), `stream holds ${s}`);
  });

  it('a Trigger for a missing Function is Ready=False/FunctionNotFound, then Ready once the Function is created', async () => {
    await createTrigger('later', 'orders', { subject: 'later.orders', function: 'fulfil' });
    const t = await whenReady('later', 'orders', 'False', 'FunctionNotFound');
    assert.match(getTriggerCondition(t.status, 'Ready')?.message ?? '', /no Function "fulfil" in namespace "later"/);
    assert.equal(await consumer('kfn_later_orders'), undefined, 'no consumer for a trigger that cannot deliver');
    await createFunction('later', 'fulfil');
    const ready = await whenReady('later', 'orders', 'True');
    assert.equal(ready.status?.consumer, 'kfn_later_orders');
    assert.ok(await consumer('kfn_later_orders'));
  });

  it('an invalid spec is Ready=False/InvalidSpec naming the field, and nothing is made for it', async () => {
    await createFunction('invalid', 'fulfil');
    await createTrigger('invalid', 'orders', { subject: 'orders..new', function: 'fulfil' });
    const t = await whenReady('invalid', 'orders', 'False', 'InvalidSpec');
    assert.match(getTriggerCondition(t.status, 'Ready')?.message ?? '', /^spec\.subject: must be a NATS subject/);
    assert.equal(await consumer('kfn_invalid_orders'), undefined);
    assert.equal(t.metadata.finalizers, undefined, 'no finalizer: nothing to clean up');
  });

  it('a reply subject the trigger listens on (a rule only the controller checks) is InvalidSpec, and no consumer is made', async () => {
    // The CRD cannot afford this rule (config/210-crd-trigger.yaml), so the API server
    // stores the Trigger; the controller's status is where the user learns of the loop.
    await createFunction('loop', 'fulfil');
    await createTrigger('loop', 'orders', { subject: 'loop.orders.>', function: 'fulfil', reply: { subject: 'loop.orders.done' } });
    const t = await whenReady('loop', 'orders', 'False', 'InvalidSpec');
    assert.match(getTriggerCondition(t.status, 'Ready')?.message ?? '', /^spec\.reply\.subject: must not be matched by spec\.subject/);
    assert.equal(await consumer('kfn_loop_orders'), undefined);
  });

  it('records ConsumerReady once and InvalidSpec once, however many times the Triggers are reconciled', async () => {
    await createFunction('events', 'fulfil');
    await createTrigger('events', 'good', { subject: 'events.good', function: 'fulfil' });
    await createTrigger('events', 'bad', { subject: 'events..bad', function: 'fulfil' });
    await whenReady('events', 'good', 'True');
    await whenReady('events', 'bad', 'False', 'InvalidSpec');
    // Five more reconciles of the good one at least (the resync is 200 ms).
    const from = controller.ensures();
    await waitFor('five more reconciles', () => controller.ensures() >= from + 5);
    assert.deepEqual(log.about('events/good'), ['Normal ConsumerReady']);
    assert.deepEqual(log.about('events/bad'), ['Warning InvalidSpec']);
    assert.match(log.events.find((e) => e.name === 'events/bad')?.note ?? '', /spec\.subject/);
  });

  it("the dispatchers' counts from the stats bucket appear in status, summed over instances", async () => {
    await createFunction('counts', 'fulfil');
    await createTrigger('counts', 'orders', { subject: 'counts.orders', function: 'fulfil' });
    await whenReady('counts', 'orders', 'True');
    await kv.put('counts.orders.dispatcher-a', JSON.stringify({ delivered: 7, retried: 2, deadLettered: 1, filtered: 0, updatedAt: new Date().toISOString() }));
    await kv.put('counts.orders.dispatcher-b', JSON.stringify({ delivered: 5, retried: 0, deadLettered: 0, dropped: 2, filtered: 3, updatedAt: new Date().toISOString() }));
    const t = await waitFor('counts in status', () => {
      const s = stored('counts', 'orders');
      return s?.status?.delivered === 12 ? s : undefined;
    });
    assert.equal(t.status?.retried, 2);
    assert.equal(t.status?.deadLettered, 1);
    assert.equal(t.status?.dropped, 2);
  });

  it('deleting a Trigger removes its consumer and its counts, then the finalizer, then the Trigger', async () => {
    await createFunction('delete', 'fulfil');
    await createTrigger('delete', 'orders', { subject: 'delete.orders', function: 'fulfil' });
    await whenReady('delete', 'orders', 'True');
    await kv.put('delete.orders.dispatcher-a', JSON.stringify({ delivered: 1, retried: 0, deadLettered: 0, filtered: 0 }));
    await custom.deleteNamespacedCustomObject({ ...triggerApi, namespace: 'delete', name: 'orders' });
    await waitFor('trigger gone', () => stored('delete', 'orders') === undefined);
    assert.equal(await consumer('kfn_delete_orders'), undefined, 'the consumer is gone');
    assert.equal((await readTriggerStats(kv, { namespace: 'delete', name: 'orders' })).delivered, 0, 'its counts are gone');
    const finalizerRemoved = server.requests.some((r) => r.method === 'PUT' && r.path.endsWith('/namespaces/delete/triggers/orders') && r.status === 200);
    assert.ok(finalizerRemoved, 'the Trigger went when the controller removed its finalizer');
    const subjects = (await jsm.streams.info(STREAM)).config.subjects ?? [];
    assert.ok(!subjects.includes('delete.orders'), `the subject only it needed left the stream: ${subjects.join(' ')}`);
    assert.ok(subjects.includes('orders.>'), 'the other Triggers keep theirs');
  });

  it("a Trigger on '>' is InvalidSpec and its stream never holds '>'", async () => {
    await createFunction('all', 'fulfil');
    await createTrigger('all', 'everything', { subject: '>', function: 'fulfil' });
    const t = await whenReady('all', 'everything', 'False', 'InvalidSpec');
    assert.match(getTriggerCondition(t.status, 'Ready')?.message ?? '', /spec\.subject: must not start with the token '>'/);
    assert.ok(!(await jsm.streams.info(STREAM)).config.subjects?.includes('>'));
  });

  it("a stream an older kfn left holding NATS's subjects is repaired at the next resync, keeping its events", async () => {
    const before = await jsm.streams.info(STREAM);
    const damaged = [...(before.config.subjects ?? []), '$KFN.dead.old', '_INBOX.>', 'gone.>'];
    await jsm.streams.update(STREAM, { ...before.config, subjects: damaged });
    await nc.jetstream().publish('gone.x', new TextEncoder().encode('kept'));
    const repaired = await waitFor('stream repaired', async () => {
      const info = await jsm.streams.info(STREAM);
      return info.config.subjects?.some((s) => s.startsWith('$') || s.startsWith('_INBOX') || s === 'gone.>') ? undefined : info;
    });
    assert.deepEqual([...(repaired.config.subjects ?? [])].sort(), [...(before.config.subjects ?? [])].sort());
    const kept = await jsm.streams.getMessage(STREAM, { last_by_subj: 'gone.x' });
    assert.equal(new TextDecoder().decode(kept.data), 'kept');
  });

  it('a Trigger deleted while the controller is down has its consumer removed when it is back', async () => {
    await createFunction('down', 'fulfil');
    await createTrigger('down', 'orders', { subject: 'down.orders', function: 'fulfil' });
    await whenReady('down', 'orders', 'True');
    await controller.stop();
    await custom.deleteNamespacedCustomObject({ ...triggerApi, namespace: 'down', name: 'orders' });
    const held = stored('down', 'orders');
    assert.ok(held?.metadata.deletionTimestamp, 'the finalizer holds the Trigger');
    assert.ok(await consumer('kfn_down_orders'), 'and its consumer stays while nobody removes it');
    controller = startController(server, nats.url);
    await waitFor('trigger gone', () => stored('down', 'orders') === undefined);
    assert.equal(await consumer('kfn_down_orders'), undefined);
  });
});

describe('Trigger controller with NATS out of reach', () => {
  it('reports Ready=False/NatsUnavailable with the cause, and Ready once NATS is there', async () => {
    const server = await startApiServer();
    const nats = await startNatsServer();
    await nats.stop();
    const custom = server.kubeConfig().makeApiClient(CustomObjectsApi);
    const log = eventLog();
    const controller = startController(server, nats.url, log.recorder);
    try {
      await custom.createNamespacedCustomObject({ ...fnApi, namespace: 'nats', body: { apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', metadata: { name: 'fulfil' }, spec: { image: 'registry.example/fn:1' } } });
      await custom.createNamespacedCustomObject({ ...triggerApi, namespace: 'nats', body: { apiVersion: 'kfn.dev/v1alpha1', kind: 'Trigger', metadata: { name: 'orders' }, spec: { subject: 'orders.>', function: 'fulfil' } } });
      const t = await waitFor('NatsUnavailable', () => {
        const s = server.store.get('triggers.kfn.dev', 'nats', 'orders') as KfnTrigger | undefined;
        return getTriggerCondition(s?.status, 'Ready')?.reason === 'NatsUnavailable' ? s : undefined;
      });
      assert.match(getTriggerCondition(t.status, 'Ready')?.message ?? '', new RegExp(`connect to NATS at ${nats.url.replaceAll('.', '\\.')}`));
      // The same port again: the queue's retries connect and make the consumer.
      await nats.restart();
      await waitFor('Ready once NATS is up', () => {
        const s = server.store.get('triggers.kfn.dev', 'nats', 'orders') as KfnTrigger | undefined;
        return getTriggerCondition(s?.status, 'Ready')?.status === 'True';
      });
      // Retried with backoff while NATS was down, but told once; then told it recovered.
      // The Event is recorded after the status write the wait above saw: wait for it too.
      await waitFor('the recovery Event', () => log.about('nats/orders').length >= 2);
      assert.deepEqual(log.about('nats/orders'), ['Warning ConsumerFailed', 'Normal ConsumerReady']);
      assert.match(log.events[0]?.note ?? '', /^NatsUnavailable: /);
    } finally {
      await controller.stop();
      await server.close();
      await nats.stop();
    }
  });
});
