// The serving path end to end, as a user runs it: `kfn dev` on a folder of manifests,
// real replicas (the hello sample), real HTTP through the activator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { helloManifest, withDev, type DevProcess } from '../util/dev.js';
import { count, describe, get, runLoad } from '../util/load.js';
import { waitFor } from '../util/wait.js';

// Short windows so scaling happens in seconds: a 3 s stable window (panic window 1.5 s),
// a 1 s grace period before the last replica goes, decisions every 500 ms.
const FAST = ['--stable-window', '3s', '--panic-window-percentage', '50', '--scale-to-zero-grace', '1s', '--tick', '500ms'];

function withServingDev(manifests: Record<string, string>, body: (dev: DevProcess) => Promise<void>, flags = FAST): Promise<void> {
  return withDev(manifests, flags, body);
}

const ready = (fn: { status?: { readyReplicas?: number } }, n = 1): boolean => (fn.status?.readyReplicas ?? 0) >= n;
const atZero = (fn: { status?: { readyReplicas?: number; desiredReplicas?: number; replicas?: number } }): boolean =>
  (fn.status?.desiredReplicas ?? -1) === 0 && (fn.status?.readyReplicas ?? -1) === 0 && (fn.status?.replicas ?? -1) === 0;

test('200 concurrent requests to a function at zero replicas all get 200, and it is at one or more after', async () => {
  await withServingDev({ 'cold.yaml': helloManifest('cold', { scale: { initial: 0 } }) }, async (dev) => {
    const before = await dev.waitStatus('cold to be registered at zero', 'cold', (fn) => atZero(fn) && fn.status?.url !== undefined);
    assert.equal(before.status?.readyReplicas, 0);

    const r = await runLoad({ url: `${dev.activator}/default/cold/`, concurrency: 200, requests: 200 });
    assert.equal(count(r, 200), 200, describe(r));

    const after = await dev.get('cold');
    assert.ok((after.status?.readyReplicas ?? 0) >= 1, JSON.stringify(after.status));
  });
});

test('sustained load with containerConcurrency 2 scales to 3 or more replicas and no replica ever has more than 2 in flight', async () => {
  await withServingDev({ 'cc.yaml': helloManifest('cc', { containerConcurrency: 2, scale: { initial: 0 } }) }, async (dev) => {
    // 6 clients of 150 ms requests against a target of 2 × 70 % = 1.4 per replica: ~5 replicas wanted.
    let scaled = false;
    const load = runLoad({ url: `${dev.activator}/default/cc/?sleep=150`, concurrency: 6, until: () => scaled, maxMs: 60_000 });
    await dev.waitStatus('cc to reach 3 ready replicas', 'cc', (fn) => ready(fn, 3), 45_000);
    scaled = true;
    const r = await load;
    assert.equal(count(r, 200), r.total, describe(r));
    assert.ok(r.peakInFlight <= 2, `a replica reported ${r.peakInFlight} requests in flight: ${describe(r)}`);
    assert.ok(r.replicas.size >= 3, `served by ${r.replicas.size} replicas`);
  });
});

test('a load that runs across a scale-down loses no request, and the function returns to zero when the load stops', async () => {
  await withServingDev({ 'down.yaml': helloManifest('down', { containerConcurrency: 2, scale: { initial: 0 } }) }, async (dev) => {
    let phase: 'high' | 'low' | 'done' = 'high';
    const high = runLoad({ url: `${dev.activator}/default/down/?sleep=100`, concurrency: 6, until: () => phase !== 'high', maxMs: 60_000 });
    const low = runLoad({ url: `${dev.activator}/default/down/?sleep=100`, concurrency: 1, until: () => phase === 'done', maxMs: 90_000 });
    const peak = await dev.waitStatus('down to scale up to 3', 'down', (fn) => ready(fn, 3), 45_000);
    phase = 'low';
    // One client left: the autoscaler takes replicas away while it keeps sending.
    await dev.waitStatus(
      'down to scale down while the load goes on',
      'down',
      (fn) => (fn.status?.replicas ?? 99) < (peak.status?.readyReplicas ?? 0) && (fn.status?.replicas ?? 99) <= 2,
      45_000,
    );
    phase = 'done';
    const [h, l] = await Promise.all([high, low]);
    assert.equal(count(h, 200), h.total, `high phase: ${describe(h)}`);
    assert.equal(count(l, 200), l.total, `low phase: ${describe(l)}`);
    await dev.waitStatus('down to return to zero', 'down', atZero, 30_000);
  });
});

test('a replica killed with SIGKILL under load is replaced, status shows the restart, and only its in-flight requests fail', async () => {
  await withServingDev({ 'kill.yaml': helloManifest('kill', { containerConcurrency: 2, scale: { min: 2, initial: 2 } }) }, async (dev) => {
    await dev.waitStatus('kill to have 2 ready replicas', 'kill', (fn) => ready(fn, 2));
    let stop = false;
    const load = runLoad({ url: `${dev.activator}/default/kill/?sleep=50`, concurrency: 4, until: () => stop, maxMs: 60_000 });
    // The victim is a replica that is serving right now.
    const victim = await waitFor('a replica to answer', async () => {
      const r = await get(`${dev.activator}/default/kill/`);
      return r.status === 200 ? Number(r.headers['x-kfn-replica']) : undefined;
    });
    process.kill(victim, 'SIGKILL');
    const restarted = await dev.waitStatus('the restart to show in status', 'kill', (fn) => (fn.status?.restarts ?? 0) >= 1 && ready(fn, 2));
    stop = true;
    const r = await load;
    // At most containerConcurrency (2) requests were on the killed replica; nothing else fails.
    const failed = r.total - count(r, 200);
    assert.ok(failed <= 2, `${failed} requests failed: ${describe(r)}`);
    assert.ok(count(r, 200) > 0, describe(r));
    const deployment = restarted.status?.conditions?.find((c) => c.type === 'DeploymentReady');
    assert.equal(deployment?.status, 'True', JSON.stringify(restarted.status));
  });
});

test('a function whose process exits at start fails waiting requests fast with 503 naming the reason, and status says why', async () => {
  const crash = helloManifest('crash', { args: ['crash.js'], timeoutSeconds: 120, scale: { initial: 0 } });
  await withServingDev({ 'crash.yaml': crash, 'crash.js': "console.error('boom: missing DATABASE_URL');\nprocess.exit(3);\n" }, async (dev) => {
    await dev.waitStatus('crash to be registered', 'crash', (fn) => fn.status?.url !== undefined);
    const started = Date.now();
    const res = await get(`${dev.activator}/default/crash/`);
    assert.equal(res.status, 503, res.body);
    assert.match(res.body, /ExitedAtStart/);
    // Long before the 120 s request timeout: the failure is reported, not waited out.
    assert.ok(Date.now() - started < 60_000);
    const fn = await dev.waitStatus('crash status to say why', 'crash', (f) =>
      Boolean(f.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'False' && c.reason === 'ExitedAtStart')),
    );
    const readyCond = fn.status?.conditions?.find((c) => c.type === 'Ready');
    assert.match(readyCond?.message ?? '', /boom: missing DATABASE_URL/);
  });
});

test('past the buffer bound a request gets 503 with Retry-After while the function starts', async () => {
  const slow = helloManifest('slow', { args: ['slow.js'], scale: { initial: 0 } });
  // Starts listening only after 3 s, so requests queue in the activator meanwhile.
  const slowStart = "await new Promise((r) => setTimeout(r, 3000));\nexport { default } from './handler.js';\n";
  await withServingDev({ 'slow.yaml': slow, 'slow.js': slowStart }, async (dev) => {
    await dev.waitStatus('slow to be registered', 'slow', (fn) => fn.status?.url !== undefined);
    const results = await Promise.all(Array.from({ length: 8 }, () => get(`${dev.activator}/default/slow/`)));
    const rejected = results.filter((r) => r.status === 503);
    const served = results.filter((r) => r.status === 200);
    assert.equal(served.length, 4, JSON.stringify(results.map((r) => r.status)));
    assert.equal(rejected.length, 4);
    for (const r of rejected) assert.ok(Number(r.headers['retry-after']) >= 1, JSON.stringify(r.headers));
  }, [...FAST, '--queue-depth', '4']);
});

test('an unknown function gets 404 naming it', async () => {
  await withServingDev({}, async (dev) => {
    const res = await get(`${dev.activator}/default/nope/`);
    assert.equal(res.status, 404);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.deepEqual(JSON.parse(res.body), { error: { code: 'function_not_found', message: 'function default/nope not found' } });
  });
});

test('scale-to-zero status: a function at zero is Ready with Active=False NoTraffic', async () => {
  await withServingDev({ 'idle.yaml': helloManifest('idle', { scale: { initial: 0 } }) }, async (dev) => {
    const fn = await dev.waitStatus('idle at zero', 'idle', atZero);
    assert.equal(fn.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True', JSON.stringify(fn.status));
    const active = fn.status?.conditions?.find((c) => c.type === 'Active');
    assert.equal(active?.status, 'False');
    assert.equal(active?.reason, 'NoTraffic');
  });
});
