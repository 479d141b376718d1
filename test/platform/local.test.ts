// The local platform with real replicas of samples/hello: scaling, draining, crash
// restarts, start failures, rolling updates and a clean close.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { parse } from 'yaml';
import type { KfnFunction } from '../../pkg/apis/function/types.js';
import type { FunctionKey } from '../../pkg/apis/meta.js';
import { LocalPlatform, type LocalPlatformOptions, type ReplicaTiming } from '../../pkg/platform/local/index.js';
import { LOCAL_DIR_ANNOTATION } from '../../pkg/platform/local/launch.js';
import type { EndpointsUpdate, ReadyEndpoint } from '../../pkg/platform/types.js';
import { quietLogger, type Logger } from '../../pkg/shared/log.js';
import { alive } from '../util/process.js';
import { waitFor } from '../util/wait.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const helloDir = path.join(root, 'samples', 'hello');
const key: FunctionKey = { namespace: 'default', name: 'hello' };

function hello(mutate: (fn: KfnFunction) => void = () => {}): KfnFunction {
  const fn = parse(readFileSync(path.join(helloDir, 'function.yaml'), 'utf8')) as KfnFunction;
  fn.metadata.annotations = { ...fn.metadata.annotations, [LOCAL_DIR_ANNOTATION]: helloDir };
  mutate(fn);
  return fn;
}

interface Harness {
  platform: LocalPlatform;
  updates: EndpointsUpdate[];
  timings: ReplicaTiming[];
  /** The last endpoints update of `hello`. */
  last(): EndpointsUpdate | undefined;
}

const open = new Set<LocalPlatform>();

function harness(opts: { log?: Logger; options?: LocalPlatformOptions } = {}): Harness {
  const platform = new LocalPlatform({
    log: opts.log ?? quietLogger(),
    runtimeBinDir: path.join(root, 'bin'),
    options: { drainTimeoutMs: 10_000, ...opts.options },
  });
  open.add(platform);
  const updates: EndpointsUpdate[] = [];
  const timings: ReplicaTiming[] = [];
  platform.watchEndpoints((u) => updates.push(u));
  platform.watchReplicaTimings((t) => timings.push(t));
  return { platform, updates, timings, last: () => updates.filter((u) => u.key.name === key.name).at(-1) };
}

void afterEach(async () => {
  for (const p of open) await p.close();
  open.clear();
});

function readyCount(h: Harness, n: number): Promise<readonly ReadyEndpoint[]> {
  return waitFor(`${n} ready endpoints`, () => {
    const u = h.last();
    return u && u.endpoints.length === n && h.platform.workloadStatus(key)?.readyReplicas === n ? u.endpoints : undefined;
  });
}

interface Reply {
  status: number;
  headers: Record<string, unknown>;
  body: { replica: number; peakInFlight: number; query: Record<string, string> };
}

function call(ep: ReadyEndpoint, pathname = '/'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: ep.host, port: ep.port, path: pathname, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) as Reply['body'] }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}


function pids(h: Harness): number[] {
  return (h.platform.describe(key)?.replicas ?? []).map((r) => r.pid).filter((p): p is number => p !== undefined);
}

/** The platform's share of a cold start is everything but the runtime's own start-up. */
function coldStartDiagnostic(t: TestContext, timings: readonly ReplicaTiming[]): void {
  const ms = (n: number | undefined): string => (n === undefined || Number.isNaN(n) ? '?' : n.toFixed(2));
  for (const x of timings) {
    t.diagnostic(
      `cold start ${x.replica}: scheduled→spawn ${ms(x.spawnedAt - x.scheduledAt)} ms, spawn() call ${ms(x.spawnCallMs)} ms, ` +
        `spawn→node start ${ms(x.processStartedAt && x.processStartedAt - x.spawnedAt)} ms, node start→listening ${ms(x.listeningAfterMs)} ms, ` +
        `listening→ready ${ms(x.listeningAt && x.readyAt - x.listeningAt)} ms, spawn→ready ${ms(x.readyAt - x.spawnedAt)} ms`,
    );
  }
}

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
}

describe('LocalPlatform', () => {
  it('starts nothing until scaled, then serves from one ready replica', async (t) => {
    const h = harness();
    await h.platform.applyFunction(hello());
    assert.deepEqual(h.platform.workloadStatus(key), { desiredReplicas: 0, replicas: 0, readyReplicas: 0, restarts: 0 });
    await h.platform.setScale(key, 1);
    assert.equal(await h.platform.getScale(key), 1);
    const [ep] = await readyCount(h, 1);
    assert.ok(ep);
    assert.equal(ep.host, '127.0.0.1');
    const reply = await call(ep, '/hi?x=1');
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body.query, { x: '1' });
    assert.deepEqual(pids(h), [reply.body.replica]);
    const [timing] = await waitFor('the replica timing', () => h.timings.length === 1 && h.timings);
    assert.ok(timing?.listeningAfterMs !== undefined, 'the runtime reported its own start time');
    coldStartDiagnostic(t, h.timings);
  });

  it('scales to 3 replicas with distinct processes and ports', async () => {
    const h = harness();
    await h.platform.applyFunction(hello());
    await h.platform.setScale(key, 3);
    const eps = await readyCount(h, 3);
    assert.equal(new Set(eps.map((e) => e.port)).size, 3);
    assert.equal(new Set(eps.map((e) => e.id)).size, 3);
    const replicas = await Promise.all(eps.map((e) => call(e).then((r) => r.body.replica)));
    assert.equal(new Set(replicas).size, 3);
    assert.deepEqual(h.platform.workloadStatus(key), { desiredReplicas: 3, replicas: 3, readyReplicas: 3, restarts: 0 });
  });

  it('scaling down removes the newest replica from the endpoints before draining it', async () => {
    const h = harness();
    await h.platform.applyFunction(hello());
    await h.platform.setScale(key, 2);
    const [first, second] = await readyCount(h, 2);
    assert.ok(first && second);
    await h.platform.setScale(key, 1);
    assert.deepEqual(h.last()?.endpoints.map((e) => e.id), [first.id], 'unpublished synchronously, the older one kept');
    await waitFor('one replica left', () => h.platform.workloadStatus(key)?.replicas === 1);
  });

  it('scaling to zero lets the request in flight finish before the replica exits', async () => {
    const h = harness();
    await h.platform.applyFunction(hello());
    await h.platform.setScale(key, 1);
    const [ep] = await readyCount(h, 1);
    assert.ok(ep);
    const pid = pids(h)[0];
    assert.ok(pid);
    const slow = call(ep, '/?sleep=500');
    await waitFor('the slow request to be in flight', async () => (await call(ep, '/peak')).body.peakInFlight >= 1);
    await h.platform.setScale(key, 0);
    assert.deepEqual(h.last()?.endpoints, [], 'out of the endpoints before it is signalled');
    const reply = await slow;
    assert.equal(reply.status, 200);
    assert.equal(reply.body.replica, pid);
    await waitFor('the replica to be gone', () => h.platform.workloadStatus(key)?.replicas === 0 && !alive(pid));
    assert.equal(h.platform.workloadStatus(key)?.restarts, 0);
  });

  it('replaces a replica killed with SIGKILL and counts the restart', async () => {
    const h = harness();
    await h.platform.applyFunction(hello());
    await h.platform.setScale(key, 1);
    const [before] = await readyCount(h, 1);
    assert.ok(before);
    const pid = pids(h)[0];
    assert.ok(pid);
    process.kill(pid, 'SIGKILL');
    const [after] = await waitFor('a replacement', () => {
      const u = h.last();
      return u?.endpoints.length === 1 && u.endpoints[0]?.id !== before.id ? u.endpoints : undefined;
    });
    assert.ok(after);
    assert.notEqual((await call(after)).body.replica, pid);
    const status = h.platform.workloadStatus(key);
    assert.equal(status?.restarts, 1);
    assert.equal(status?.readyReplicas, 1);
    assert.equal(status?.failure, undefined);
    assert.deepEqual(
      (({ replica, reason, signal }) => ({ replica, reason, signal }))(h.platform.describe(key)?.lastTermination ?? { replica: '', reason: '', signal: null }),
      { replica: before.id, reason: 'Killed', signal: 'SIGKILL' },
    );
  });

  it('a command that exits at start fails the function with its output, on status and endpoints', async () => {
    const h = harness();
    await h.platform.applyFunction(
      hello((fn) => {
        fn.spec.command = [process.execPath];
        fn.spec.args = ['-e', 'console.error("config.json: no such file"); process.exit(1)'];
      }),
    );
    await h.platform.setScale(key, 1);
    const failure = await waitFor('the failure', () => h.last()?.failure, { timeoutMs: 30_000 });
    assert.equal(failure.reason, 'ExitedAtStart');
    assert.equal(failure.message, 'replica exited with code 1 before becoming ready, 3 times; last output: config.json: no such file');
    assert.deepEqual(h.last()?.endpoints, []);
    const status = h.platform.workloadStatus(key);
    assert.equal(status?.failure?.reason, 'ExitedAtStart');
    assert.ok((status?.restarts ?? 0) >= 3);

    // Fixing the spec rolls to a revision that starts, and the failure clears.
    await h.platform.applyFunction(hello());
    await readyCount(h, 1);
    assert.equal(h.last()?.failure, undefined);
    assert.equal(h.platform.workloadStatus(key)?.failure, undefined);
  });

  it('a function without a command fails with NoCommand and starts nothing', async () => {
    const h = harness();
    await h.platform.applyFunction(hello((fn) => delete fn.spec.command));
    await h.platform.setScale(key, 1);
    assert.equal(h.last()?.failure?.reason, 'NoCommand');
    assert.match(h.last()?.failure?.message ?? '', /spec\.command/);
    assert.equal(h.platform.workloadStatus(key)?.replicas, 0);
  });

  it('a changed spec rolls the replicas without a gap; the same spec changes nothing', async () => {
    const h = harness();
    await h.platform.applyFunction(hello());
    await h.platform.setScale(key, 2);
    const old = await readyCount(h, 2);
    const oldPids = pids(h);

    await h.platform.applyFunction(hello((fn) => (fn.spec.scale = { max: 5 })));
    assert.equal(h.platform.describe(key)?.revision, 1, 'scale fields do not roll replicas');
    assert.deepEqual(pids(h), oldPids);

    const rollFrom = h.updates.length;
    await h.platform.applyFunction(hello((fn) => (fn.spec.env = [{ name: 'GREETING', value: 'v2' }])));
    assert.equal(h.platform.describe(key)?.revision, 2);
    const oldIds = new Set(old.map((e) => e.id));
    await waitFor('only new replicas', () => {
      const u = h.last();
      return u?.endpoints.length === 2 && u.endpoints.every((e) => !oldIds.has(e.id));
    });
    for (const u of h.updates.slice(rollFrom)) assert.ok(u.endpoints.length >= 2, 'capacity never dropped during the roll');
    await waitFor('the old processes to exit', () => oldPids.every((p) => !alive(p)));
    // A drained replica stays listed until its output has closed, a moment after its exit.
    await waitFor('only revision 2 listed', () => (h.platform.describe(key)?.replicas ?? []).every((r) => r.revision === 2));
  });

  it('takes a replica out of the endpoints while its httpGet probe fails, and back when it passes', async () => {
    // A server whose /healthz can be made to fail from outside.
    const server = `
      let sick = false;
      require('node:http').createServer((req, res) => {
        if (req.url === '/sick') sick = true;
        if (req.url === '/well') sick = false;
        res.writeHead(req.url === '/healthz' && sick ? 503 : 200).end('{}');
      }).listen(Number(process.env.PORT), '127.0.0.1');`;
    const h = harness();
    await h.platform.applyFunction(
      hello((fn) => {
        fn.spec.command = [process.execPath, '-e', server];
        fn.spec.args = [];
        fn.spec.readinessProbe = { httpGet: { path: '/healthz' }, periodSeconds: 1, failureThreshold: 1 };
      }),
    );
    await h.platform.setScale(key, 1);
    const [ep] = await readyCount(h, 1);
    assert.ok(ep);
    await call(ep, '/sick');
    await waitFor('the replica out of the endpoints', () => h.last()?.endpoints.length === 0);
    assert.deepEqual(h.platform.workloadStatus(key), { desiredReplicas: 1, replicas: 1, readyReplicas: 0, restarts: 0 });
    await call(ep, '/well');
    await readyCount(h, 1);
    assert.equal(h.last()?.endpoints[0]?.id, ep.id, 'the same replica, not a new one');
  });

  it('kills a replica that ignores SIGTERM once the drain timeout has passed', async () => {
    const stubborn = `process.on('SIGTERM', () => {}); require('node:http').createServer((q, s) => s.end('{}')).listen(Number(process.env.PORT), '127.0.0.1');`;
    const h = harness({ options: { drainTimeoutMs: 300 } });
    await h.platform.applyFunction(
      hello((fn) => {
        fn.spec.command = [process.execPath, '-e', stubborn];
        fn.spec.args = [];
      }),
    );
    await h.platform.setScale(key, 1);
    await readyCount(h, 1);
    const pid = pids(h)[0];
    assert.ok(pid);
    const started = Date.now();
    await h.platform.setScale(key, 0);
    await waitFor('the replica to be killed', () => h.platform.workloadStatus(key)?.replicas === 0 && !alive(pid));
    assert.ok(Date.now() - started >= 250, 'it was given its drain time first');
    assert.equal(h.platform.workloadStatus(key)?.restarts, 0, 'a drained replica is not a crash');
  });

  it('logs replica output tagged with the function and replica', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    });
    const h = harness({ log: pino({ level: 'info' }, sink).child({ fn: 'default/hello' }) });
    await h.platform.applyFunction(hello());
    await h.platform.setScale(key, 1);
    const [ep] = await readyCount(h, 1);
    const line = await waitFor('the replica listening line', () => lines.find((l) => l.msg === 'listening'));
    assert.equal(line.fn, 'default/hello');
    assert.equal(line.replica, ep?.id);
    assert.equal(line.level, 30);
    assert.equal(typeof line.listeningAfterMs, 'number');
  });

  it('runs a Function with cluster-only env sources and volumes, warning once that they do not apply locally', async () => {
    const warnings: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) {
          const line = JSON.parse(l) as Record<string, unknown>;
          if (line.level === 40) warnings.push(line);
        }
        cb();
      },
    });
    const h = harness({ log: pino({ level: 'warn' }, sink) });
    const withClusterOnly = (): KfnFunction => hello((fn) => {
      fn.spec.env = [...(fn.spec.env ?? []), { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } }];
      fn.spec.envFrom = [{ configMapRef: { name: 'settings' } }];
      fn.spec.volumes = [{ name: 'tls', secret: { secretName: 'tls' } }];
      fn.spec.volumeMounts = [{ name: 'tls', mountPath: '/etc/tls' }];
      fn.spec.serviceAccountName = 'reader';
    });
    await h.platform.applyFunction(withClusterOnly());
    await h.platform.setScale(key, 2);
    await readyCount(h, 2);
    await h.platform.applyFunction(withClusterOnly());
    const notLocal = warnings.filter((w) => Array.isArray(w.fields));
    assert.equal(notLocal.length, 1, JSON.stringify(warnings));
    assert.deepEqual(notLocal[0]?.fields, [
      `spec.env[${(hello().spec.env ?? []).length}].valueFrom: TOKEN is left unset`,
      'spec.envFrom: the 1 Secret/ConfigMap source(s) add no variables',
      'spec.volumeMounts: nothing is mounted at /etc/tls',
    ]);
    assert.equal(h.platform.workloadStatus(key)?.failure, undefined);
  });

  it('tells a new endpoints listener the current state at once', async () => {
    const h = harness();
    await h.platform.applyFunction(hello());
    await h.platform.setScale(key, 1);
    await readyCount(h, 1);
    const seen: EndpointsUpdate[] = [];
    const stop = h.platform.watchEndpoints((u) => seen.push(u));
    stop();
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.endpoints.length, 1);
  });

  it('deleteFunction drains the replicas and forgets the function', async () => {
    const h = harness();
    await h.platform.applyFunction(hello());
    await h.platform.setScale(key, 2);
    await readyCount(h, 2);
    const before = pids(h);
    await h.platform.deleteFunction(key);
    assert.ok(before.every((p) => !alive(p)));
    assert.equal(h.platform.workloadStatus(key), undefined);
    assert.deepEqual(h.last()?.endpoints, []);
    await assert.rejects(h.platform.setScale(key, 1), /no such function/);
  });

  it('close() leaves no process behind', async () => {
    const h = harness();
    await h.platform.applyFunction(hello());
    await h.platform.applyFunction(hello((fn) => (fn.metadata.name = 'hello2')));
    await h.platform.setScale(key, 2);
    await h.platform.setScale({ namespace: 'default', name: 'hello2' }, 1);
    await readyCount(h, 2);
    await waitFor('hello2 ready', () => h.platform.workloadStatus({ namespace: 'default', name: 'hello2' })?.readyReplicas === 1);
    const all = [...pids(h), ...(h.platform.describe({ namespace: 'default', name: 'hello2' })?.replicas ?? []).map((r) => r.pid)];
    assert.equal(all.length, 3);
    await h.platform.close();
    open.delete(h.platform);
    for (const pid of all) assert.ok(pid !== undefined && !alive(pid), `replica ${pid} is gone`);
  });

  it('replicas exit when the platform process is killed without a chance to clean up', async () => {
    const script = `
      import { LocalPlatform } from ${JSON.stringify(new URL('../../pkg/platform/local/index.js', import.meta.url).href)};
      import { quietLogger } from ${JSON.stringify(new URL('../../pkg/shared/log.js', import.meta.url).href)};
      const fn = JSON.parse(process.argv[1]);
      const p = new LocalPlatform({ log: quietLogger(), runtimeBinDir: ${JSON.stringify(path.join(root, 'bin'))} });
      p.watchEndpoints((u) => { if (u.endpoints.length > 0) console.log(JSON.stringify(p.describe(u.key).replicas.map((r) => r.pid))); });
      await p.applyFunction(fn);
      await p.setScale({ namespace: 'default', name: 'hello' }, 1);
    `;
    const parent = spawn(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(hello())], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    parent.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    const [replicaPid] = await waitFor('the replica pid', () => (out.includes('\n') ? (JSON.parse(out.split('\n')[0] ?? '[]') as number[]) : undefined));
    assert.ok(replicaPid && alive(replicaPid));
    const parentGone = new Promise((resolve) => parent.once('exit', resolve));
    parent.kill('SIGKILL');
    await parentGone;
    await waitFor('the orphaned replica to exit', () => !alive(replicaPid), { timeoutMs: 10_000 });
  });

  it('cold starts: scale 0 → 1 five times', async (t) => {
    const h = harness();
    await h.platform.applyFunction(hello());
    for (let i = 0; i < 5; i++) {
      await h.platform.setScale(key, 1);
      await readyCount(h, 1);
      await h.platform.setScale(key, 0);
      await waitFor('zero replicas', () => h.platform.workloadStatus(key)?.replicas === 0);
    }
    await waitFor('five timings', () => h.timings.length === 5);
    coldStartDiagnostic(t, h.timings);
    const p50 = (f: (x: ReplicaTiming) => number): number => median(h.timings.map(f));
    const probeShare = p50((x) => x.readyAt - (x.listeningAt ?? NaN));
    t.diagnostic(
      `p50 of 5: spawn→ready ${p50((x) => x.readyAt - x.spawnedAt).toFixed(2)} ms, ` +
        `node start→listening ${p50((x) => x.listeningAfterMs ?? NaN).toFixed(2)} ms, ` +
        `scheduled→spawn ${p50((x) => x.spawnedAt - x.scheduledAt).toFixed(2)} ms, spawn() call ${p50((x) => x.spawnCallMs).toFixed(2)} ms, ` +
        `listening→ready ${probeShare.toFixed(2)} ms`,
    );
    assert.ok(probeShare < 50, `the probe notices a listening replica quickly (${probeShare} ms)`);
  });
});
