// cmd/dispatcher as a process, against the API server double, a real nats-server and a
// small HTTP server standing in for the activator: a Trigger the controller has taken in
// is served, an event POSTed to the ingress reaches the function as a CloudEvent, counts
// reach the stats bucket, a deleted Trigger's loop stops while its consumer stays (the
// controller removes it), SIGTERM exits cleanly, and SIGKILL mid-stream loses nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type JetStreamClient, type JetStreamManager, type KV, type NatsConnection } from 'nats';
import { openTriggerStats, readTriggerStats } from '../../pkg/events/dispatcher/stats-kv.js';
import { ensureStream } from '../../pkg/events/jetstream/stream.js';
import { TRIGGER_FINALIZER } from '../../pkg/reconciler/trigger/names.js';
import { event, FunctionServer, header, publish } from '../events/dispatcher/harness.js';
import { startApiServer, type ApiServer } from '../kube/apiserver.js';
import { startNatsServer, type NatsServer } from '../util/nats.js';
import { waitFor } from '../util/wait.js';

// Under tsx the source runs; from dist/ (npm test) the compiled entry does.
const fromSource = import.meta.url.endsWith('.ts');
const entry = fileURLToPath(new URL(`../../cmd/dispatcher/main.${fromSource ? 'ts' : 'js'}`, import.meta.url));
const nodeArgs = fromSource ? ['--import', 'tsx', entry] : [entry];
const STREAM = 'KFN';

interface Running {
  child: ChildProcess;
  exited: Promise<unknown>;
  /** Every log line so far. */
  lines: string[];
  stderr(): string;
  ingressPort(): Promise<number>;
  metricsPort(): Promise<number>;
}

describe('cmd/dispatcher', () => {
  let server: ApiServer;
  let nats: NatsServer;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let kv: KV;
  let fn: FunctionServer;
  let activatorUrl: string;
  let dir: string;
  let kubeconfig: string;
  before(async () => {
    [server, nats] = await Promise.all([startApiServer(), startNatsServer()]);
    nc = await connect({ servers: nats.url, maxReconnectAttempts: -1 });
    js = nc.jetstream();
    jsm = await nc.jetstreamManager();
    kv = await openTriggerStats(js);
    fn = new FunctionServer();
    activatorUrl = await fn.listen();
    dir = await mkdtemp(path.join(tmpdir(), 'kfn-dispatcher-'));
    kubeconfig = path.join(dir, 'config');
    await writeFile(kubeconfig, server.kubeConfig().exportConfig());
  });
  after(async () => {
    await nc.close();
    await fn.close();
    await Promise.all([server.close(), nats.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  function start(podName: string): Running {
    const lines: string[] = [];
    let stderr = '';
    let pending = '';
    const child = spawn(process.execPath, nodeArgs, {
      env: {
        ...process.env,
        KUBECONFIG: kubeconfig,
        NATS_URL: nats.url,
        KFN_ACTIVATOR_URL: activatorUrl,
        KFN_PORT: '0',
        KFN_METRICS_PORT: '0',
        KFN_ACK_WAIT: '2s',
        KFN_STATS_INTERVAL: '100ms',
        KFN_LOG_LEVEL: 'info',
        POD_NAME: podName,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    child.stdout?.on('data', (b: Buffer) => {
      pending += b.toString();
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      lines.push(...parts);
    });
    const logged = (re: RegExp): Promise<string> => waitFor(`log ${String(re)}`, () => lines.find((l) => re.test(l)), { timeoutMs: 30_000 });
    return {
      child,
      exited: once(child, 'exit'),
      lines,
      stderr: () => stderr,
      ingressPort: async () => (JSON.parse(await logged(/"msg":"dispatcher started"/)) as { port: number }).port,
      metricsPort: async () => Number(/"addr":"http:\/\/[^"]*:(\d+)"/.exec(await logged(/"addr":"http/))?.[1]),
    };
  }

  async function stop(r: Running, signal: NodeJS.Signals): Promise<void> {
    if (r.child.exitCode !== null || r.child.signalCode !== null) return;
    r.child.kill(signal);
    await r.exited;
  }

  /** What the controller does before the dispatcher serves a Trigger: the stream, and the finalizer. */
  async function apply(namespace: string, trigger: string, subject: string, delivery: Record<string, unknown> = {}): Promise<void> {
    await ensureStream(jsm, { name: STREAM, subjects: [subject], duplicateWindowMs: 60_000 });
    if (!server.store.get('functions.kfn.dev', namespace, 'echo')) {
      server.store.create('functions.kfn.dev', { apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', metadata: { name: 'echo', namespace }, spec: { image: 'registry.example/echo:1' } });
    }
    server.store.create('triggers.kfn.dev', {
      apiVersion: 'kfn.dev/v1alpha1',
      kind: 'Trigger',
      metadata: { name: trigger, namespace, finalizers: [TRIGGER_FINALIZER] },
      spec: { subject, function: 'echo', path: '/in', delivery: { retries: 5, backoff: { policy: 'linear', delay: '100ms', maxDelay: '1s' }, ...delivery } },
    });
  }

  it('serves a Trigger: an event POSTed to the ingress reaches the function through the activator URL, counts reach the bucket, SIGTERM exits 0', async () => {
    await apply('main', 'orders', 'orders.new');
    const d = start('dispatcher-0');
    try {
      const port = await d.ingressPort();
      const health = await waitFor('healthz 200', async () => (await fetch(`http://127.0.0.1:${await d.metricsPort()}/healthz`)).status === 200);
      assert.ok(health);
      await waitFor('trigger ready', () => d.lines.some((l) => l.includes('"msg":"trigger ready"') && l.includes('main/orders')));
      const res = await fetch(`http://127.0.0.1:${port}/orders.new`, {
        method: 'POST',
        headers: { 'ce-specversion': '1.0', 'ce-id': 'order-1', 'ce-source': '/shop', 'ce-type': 'order.created', 'content-type': 'application/json' },
        body: JSON.stringify({ id: 1 }),
      });
      assert.equal(res.status, 202, await res.text());
      const got = await waitFor('delivery', () => fn.forId('order-1')[0]);
      assert.equal(got.path, '/main/echo/in');
      assert.equal(header(got.headers, 'ce-type'), 'order.created');
      assert.deepEqual(JSON.parse(got.body.toString()), { id: 1 });
      await waitFor('counts in the bucket', async () => (await readTriggerStats(kv, { namespace: 'main', name: 'orders' })).delivered === 1);
      const metrics = await (await fetch(`http://127.0.0.1:${await d.metricsPort()}/metrics`)).text();
      assert.match(metrics, /kfn_dispatcher_events_total\{namespace="main",trigger="orders",outcome="delivered"[^}]*\} 1/);

      // Deleted (the finalizer holds it): the loop stops, the consumer stays for the controller.
      server.store.delete('triggers.kfn.dev', 'main', 'orders');
      await waitFor('trigger stopped', () => d.lines.some((l) => l.includes('"msg":"trigger stopped"') && l.includes('main/orders')));
      assert.ok(await jsm.consumers.info(STREAM, 'kfn_main_orders'), 'the consumer is the controller\'s to remove');
    } finally {
      await stop(d, 'SIGTERM');
    }
    assert.equal(d.child.exitCode, 0, d.stderr());
    assert.ok(d.lines.some((l) => l.includes('"msg":"stopped"')), 'an orderly shutdown');
  });

  it('killed with SIGKILL mid-stream and started again, delivers every event at least once', async () => {
    await apply('kill', 'orders', 'kill.orders', { maxInFlight: 10 });
    fn.behaviour = () => ({ status: 200, delayMs: 30 });
    const events = Array.from({ length: 200 }, (_, i) => event({ id: `kill-${i}` }));
    const first = start('dispatcher-kill');
    let second: Running | undefined;
    try {
      await first.ingressPort();
      for (const e of events) await publish(js, 'kill.orders', e);
      await waitFor('some deliveries before the kill', () => events.filter((e) => fn.forId(e.attributes.id).length > 0).length >= 40, { timeoutMs: 30_000 });
      await stop(first, 'SIGKILL');
      const deliveredBefore = events.filter((e) => fn.forId(e.attributes.id).length > 0).length;
      assert.ok(deliveredBefore < events.length, `killed mid-stream (${deliveredBefore} of ${events.length} delivered)`);
      // What the killed process last wrote; deliveries since its last write are not in it.
      const countedAtKill = (await readTriggerStats(kv, { namespace: 'kill', name: 'orders' })).delivered;

      second = start('dispatcher-kill');
      await waitFor('every event delivered', () => events.every((e) => fn.forId(e.attributes.id).length >= 1), { timeoutMs: 60_000 });
      // Acks of the events in flight at the kill were lost; those come back after the ack wait, once more.
      await waitFor('nothing left pending on the consumer', async () => {
        const info = await jsm.consumers.info(STREAM, 'kfn_kill_orders');
        return info.num_pending === 0 && info.num_ack_pending === 0;
      }, { timeoutMs: 30_000 });
      // The restarted process, under the same pod name, adds to what was stored rather than starting again at zero.
      const want = countedAtKill + (events.length - deliveredBefore);
      await waitFor(`counts carried on: >= ${want}`, async () => (await readTriggerStats(kv, { namespace: 'kill', name: 'orders' })).delivered >= want);
    } finally {
      fn.behaviour = () => ({ status: 200 });
      await stop(first, 'SIGKILL');
      if (second) await stop(second, 'SIGTERM');
    }
    assert.equal(second.child.exitCode, 0, second.stderr());
  });

  it('a bad flag fails start-up naming the flag', async () => {
    const child = spawn(process.execPath, [...nodeArgs, '--activator-url', 'not a url'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 2);
    assert.match(stderr, /--activator-url/);
  });
});
