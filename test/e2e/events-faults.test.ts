// Local mode under faults, as a user meets them: the nats-server kfn dev runs is killed,
// a second kfn dev is started on a KFN_HOME in use, and kfn dev is stopped while its NATS
// is gone. Real processes throughout: the built CLI, real nats-servers, a recording function.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { KfnTrigger } from '../../pkg/apis/trigger/types.js';
import { kfnBin, withDev, type DevProcess } from '../util/dev.js';
import { startNatsServer } from '../util/nats.js';
import { alive } from '../util/process.js';
import { waitFor } from '../util/wait.js';
import { RECORDER_JS, binaryEvent, countById, functionManifest, postEvent, readDeliveries, triggerManifest, waitTriggersReady } from './events-util.js';

/** What kfn dev promises for a shutdown with NATS gone (README, local mode). */
const SHUTDOWN_BOUND_MS = 10_000;

interface Info {
  nats?: string;
  natsPid?: number;
}

async function info(dev: DevProcess): Promise<Info> {
  const res = await fetch(`${dev.admin}/api/info`);
  return (await res.json()) as Info;
}

async function healthz(dev: DevProcess): Promise<{ status: number; text: string }> {
  const res = await fetch(`${dev.admin}/healthz`);
  return { status: res.status, text: await res.text() };
}

function readyOf(t: KfnTrigger): { status?: string; reason?: string; message?: string } {
  return t.status?.conditions?.find((c) => c.type === 'Ready') ?? {};
}

/** Waits until every named trigger's Ready condition is False with reason `reason`. */
async function waitTriggersDown(dev: DevProcess, names: readonly string[], reason: string): Promise<KfnTrigger[]> {
  let last: unknown;
  try {
    return await waitFor(
      `triggers ${names.join(', ')} to report ${reason}`,
      async () => {
        const ts = await Promise.all(names.map((n) => dev.getTrigger(n)));
        last = ts.map((t) => t.status);
        return ts.every((t) => readyOf(t).status === 'False' && readyOf(t).reason === reason) ? ts : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 50 },
    );
  } catch (err) {
    throw new Error(`${String(err)}; last statuses: ${JSON.stringify(last)}`, { cause: err });
  }
}

/** kfn dev with a short ack wait, so an event whose ack was lost comes back in seconds. */
function withFastDev(manifests: Record<string, string>, flags: string[], body: (dev: DevProcess) => Promise<void>): Promise<void> {
  return withDev(manifests, ['--ack-wait', '2s', ...flags], body);
}

async function publish(dev: DevProcess, subject: string, id: string): Promise<void> {
  assert.ok(dev.ingress, 'kfn dev runs without its event bus; is nats-server installed?');
  const ev = binaryEvent({ id }, { id });
  const res = await postEvent(dev.ingress, subject, ev.headers, ev.body);
  assert.equal(res.status, 202, `publishing ${id}: ${JSON.stringify(res.body)}`);
}

async function waitDelivered(dev: DevProcess, file: string, ids: readonly string[]): Promise<void> {
  let seen = new Map<string, number>();
  try {
    await waitFor(
      `${ids.join(', ')} in ${file}`,
      async () => {
        seen = countById(await readDeliveries(path.join(dev.dir, file)));
        return ids.every((id) => seen.has(id));
      },
      { timeoutMs: 30_000, intervalMs: 50 },
    );
  } catch (err) {
    throw new Error(`${String(err)}; delivered so far: ${JSON.stringify([...seen.keys()])}`, { cause: err });
  }
}

test('nats-server SIGKILLed under kfn dev: reported down, restarted on the same port and store, and events from before the kill and after recovery are delivered', async () => {
  const manifests = {
    'recorder.js': RECORDER_JS,
    'live.yaml': functionManifest('live', 'recorder.js', { RECORD_FILE: 'live.jsonl' }),
    'live-trigger.yaml': triggerManifest('to-live', { subject: 'faults.kill', function: 'live' }),
    // Its function comes only after the restart: the event stored before the kill waits for it.
    'later-trigger.yaml': triggerManifest('to-later', { subject: 'faults.kill', function: 'later' }),
  };
  await withFastDev(manifests, [], async (dev) => {
    await waitTriggersReady(dev.admin, ['to-live']);
    const before = await info(dev);
    assert.ok(before.nats && before.natsPid, `kfn dev reports its nats-server: ${JSON.stringify(before)}`);
    await publish(dev, 'faults.kill', 'before-kill');
    await waitDelivered(dev, 'live.jsonl', ['before-kill']);

    process.kill(before.natsPid, 'SIGKILL');
    // Down is visible in health and in every trigger's Ready condition while it lasts.
    // The restart may win the race against a poll: then the log must show it went down.
    const down = await waitFor('health to say NATS is down, or a new nats-server', async () => {
      const h = await healthz(dev);
      if (h.status === 503) return h;
      const now = await info(dev);
      return now.natsPid !== undefined && now.natsPid !== before.natsPid ? h : undefined;
    });
    if (down.status === 503) assert.match(down.text, /nats/i);
    await waitFor('the log to say the server died and is restarted', () => /nats-server exited.*restart/i.test(dev.output()));
    // Health always passes through "down" (the connection drops before the server is back), and says so.
    await waitFor('the log to say NATS is unavailable', () => /NATS unavailable: .*nats-server at nats:\/\/127\.0\.0\.1:\d+ exited|NATS unavailable: NATS at/.test(dev.output()));

    const after = await waitFor('a new nats-server', async () => {
      const now = await info(dev);
      return now.natsPid !== undefined && now.natsPid !== before.natsPid && alive(now.natsPid) ? now : undefined;
    });
    assert.equal(after.nats, before.nats, 'the new server listens on the same port');
    await waitFor('health to be ok again', async () => (await healthz(dev)).status === 200);
    await waitFor('the log to say NATS is back', () => /NATS is available again/.test(dev.output()));
    await waitTriggersReady(dev.admin, ['to-live']);

    await publish(dev, 'faults.kill', 'after-restart');
    // The running trigger's consume loop came back by itself.
    await waitDelivered(dev, 'live.jsonl', ['after-restart']);
    // The event JetStream acknowledged before the kill is still in the store.
    await writeFile(path.join(dev.dir, 'later.yaml'), functionManifest('later', 'recorder.js', { RECORD_FILE: 'later.jsonl' }));
    await waitDelivered(dev, 'later.jsonl', ['before-kill', 'after-restart']);
  });
});

test('NATS_URL server stopped: health and triggers say NATS is unavailable, and SIGTERM still ends kfn dev within the bound', async () => {
  const nats = await startNatsServer();
  try {
    const manifests = {
      'recorder.js': RECORDER_JS,
      'f.yaml': functionManifest('f', 'recorder.js', { RECORD_FILE: 'f.jsonl' }),
      't.yaml': triggerManifest('to-f', { subject: 'faults.ext', function: 'f' }),
    };
    await withFastDev(manifests, ['--nats-url', nats.url], async (dev) => {
      await waitTriggersReady(dev.admin, ['to-f']);
      await publish(dev, 'faults.ext', 'ext-1');
      await waitDelivered(dev, 'f.jsonl', ['ext-1']);

      await nats.stop();
      await waitFor('health to say NATS is down', async () => (await healthz(dev)).status === 503);
      const [t] = await waitTriggersDown(dev, ['to-f'], 'NatsUnavailable');
      assert.match(readyOf(t!).message ?? '', new RegExp(nats.url.replaceAll('.', '\\.')), 'the message names the server');
      const listed = await dev.kfn('get', 'triggers');
      assert.match(listed.stdout, /NatsUnavailable/);
      assert.match(listed.stderr, /NATS is unavailable: NATS at nats:\/\/127\.0\.0\.1:\d+ is unreachable/);

      const exited = new Promise<number | null>((resolve) => dev.proc.once('exit', (code) => resolve(code)));
      const t0 = performance.now();
      dev.proc.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), SHUTDOWN_BOUND_MS + 2000).unref())]);
      const took = performance.now() - t0;
      assert.notEqual(code, 'hung', `kfn dev did not exit within ${SHUTDOWN_BOUND_MS + 2000} ms of SIGTERM`);
      assert.ok(took <= SHUTDOWN_BOUND_MS + 1000, `shutdown took ${Math.round(took)} ms`);
    });
  } finally {
    await nats.stop();
  }
});

test('a second kfn dev on a KFN_HOME in use refuses to start, names the folder and pid, and the first keeps delivering', async () => {
  const manifests = {
    'recorder.js': RECORDER_JS,
    'f.yaml': functionManifest('f', 'recorder.js', { RECORD_FILE: 'f.jsonl' }),
    't.yaml': triggerManifest('to-f', { subject: 'faults.two', function: 'f' }),
  };
  await withFastDev(manifests, [], async (dev) => {
    await waitTriggersReady(dev.admin, ['to-f']);
    const first = await info(dev);
    const stateBefore = await readFile(path.join(dev.home, 'dev.json'), 'utf8');

    const second = await runWithin([kfnBin, 'dev', dev.dir, '--port', '0', '--admin-port', '0', '--events-port', '0'], { ...process.env, KFN_HOME: dev.home }, 20_000);
    assert.notEqual(second.code, 0, `the second kfn dev must fail:\n${second.out}`);
    assert.ok(second.out.includes(dev.home), `the message names the folder:\n${second.out}`);
    assert.ok(second.out.includes(String(dev.proc.pid)), `the message names the running pid:\n${second.out}`);

    assert.ok(first.natsPid && alive(first.natsPid), "the first kfn dev's nats-server still runs");
    assert.equal((await info(dev)).natsPid, first.natsPid, 'and was not replaced');
    assert.equal(await readFile(path.join(dev.home, 'dev.json'), 'utf8'), stateBefore, 'dev.json untouched');
    await publish(dev, 'faults.two', 'still-delivering');
    await waitDelivered(dev, 'f.jsonl', ['still-delivering']);
  });
});

/** Runs node with `args` until it exits, or SIGKILLs it after `timeoutMs` (code 'timeout'). */
function runWithin(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | 'timeout'; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      p.kill('SIGKILL');
    }, timeoutMs);
    p.once('error', reject);
    p.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: timedOut ? 'timeout' : (code ?? -1), out });
    });
  });
}
