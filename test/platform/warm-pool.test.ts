// Warm runtimes of the local platform, with real processes: a replica that takes one sees
// exactly what a freshly spawned replica sees, the pool refills and closes cleanly, and
// specs that a warm runtime cannot honour get a fresh process; a warm replica serves on
// the port its runtime held, and is ready only once its handler is.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { KfnFunction, Probe } from '../../pkg/apis/function/types.js';
import type { FunctionKey } from '../../pkg/apis/meta.js';
import { LocalPlatform, type ReplicaTiming } from '../../pkg/platform/local/index.js';
import { LOCAL_DIR_ANNOTATION } from '../../pkg/platform/local/launch.js';
import { fitsWarmRuntime } from '../../pkg/platform/local/warm-pool.js';
import type { EndpointsUpdate, ReadyEndpoint } from '../../pkg/platform/types.js';
import { quietLogger } from '../../pkg/shared/log.js';
import { alive } from '../util/process.js';
import { waitFor } from '../util/wait.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('fitsWarmRuntime', () => {
  const cases: { name: string; command: string; env: Record<string, string>; want: boolean }[] = [
    { name: 'kfn-node-runtime with plain env', command: 'kfn-node-runtime', env: { GREETING: 'hi', TZ: 'UTC' }, want: true },
    { name: 'kfn-node-runtime, no env', command: 'kfn-node-runtime', env: {}, want: true },
    { name: 'another command', command: 'node', env: {}, want: false },
    { name: 'a path to a runtime: not necessarily ours', command: './bin/kfn-node-runtime', env: {}, want: false },
    { name: 'NODE_OPTIONS is read at start', command: 'kfn-node-runtime', env: { NODE_OPTIONS: '--max-old-space-size=64' }, want: false },
    { name: 'NODE_EXTRA_CA_CERTS is read at start', command: 'kfn-node-runtime', env: { NODE_EXTRA_CA_CERTS: '/ca.pem' }, want: false },
    { name: 'UV_THREADPOOL_SIZE is read at start', command: 'kfn-node-runtime', env: { UV_THREADPOOL_SIZE: '8' }, want: false },
    { name: 'SSL_CERT_FILE is read by OpenSSL at start', command: 'kfn-node-runtime', env: { SSL_CERT_FILE: '/c.pem' }, want: false },
    { name: 'LANG and LC_* set the locale at start', command: 'kfn-node-runtime', env: { LC_ALL: 'C' }, want: false },
    { name: 'a name that only contains NODE_', command: 'kfn-node-runtime', env: { MY_NODE_NAME: 'a' }, want: true },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.want}`, () => assert.equal(fitsWarmRuntime({ command: c.command, env: c.env }), c.want));
  }
});

describe('warm runtimes', () => {
  let dir: string;
  const open = new Set<LocalPlatform>();

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kfn-warm-'));
    // What a replica can see of its process.
    writeFileSync(
      path.join(dir, 'whoami.mjs'),
      `export default function whoami() {
  return {
    pid: process.pid,
    cwd: process.cwd(),
    args: process.argv.slice(2),
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'PORT')),
    stackTraceLimit: Error.stackTraceLimit,
  };
}
`,
    );
    // Loads for a while: a replica that took connections to its port as readiness would
    // be sent requests before this is done.
    writeFileSync(path.join(dir, 'slow.mjs'), `await new Promise((r) => setTimeout(r, 400));\nexport default () => 'loaded';\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    for (const p of open) await p.close();
    open.clear();
  });

  function fn(name: string, env: Record<string, string> = {}, module = 'whoami.mjs', readinessProbe?: Probe): KfnFunction {
    return {
      apiVersion: 'kfn.dev/v1alpha1',
      kind: 'Function',
      metadata: { name, namespace: 'default', annotations: { [LOCAL_DIR_ANNOTATION]: dir } },
      spec: {
        image: 'whoami',
        command: ['kfn-node-runtime'],
        args: [module],
        env: Object.entries(env).map(([n, value]) => ({ name: n, value })),
        scale: { initial: 0 },
        ...(readinessProbe ? { readinessProbe } : {}),
      },
    };
  }

  function platform(warmRuntimes: number): { platform: LocalPlatform; ready(key: FunctionKey): Promise<ReadyEndpoint> } {
    const p = new LocalPlatform({
      log: quietLogger(),
      runtimeBinDir: path.join(root, 'bin'),
      options: { warmRuntimes, warmRefillDelayMs: 0, drainTimeoutMs: 5000 },
    });
    open.add(p);
    const last = new Map<string, EndpointsUpdate>();
    p.watchEndpoints((u) => last.set(u.key.name, u));
    return {
      platform: p,
      ready: (key) => waitFor(`a ready replica of ${key.name}`, () => last.get(key.name)?.endpoints[0]),
    };
  }

  /** The pid of a warm runtime waiting to be taken. */
  function warmPid(p: LocalPlatform): Promise<number> {
    return waitFor('a warm runtime', () => p.warmRuntimes().find((r) => r.warm)?.pid);
  }


  function text(ep: ReadyEndpoint): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = request({ host: ep.host, port: ep.port, path: '/', agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => resolve(res.statusCode === 200 ? body : `status ${res.statusCode}: ${body}`));
      });
      req.on('error', reject);
      req.end();
    });
  }

  async function whoami(ep: ReadyEndpoint): Promise<{ pid: number; cwd: string; args: string[]; env: Record<string, string>; stackTraceLimit: number }> {
    return JSON.parse(await text(ep)) as never;
  }

  it('a replica of kfn-node-runtime is a warm runtime, with the folder, environment and arguments a fresh process gets', async () => {
    const warm = platform(1);
    const fresh = platform(0);
    const key = { namespace: 'default', name: 'whoami' };
    const spec = fn('whoami', { GREETING: 'hello', TZ: 'UTC' });
    const pid = await warmPid(warm.platform);
    for (const p of [warm.platform, fresh.platform]) {
      await p.applyFunction(spec);
      await p.setScale(key, 1);
    }
    const [a, b] = await Promise.all([whoami(await warm.ready(key)), whoami(await fresh.ready(key))]);
    assert.equal(a.pid, pid, 'the replica is the runtime that was waiting');
    assert.notEqual(b.pid, pid);
    assert.equal(a.cwd, b.cwd);
    assert.deepEqual(a.args, ['whoami.mjs']);
    assert.deepEqual(a.args, b.args);
    assert.equal(a.env.GREETING, 'hello');
    assert.equal(a.env.KFN_RUNTIME_POOL, undefined);
    assert.deepEqual(Object.keys(a.env).sort(), Object.keys(b.env).sort());
    for (const name of ['GREETING', 'TZ', 'K_SERVICE', 'K_REVISION', 'KFN_HOST', 'PATH', 'KFN_DRAIN_TIMEOUT_MS']) {
      assert.equal(a.env[name], b.env[name], name);
    }
    const replica = await waitFor('the replica', () => warm.platform.describe(key)?.replicas[0]);
    assert.equal(replica.pid, pid);
  });

  it('reports a warm replica in its timings, its own start counted from the assignment', async () => {
    const w = platform(1);
    const timings: ReplicaTiming[] = [];
    w.platform.watchReplicaTimings((t) => timings.push(t));
    const key = { namespace: 'default', name: 'whoami' };
    await warmPid(w.platform);
    await w.platform.applyFunction(fn('whoami'));
    await w.platform.setScale(key, 1);
    await w.ready(key);
    const t = await waitFor('a replica timing', () => timings[0]);
    assert.equal(t.warm, true);
    assert.ok(t.processStartedAt !== undefined && t.processStartedAt >= t.spawnedAt, 'its start is the assignment, after the platform sent it');
  });

  it('replaces a taken warm runtime, and close() stops the one waiting', async () => {
    const w = platform(1);
    const key = { namespace: 'default', name: 'whoami' };
    const first = await warmPid(w.platform);
    await w.platform.applyFunction(fn('whoami'));
    await w.platform.setScale(key, 1);
    assert.equal((await whoami(await w.ready(key))).pid, first);
    const second = await waitFor('a new warm runtime', () => w.platform.warmRuntimes().find((r) => r.warm && r.pid !== first)?.pid);
    await w.platform.close();
    open.delete(w.platform);
    assert.equal(alive(first), false, 'the replica was drained');
    assert.equal(alive(second), false, 'the waiting runtime was stopped');
  });

  it('gives a spec that sets NODE_OPTIONS a fresh process, and node reads it', async () => {
    const w = platform(1);
    const key = { namespace: 'default', name: 'opts' };
    const pid = await warmPid(w.platform);
    await w.platform.applyFunction(fn('opts', { NODE_OPTIONS: '--stack-trace-limit=7' }));
    await w.platform.setScale(key, 1);
    const me = await whoami(await w.ready(key));
    assert.notEqual(me.pid, pid);
    assert.equal(me.stackTraceLimit, 7);
    assert.ok(w.platform.warmRuntimes().some((r) => r.pid === pid), 'the warm runtime is still waiting');
  });

  it('serves a warm replica on the port its runtime held, and not before its handler is loaded', async () => {
    const w = platform(1);
    const key = { namespace: 'default', name: 'slow' };
    const held = await waitFor('a warm runtime holding a port', () => w.platform.warmRuntimes().find((r) => r.warm));
    await w.platform.applyFunction(fn('slow', {}, 'slow.mjs'));
    await w.platform.setScale(key, 1);
    const ep = await w.ready(key);
    assert.equal(ep.port, held.port);
    // Sent the moment it is ready, as the activator sends the requests it holds.
    assert.equal(await text(ep), 'loaded');
  });

  it('waits out initialDelaySeconds even when the runtime says it listens', async () => {
    const w = platform(1);
    const key = { namespace: 'default', name: 'delayed' };
    const timings: ReplicaTiming[] = [];
    w.platform.watchReplicaTimings((t) => timings.push(t));
    await warmPid(w.platform);
    await w.platform.applyFunction(fn('delayed', {}, 'whoami.mjs', { tcpSocket: {}, initialDelaySeconds: 1 }));
    await w.platform.setScale(key, 1);
    await w.ready(key);
    const t = await waitFor('a replica timing', () => timings[0]);
    assert.equal(t.warm, true);
    assert.ok(t.listeningSeenAt !== undefined && t.listeningSeenAt - t.spawnedAt < 1000, 'it listened well before the delay');
    assert.ok(t.readyAt - t.spawnedAt >= 1000, `ready ${Math.round(t.readyAt - t.spawnedAt)} ms after the start, not before the 1 s delay`);
  });

  it('replaces a warm runtime that dies while it waits', async () => {
    const w = platform(1);
    const pid = await warmPid(w.platform);
    process.kill(pid, 'SIGKILL');
    const next = await waitFor('another warm runtime', () => w.platform.warmRuntimes().find((r) => r.warm && r.pid !== pid)?.pid);
    assert.notEqual(next, pid);
  });
});
