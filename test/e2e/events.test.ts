// Event-driven flows end to end, as a user runs them: `kfn dev` on a folder of Function
// and Trigger manifests (a real child process), a real nats-server with JetStream (kfn
// dev's own, or one of the test's when the test restarts it), events in over the HTTP
// ingress or a plain NATS client, real replicas recording what reached them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { connect, headers as natsHeaders, type NatsConnection } from 'nats';
import { parseAllDocuments } from 'yaml';
import { helloManifest, repoRoot, startDev, type DevProcess } from '../util/dev.js';
import { startNatsServer } from '../util/nats.js';
import { waitFor } from '../util/wait.js';
import {
  RECORDER_JS,
  binaryEvent,
  countById,
  functionManifest,
  postEvent,
  readDeliveries,
  runDev,
  triggerManifest,
  waitTriggersReady,
  type Delivery,
  type DevRun,
} from './events-util.js';

const STREAM = 'KFN';
/** Short enough that a lost ack costs the restart tests seconds, not the default 30 s. */
const ACK_WAIT = '2s';
const FLAGS = ['--ack-wait', ACK_WAIT];

interface EventDev {
  dev: DevProcess;
  /** The event ingress and NATS of this kfn dev. */
  ingress: string;
  nats: string;
  /** Deliveries the recorder function wrote to `file` (relative to the folder). */
  deliveries: (file?: string) => Promise<Delivery[]>;
}

async function withDev(manifests: Record<string, string>, body: (d: EventDev) => Promise<void>, flags: string[] = []): Promise<void> {
  const dev = await startDev(manifests, [...FLAGS, ...flags]);
  try {
    assert.ok(dev.ingress && dev.nats, 'kfn dev runs without its event bus; is nats-server installed?');
    await body({ dev, ingress: dev.ingress, nats: dev.nats, deliveries: (file = 'deliveries.jsonl') => readDeliveries(path.join(dev.dir, file)) });
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- kfn dev output (tail) ---\n${dev.output().slice(-6000)}`, { cause: err });
  } finally {
    await dev.stop();
  }
}

/** The recorder as function `name`, writing to deliveries.jsonl in the test's folder. */
function recorder(name: string, spec: Record<string, unknown> = {}, env: Record<string, string> = {}): Record<string, string> {
  return {
    'recorder.js': RECORDER_JS,
    [`${name}.yaml`]: functionManifest(name, 'recorder.js', { RECORD_FILE: 'deliveries.jsonl', ...env }, spec),
  };
}

async function waitDeliveredIds(what: string, read: () => Promise<Delivery[]>, ids: readonly string[], timeoutMs = 30_000): Promise<Delivery[]> {
  let seen = new Map<string, number>();
  try {
    return await waitFor(
      what,
      async () => {
        const all = await read();
        seen = countById(all);
        return ids.every((id) => seen.has(id)) ? all : undefined;
      },
      { timeoutMs, intervalMs: 50 },
    );
  } catch (err) {
    const missing = ids.filter((id) => !seen.has(id));
    throw new Error(`${String(err)}; ${missing.length} of ${ids.length} never delivered: ${missing.slice(0, 20).join(', ')}`, { cause: err });
  }
}

async function natsClient(url: string): Promise<NatsConnection> {
  return connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
}

/** Publishes a plain NATS message (kfn wraps it into a CloudEvent whose id is the Nats-Msg-Id), retrying until JetStream acks it. */
async function publishPlain(nc: NatsConnection, subject: string, id: string, data: unknown): Promise<void> {
  const js = nc.jetstream();
  await waitFor(
    `JetStream to ack ${id}`,
    async () => {
      await js.publish(subject, new TextEncoder().encode(JSON.stringify(data)), { msgID: id, timeout: 2000 });
      return true;
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
}

const atZero = (fn: { status?: { readyReplicas?: number; replicas?: number } }): boolean => fn.status?.readyReplicas === 0 && fn.status.replicas === 0;

test('an event reaches a function at zero replicas, which scales up, with its CloudEvent attributes intact in binary and structured mode', async () => {
  const manifests = {
    ...recorder('cold', { scale: { initial: 0 } }),
    'cold-trigger.yaml': triggerManifest('cold-events', { subject: 'e2e.cold', function: 'cold', path: '/events' }),
  };
  await withDev(manifests, async ({ dev, ingress, deliveries }) => {
    await waitTriggersReady(dev.admin, ['cold-events']);
    const before = await dev.waitStatus('cold to be registered at zero', 'cold', (fn) => atZero(fn) && fn.status?.url !== undefined);
    assert.equal(before.status?.readyReplicas, 0);

    const binary = binaryEvent(
      { id: 'evt-binary-1', type: 'com.example.thing.created', source: '/e2e/things', subject: 'thing-1', time: '2026-01-02T03:04:05Z', traceid: 'abc123' },
      { thing: 1, name: 'first' },
    );
    const accepted = await postEvent(ingress, 'e2e.cold', binary.headers, binary.body);
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    assert.deepEqual({ ...accepted.body, seq: undefined }, { id: 'evt-binary-1', subject: 'e2e.cold', stream: STREAM, seq: undefined, duplicate: false });

    const structured = {
      specversion: '1.0',
      id: 'evt-structured-1',
      type: 'com.example.thing.updated',
      source: '/e2e/things',
      subject: 'café au lait',
      datacontenttype: 'application/json',
      priority: 'high',
      data: { thing: 2 },
    };
    const second = await postEvent(ingress, 'e2e.cold', { 'content-type': 'application/cloudevents+json' }, JSON.stringify(structured));
    assert.equal(second.status, 202, JSON.stringify(second.body));

    const got = await waitDeliveredIds('both events at the function', deliveries, ['evt-binary-1', 'evt-structured-1']);
    const first = got.find((d) => d.headers['ce-id'] === 'evt-binary-1');
    assert.deepEqual(first?.headers, {
      'ce-specversion': '1.0',
      'ce-id': 'evt-binary-1',
      'ce-type': 'com.example.thing.created',
      'ce-source': '/e2e/things',
      'ce-subject': 'thing-1',
      'ce-time': '2026-01-02T03:04:05Z',
      'ce-traceid': 'abc123',
      'content-type': 'application/json',
    });
    assert.deepEqual(JSON.parse(first?.body ?? ''), { thing: 1, name: 'first' });
    assert.equal(first?.path, '/events');
    // Structured in, binary out: every attribute a ce- header, percent-encoded per the binding.
    const other = got.find((d) => d.headers['ce-id'] === 'evt-structured-1');
    assert.equal(other?.headers['ce-type'], 'com.example.thing.updated');
    assert.equal(decodeURIComponent(other?.headers['ce-subject'] ?? ''), 'café au lait');
    assert.equal(other?.headers['ce-priority'], 'high');
    assert.match(other?.headers['content-type'] ?? '', /^application\/json/);
    assert.deepEqual(JSON.parse(other?.body ?? ''), { thing: 2 });

    const after = await dev.get('cold');
    assert.ok((after.status?.readyReplicas ?? 0) >= 1, `cold has no ready replica after serving: ${JSON.stringify(after.status)}`);
    await waitFor('the trigger to count 2 deliveries', async () => (await dev.getTrigger('cold-events')).status?.delivered === 2);
  });
});

test('maxInFlight 2: 20 slow events never put more than 2 at once on the function', async () => {
  const manifests = {
    'peak.yaml': helloManifest('peak', { scale: { initial: 0, max: 1 } }),
    'peak-trigger.yaml': triggerManifest('peak-events', { subject: 'e2e.peak', function: 'peak', path: '/work?sleep=150', delivery: { maxInFlight: 2 } }),
  };
  await withDev(manifests, async ({ dev, ingress }) => {
    await waitTriggersReady(dev.admin, ['peak-events']);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        const e = binaryEvent({ id: `peak-${i}` }, { i });
        return postEvent(ingress, 'e2e.peak', e.headers, e.body);
      }),
    );
    assert.deepEqual(answers.map((a) => a.status), Array.from({ length: 20 }, () => 202));
    await waitFor('all 20 events delivered', async () => (await dev.getTrigger('peak-events')).status?.delivered === 20, { timeoutMs: 30_000 });
    // One replica (scale.max 1), so its peak is the function's.
    const res = await fetch(`${dev.activator}/default/peak/peak`);
    const { peakInFlight } = (await res.json()) as { peakInFlight: number };
    assert.ok(peakInFlight <= 2, `the function had ${peakInFlight} events in flight at once`);
    assert.equal(peakInFlight, 2, 'the dispatcher should use both slots of maxInFlight 2');
  });
});

test('a cold start longer than the ack wait delivers the event exactly once', async () => {
  // The function takes 5 s to start; JetStream would redeliver after 2 s without the
  // dispatcher's in-progress acks.
  const manifests = {
    ...recorder('sluggish', { scale: { initial: 0 }, timeoutSeconds: 60 }, { START_DELAY_MS: '5000' }),
    'sluggish-trigger.yaml': triggerManifest('sluggish-events', { subject: 'e2e.sluggish', function: 'sluggish' }),
  };
  await withDev(manifests, async ({ dev, ingress, nats, deliveries }) => {
    await waitTriggersReady(dev.admin, ['sluggish-events']);
    await dev.waitStatus('sluggish to be at zero', 'sluggish', atZero);
    const e = binaryEvent({ id: 'slow-start-1' }, { once: true });
    const accepted = await postEvent(ingress, 'e2e.sluggish', e.headers, e.body);
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    const seq = Number(accepted.body.seq);

    const nc = await natsClient(nats);
    try {
      const jsm = await nc.jetstreamManager();
      // Settled: acked by the dispatcher, nothing pending at the function or in JetStream.
      const info = await waitFor(
        'the event to be acked',
        async () => {
          const ci = await jsm.consumers.info(STREAM, 'kfn_default_sluggish-events');
          return ci.ack_floor.stream_seq >= seq && ci.num_ack_pending === 0 && ci.num_pending === 0 ? ci : undefined;
        },
        { timeoutMs: 40_000, intervalMs: 100 },
      );
      assert.equal(info.num_redelivered, 0, `JetStream redelivered: ${JSON.stringify(info)}`);
      assert.equal(info.delivered.consumer_seq, 1, `JetStream handed out the event ${info.delivered.consumer_seq} times`);
    } finally {
      await nc.close();
    }
    const got = await deliveries();
    assert.equal(got.filter((d) => d.headers['ce-id'] === 'slow-start-1').length, 1, JSON.stringify(got));
  });
});

/** The order sample as it is in samples/orders, with notify writing to notified.jsonl in the test's folder. */
async function orderSample(): Promise<Record<string, string>> {
  const dir = path.join(repoRoot, 'samples', 'orders');
  const out: Record<string, string> = {};
  for (const step of ['validate', 'charge', 'notify']) {
    out[`${step}.js`] = await readFile(path.join(dir, `${step}.js`), 'utf8');
    const docs = parseAllDocuments(await readFile(path.join(dir, `${step}.yaml`), 'utf8'));
    const texts = docs.map((doc) => {
      const obj = doc.toJS() as { kind: string; spec: { env?: { name: string; value: string }[] } };
      if (step === 'notify' && obj.kind === 'Function') obj.spec.env = [{ name: 'ORDERS_OUT', value: 'notified.jsonl' }];
      return JSON.stringify(obj);
    });
    out[`${step}.yaml`] = texts.join('\n---\n') + '\n';
  }
  return out;
}

interface Notification {
  orderId: string;
  amount: number;
  event: { type?: string; source?: string; parent?: string };
}

test('the order sample: 20 orders flow through validate → charge → notify, transient charge failures are retried, a bad order is dead-lettered', async () => {
  const N = 20;
  const orders = Array.from({ length: N }, (_, i) => ({
    id: `order-${i}`,
    customer: `c${i}`,
    items: [{ sku: 'tea', qty: i + 1, price: 2.5 }],
    // Every fourth order meets a payment provider that fails once.
    ...(i % 4 === 0 ? { failFirst: 1 } : {}),
  }));
  await withDev(await orderSample(), async ({ dev, ingress, nats }) => {
    await waitTriggersReady(dev.admin, ['validate-orders', 'charge-orders', 'notify-orders']);
    // The first order with `kfn publish`, the rest (and a bad one) over the ingress.
    const [first, ...rest] = orders;
    const published = await dev.kfn('publish', 'orders.created', JSON.stringify(first), '--id', `created-${first?.id}`, '--type', 'dev.kfn.orders.created');
    assert.equal(published.code, 0, published.stderr);
    const answers = await Promise.all(
      [...rest, { id: 'order-bad', customer: 'x', items: [] }].map((o) => {
        const e = binaryEvent({ id: `created-${o.id}`, type: 'dev.kfn.orders.created', source: '/e2e/shop' }, o);
        return postEvent(ingress, 'orders.created', e.headers, e.body);
      }),
    );
    assert.ok(answers.every((a) => a.status === 202), JSON.stringify(answers.filter((a) => a.status !== 202)));

    const out = path.join(dev.dir, 'notified.jsonl');
    let notes: Notification[] = [];
    await waitFor(
      `all ${N} orders notified`,
      async () => {
        const text = await readFile(out, 'utf8').catch(() => '');
        notes = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Notification);
        return new Set(notes.map((n) => n.orderId)).size >= N;
      },
      { timeoutMs: 45_000, intervalMs: 100 },
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}; notified so far: ${notes.map((n) => n.orderId).join(', ')}`, { cause: err });
    });
    assert.deepEqual(new Set(notes.map((n) => n.orderId)), new Set(orders.map((o) => o.id)));
    for (const n of notes) {
      const i = Number(n.orderId.slice('order-'.length));
      assert.equal(n.amount, (i + 1) * 2.5, `order ${n.orderId}`);
      assert.equal(n.event.type, 'dev.kfn.orders.charged');
      assert.equal(n.event.source, '/apis/kfn.dev/v1alpha1/namespaces/default/functions/charge-order');
      assert.ok(n.event.parent, `no kfnparentid on ${JSON.stringify(n)}`);
    }

    // 5 orders failed their first charge and were retried.
    await waitFor('charge-orders to count its retries', async () => ((await dev.getTrigger('charge-orders')).status?.retried ?? 0) >= 5);
    // The bad order went to the dead letters at once, with why.
    const validate = await waitFor('validate-orders to count one dead letter', async () => {
      const t = await dev.getTrigger('validate-orders');
      return t.status?.deadLettered === 1 ? t : undefined;
    });
    assert.equal(validate.status?.delivered, N);
    const listed = await dev.kfn('dlq', 'list', 'validate-orders', '-o', 'json');
    assert.equal(listed.code, 0, listed.stderr);
    const entries = JSON.parse(listed.stdout) as { id?: string; reason: string; status?: number; attempts: number }[];
    assert.deepEqual(
      entries.map((e) => ({ id: e.id, reason: e.reason, status: e.status, attempts: e.attempts })),
      [{ id: 'created-order-bad', reason: 'rejected', status: 422, attempts: 1 }],
    );
    const nc = await natsClient(nats);
    try {
      const jsm = await nc.jetstreamManager();
      const dead = await jsm.streams.getMessage(STREAM, { last_by_subj: 'orders.dlq' });
      assert.equal(dead.header.get('ce-id'), 'created-order-bad');
      assert.equal(dead.header.get('kfn-dlq-reason'), 'rejected');
      assert.equal(dead.header.get('kfn-dlq-status'), '422');
      assert.equal(dead.header.get('kfn-dlq-trigger'), 'default/validate-orders');
    } finally {
      await nc.close();
    }
  });
});

test('malformed events at the ingress get 400 naming the problem, an oversized one 413, and none is published or delivered', async () => {
  const manifests = {
    ...recorder('strict', { scale: { initial: 1 } }),
    'strict-trigger.yaml': triggerManifest('strict-events', { subject: 'e2e.>', function: 'strict' }),
  };
  await withDev(manifests, async ({ dev, ingress, nats, deliveries }) => {
    await waitTriggersReady(dev.admin, ['strict-events']);
    const ce = { 'ce-specversion': '1.0', 'ce-id': 'x-1', 'ce-type': 't', 'ce-source': '/s', 'content-type': 'application/json' };
    const { 'ce-id': _id, ...noId } = ce;
    const { 'ce-source': _source, ...noSource } = ce;
    const cases: { name: string; subject?: string; headers: Record<string, string>; body: string | Buffer; status: number; message: RegExp }[] = [
      { name: 'binary without ce-id', headers: noId, body: '{}', status: 400, message: /\bid\b/ },
      { name: 'binary without ce-source', headers: noSource, body: '{}', status: 400, message: /source/ },
      { name: 'unknown specversion', headers: { ...ce, 'ce-specversion': '9.9' }, body: '{}', status: 400, message: /specversion/ },
      { name: 'bad percent-encoding', headers: { ...ce, 'ce-subject': 'a%zz' }, body: '{}', status: 400, message: /percent/ },
      { name: 'no CloudEvent at all', headers: { 'content-type': 'application/json' }, body: '{"a":1}', status: 400, message: /specversion|id|source|type/ },
      { name: 'structured, not JSON', headers: { 'content-type': 'application/cloudevents+json' }, body: '{"specversion":', status: 400, message: /JSON/i },
      {
        name: 'structured without type',
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify({ specversion: '1.0', id: 'x-2', source: '/s' }),
        status: 400,
        message: /type/,
      },
      { name: 'wildcard subject', subject: 'e2e.*', headers: ce, body: '{}', status: 400, message: /subject/ },
      { name: 'larger than 1 MiB', headers: ce, body: Buffer.alloc(2 * 1024 * 1024, 0x61), status: 413, message: /larger|limit/ },
    ];
    for (const c of cases) {
      const answer = await postEvent(ingress, c.subject ?? 'e2e.bad', c.headers, c.body);
      assert.equal(answer.status, c.status, `${c.name}: ${JSON.stringify(answer.body)}`);
      assert.match(JSON.stringify(answer.body), c.message, `${c.name}: the error should name the problem`);
    }

    // The first event JetStream stores is the good one: none of the above was published.
    const good = binaryEvent({ id: 'good-1' }, { ok: true });
    const accepted = await postEvent(ingress, 'e2e.bad', good.headers, good.body);
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    assert.equal(accepted.body.seq, 1, `the stream held messages before the good event: ${JSON.stringify(accepted.body)}`);
    await waitDeliveredIds('the good event', deliveries, ['good-1']);
    const nc = await natsClient(nats);
    try {
      const info = await (await nc.jetstreamManager()).streams.info(STREAM);
      assert.equal(info.state.messages, 1);
    } finally {
      await nc.close();
    }
    await waitFor('the trigger to settle', async () => (await dev.getTrigger('strict-events')).status?.delivered === 1);
    assert.deepEqual([...countById(await deliveries()).keys()], ['good-1']);
  });
});

test('nats-server restarted mid-stream: every event published before and after is delivered at least once', async () => {
  const nats = await startNatsServer();
  let nc: NatsConnection | undefined;
  try {
    const manifests = {
      ...recorder('steady', { scale: { initial: 1 } }),
      'steady-trigger.yaml': triggerManifest('steady-events', { subject: 'e2e.steady', function: 'steady', path: '/?sleep=100', delivery: { maxInFlight: 4 } }),
    };
    await withDev(
      manifests,
      async ({ dev, deliveries }) => {
        await waitTriggersReady(dev.admin, ['steady-events']);
        nc = await natsClient(nats.url);
        const ids = Array.from({ length: 60 }, (_, i) => `steady-${i}`);
        for (const id of ids.slice(0, 30)) await publishPlain(nc, 'e2e.steady', id, { id });
        await waitFor('some deliveries before the restart', async () => (await deliveries()).length >= 5);
        const before = (await deliveries()).length;
        await nats.restart();
        for (const id of ids.slice(30)) await publishPlain(nc, 'e2e.steady', id, { id });
        const got = await waitDeliveredIds('all 60 events', deliveries, ids, 60_000);
        assert.ok(before < 30, `the restart came after every event was already delivered (${before})`);
        // Plain NATS messages arrive as CloudEvents: the Nats-Msg-Id is the id.
        assert.equal(got[0]?.headers['ce-type'], 'dev.kfn.nats.message');
        assert.equal(got[0]?.headers['ce-source'], 'nats:e2e.steady');
      },
      ['--nats-url', nats.url],
    );
  } finally {
    await nc?.close();
    await nats.stop();
  }
});

test('kfn dev killed with SIGKILL mid-stream and started again on the same folder and NATS: every event is delivered at least once', async () => {
  const nats = await startNatsServer();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kfn-e2e-kill-'));
  const home = path.join(dir, '.home');
  const flags = [...FLAGS, '--nats-url', nats.url];
  let nc: NatsConnection | undefined;
  let run: DevRun | undefined;
  const outputs: string[] = [];
  try {
    await writeFile(path.join(dir, 'recorder.js'), RECORDER_JS);
    await writeFile(path.join(dir, 'victim.yaml'), functionManifest('victim', 'recorder.js', { RECORD_FILE: 'deliveries.jsonl' }, { scale: { initial: 1 } }));
    await writeFile(
      path.join(dir, 'victim-trigger.yaml'),
      triggerManifest('victim-events', { subject: 'e2e.victim', function: 'victim', path: '/?sleep=100', delivery: { maxInFlight: 4 } }),
    );
    const deliveries = (): Promise<Delivery[]> => readDeliveries(path.join(dir, 'deliveries.jsonl'));
    const ids = Array.from({ length: 80 }, (_, i) => `victim-${i}`);

    run = await runDev(dir, home, flags);
    await waitTriggersReady(run.state.admin, ['victim-events']);
    nc = await natsClient(nats.url);
    for (const id of ids.slice(0, 40)) await publishPlain(nc, 'e2e.victim', id, { id });
    await waitFor('some deliveries before the kill', async () => (await deliveries()).length >= 5);
    await run.kill();
    outputs.push(run.output());
    const before = countById(await deliveries()).size;
    // Published while no dispatcher runs: JetStream keeps them.
    for (const id of ids.slice(40)) await publishPlain(nc, 'e2e.victim', id, { id });

    run = await runDev(dir, home, flags);
    await waitDeliveredIds('all 80 events after the restart', deliveries, ids, 60_000);
    assert.ok(before < 40, `the kill came after every event was already delivered (${before})`);
  } catch (err) {
    if (run) outputs.push(run.output());
    throw new Error(`${(err as Error).message}\n--- kfn dev output (tail) ---\n${outputs.join('\n--- restarted ---\n').slice(-8000)}`, { cause: err });
  } finally {
    await run?.stop();
    await nc?.close();
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

// Publishers that are not kfn: the `nats` package used raw, sending exactly what the
// CloudEvents NATS binding describes. 1.0.2 knows only structured mode ("the NATS message
// payload MUST be the JSON event format", no headers: what the Go SDK sends); 1.0.3 adds
// binary mode with `ce-` headers. A filter and an orderingKey must see their attributes.
test('raw NATS publishers: a header-less structured event and a binary-mode one reach the function with their attributes and exact data', async () => {
  const manifests = {
    ...recorder('raw'),
    'raw-trigger.yaml': triggerManifest('raw-events', { subject: 'e2e.raw.>', function: 'raw', filter: { prefix: { type: 'com.example.raw.' } }, orderingKey: 'orderkey' }),
  };
  await withDev(manifests, async ({ dev, nats, deliveries }) => {
    await waitTriggersReady(dev.admin, ['raw-events']);
    const nc = await natsClient(nats);
    try {
      const data = '{"n": 12345678901234567890, "f": 1.10, "nested": [ {"deep": true} ] }\n';
      // Filtered out by type, published first so they are settled before the others arrive:
      // a structured event of another type, and a plain message.
      nc.publish('e2e.raw.structured', new TextEncoder().encode('{"specversion":"1.0","id":"raw-s-2","source":"/go/producer","type":"com.example.other"}'));
      nc.publish('e2e.raw.plain', new TextEncoder().encode('{"id":"not a CloudEvent"}'));
      // Core NATS publish, as a producer that knows nothing of JetStream would.
      nc.publish('e2e.raw.structured', new TextEncoder().encode(`{"specversion":"1.0","id":"raw-s-1","source":"/go/producer","type":"com.example.raw.created","orderkey":"k-1","datacontenttype":"application/json","data":${data}}`));
      const h = natsHeaders();
      for (const [k, v] of Object.entries({ 'ce-specversion': '1.0', 'ce-id': 'raw-b-1', 'ce-source': '/raw/producer', 'ce-type': 'com.example.raw.updated', 'ce-orderkey': 'k-1', 'ce-datacontenttype': 'application/json' })) h.set(k, v);
      nc.publish('e2e.raw.binary', new TextEncoder().encode(data), { headers: h });
      await nc.flush();
      const got = await waitDeliveredIds('both raw events at the function', deliveries, ['raw-s-1', 'raw-b-1']);
      const structured = got.find((d) => d.headers['ce-id'] === 'raw-s-1');
      assert.deepEqual(structured?.headers, {
        'ce-specversion': '1.0',
        'ce-id': 'raw-s-1',
        'ce-source': '/go/producer',
        'ce-type': 'com.example.raw.created',
        'ce-orderkey': 'k-1',
        'content-type': 'application/json',
      });
      // The newline after the data member is the envelope's, not the data's.
      assert.equal(structured?.body, data.trimEnd());
      const binary = got.find((d) => d.headers['ce-id'] === 'raw-b-1');
      assert.equal(binary?.headers['ce-type'], 'com.example.raw.updated');
      assert.equal(binary?.headers['ce-time'], undefined, 'kfn invents no time');
      assert.equal(binary?.body, data);
      await waitFor('the trigger to count 2 deliveries', async () => (await dev.getTrigger('raw-events')).status?.delivered === 2);
      assert.deepEqual((await deliveries()).map((d) => d.headers['ce-id']).sort(), ['raw-b-1', 'raw-s-1']);
    } finally {
      await nc.close();
    }
  });
});
