// --host binds every port a component opens, its /metrics + /healthz port included: the
// activator and the autoscaler as real processes (against the API server double) with
// --host 127.0.0.1 take connections on 127.0.0.1 and refuse them on 127.0.0.2, another
// loopback address of the same machine that 0.0.0.0 (the default) would also serve.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startApiServer, type ApiServer } from '../kube/apiserver.js';
import { waitFor } from '../util/wait.js';

const fromSource = import.meta.url.endsWith('.ts');

/** 'connected' or the error code of a TCP connect to host:port. */
function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

interface Started {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  stderr: () => string;
}

function start(component: string, args: string[], env: Record<string, string>): Started {
  const entry = fileURLToPath(new URL(`../../cmd/${component}/main.${fromSource ? 'ts' : 'js'}`, import.meta.url));
  const child = spawn(process.execPath, [...(fromSource ? ['--import', 'tsx'] : []), entry, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Array<Record<string, unknown>> = [];
  let pending = '';
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  child.stdout?.on('data', (b: Buffer) => {
    pending += b.toString();
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const p of parts) lines.push(JSON.parse(p) as Record<string, unknown>);
  });
  return { child, lines, stderr: () => stderr };
}

describe('--host', () => {
  let server: ApiServer;
  let dir: string;
  let kubeconfig: string;
  before(async () => {
    server = await startApiServer();
    dir = await mkdtemp(path.join(tmpdir(), 'kfn-listen-'));
    kubeconfig = path.join(dir, 'config');
    await writeFile(kubeconfig, server.kubeConfig().exportConfig());
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('binds the main port and the metrics port of the activator and the autoscaler to 127.0.0.1 only', async () => {
    const env = { KUBECONFIG: kubeconfig, KFN_LOG_LEVEL: 'info', KFN_NAMESPACE: 'kfn-system', KFN_AUTOSCALER_URL: 'http://127.0.0.1:1', POD_NAME: 'p-0' };
    const args = ['--host', '127.0.0.1', '--port', '0', '--metrics-port', '0'];
    const runs: Array<[string, Started, string]> = [
      ['activator', start('activator', args, env), 'activator listening'],
      ['autoscaler', start('autoscaler', args, env), 'autoscaler taking stats'],
    ];
    try {
      for (const [component, run, listening] of runs) {
        const main = await waitFor(`${component} listening`, () => run.lines.find((l) => l.msg === listening), { timeoutMs: 60_000 });
        const metrics = await waitFor(`${component} metrics listening`, () => run.lines.find((l) => l.msg === 'metrics and health listening'), { timeoutMs: 60_000 });
        const metricsUrl = new URL(String(metrics.addr));
        assert.equal(metricsUrl.hostname, '127.0.0.1', `${component} metrics: ${String(metrics.addr)}`);
        for (const [what, port] of [['main', Number(main.port)], ['metrics', Number(metricsUrl.port)]] as const) {
          assert.ok(port > 0, `${component} ${what} port`);
          assert.equal(await tryConnect('127.0.0.1', port), 'connected', `${component} ${what} port on 127.0.0.1`);
          assert.equal(await tryConnect('127.0.0.2', port), 'ECONNREFUSED', `${component} ${what} port on 127.0.0.2`);
        }
      }
    } finally {
      for (const [, run] of runs) {
        run.child.kill('SIGTERM');
        if (run.child.exitCode === null && run.child.signalCode === null) await once(run.child, 'exit');
      }
    }
    for (const [component, run] of runs) assert.equal(run.child.exitCode, 0, `${component}: ${run.stderr()}`);
  });
});
