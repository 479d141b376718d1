// cmd/dispatcher as a process, against the API server double and a real nats-server whose
// JetStream has no stream yet: the controller puts a Trigger's finalizer on before it
// makes the stream, so a dispatcher serving the Trigger (or one started before the
// controller caught up) waits for the stream. That wait is a state, not a failure: one
// info line, quiet retries, no warn or error line, and the Trigger is served as soon as
// the stream exists.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { ensureStream } from '../../pkg/events/jetstream/stream.js';
import { TRIGGER_FINALIZER } from '../../pkg/reconciler/trigger/names.js';
import { startApiServer, type ApiServer } from '../kube/apiserver.js';
import { startNatsServer, type NatsServer } from '../util/nats.js';
import { waitFor } from '../util/wait.js';

// Under tsx the source runs; from dist/ (npm test) the compiled entry does.
const fromSource = import.meta.url.endsWith('.ts');
const entry = fileURLToPath(new URL(`../../cmd/dispatcher/main.${fromSource ? 'ts' : 'js'}`, import.meta.url));
const nodeArgs = fromSource ? ['--import', 'tsx', entry] : [entry];

interface LogLine {
  level: number;
  msg: string;
}

describe('cmd/dispatcher before the controller has made the stream', () => {
  let server: ApiServer;
  let nats: NatsServer;
  let nc: NatsConnection;
  let dir: string;
  before(async () => {
    [server, nats] = await Promise.all([startApiServer(), startNatsServer()]);
    nc = await connect({ servers: nats.url });
    dir = await mkdtemp(path.join(tmpdir(), 'kfn-dispatcher-wait-'));
  });
  after(async () => {
    await nc.close();
    await Promise.all([server.close(), nats.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('waits for the stream with one info line and quiet retries, then serves the Trigger', async () => {
    const kubeconfig = path.join(dir, 'config');
    await writeFile(kubeconfig, server.kubeConfig().exportConfig());
    server.store.create('functions.kfn.dev', { apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', metadata: { name: 'echo', namespace: 'main' }, spec: { image: 'registry.example/echo:1' } });
    // Taken in by the controller (the finalizer), whose stream comes next.
    server.store.create('triggers.kfn.dev', {
      apiVersion: 'kfn.dev/v1alpha1',
      kind: 'Trigger',
      metadata: { name: 'orders', namespace: 'main', finalizers: [TRIGGER_FINALIZER] },
      spec: { subject: 'orders.new', function: 'echo' },
    });

    const lines: LogLine[] = [];
    let pending = '';
    let stderr = '';
    const child = spawn(process.execPath, [...nodeArgs, '--host', '127.0.0.1', '--port', '0', '--metrics-port', '0'], {
      env: { ...process.env, KUBECONFIG: kubeconfig, NATS_URL: nats.url, KFN_ACTIVATOR_URL: 'http://127.0.0.1:1', KFN_LOG_LEVEL: 'debug', POD_NAME: 'dispatcher-0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.stdout.on('data', (b: Buffer) => {
      pending += b.toString();
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const p of parts) lines.push(JSON.parse(p) as LogLine);
    });
    const exited = once(child, 'exit');
    const count = (re: RegExp): number => lines.filter((l) => re.test(l.msg)).length;
    try {
      await waitFor('the wait announced', () => count(/^waiting for stream KFN: the controller creates it$/) === 1, { timeoutMs: 60_000 });
      await waitFor('retries while waiting', () => count(/^still waiting for stream KFN$/) >= 2, { timeoutMs: 30_000 });
      assert.equal(count(/^waiting for stream KFN/), 1, 'announced once');
      assert.deepEqual(lines.filter((l) => l.level >= 40).map((l) => l.msg), [], 'no warn or error while waiting');

      // What the controller does next.
      await ensureStream(await nc.jetstreamManager(), { name: 'KFN', subjects: ['orders.new'], duplicateWindowMs: 60_000 });
      // Two lines, read from a pipe: each may arrive in a later chunk than the other.
      await waitFor('trigger ready', () => count(/^trigger ready$/) === 1, { timeoutMs: 60_000 });
      await waitFor('the end of the wait said', () => count(/^stream KFN is there$/) === 1, { timeoutMs: 10_000 });
      assert.deepEqual(lines.filter((l) => l.level >= 40).map((l) => l.msg), []);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    assert.equal(child.exitCode, 0, stderr);
  });
});
