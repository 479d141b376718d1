// cmd/controller as a process: KUBECONFIG from the environment, leader election in
// KFN_NAMESPACE under POD_NAME, reconciling, /metrics, and a SIGTERM that releases the Lease.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { startApiServer, type ApiServer } from '../kube/apiserver.js';
import { waitFor } from '../util/wait.js';
import { fnApi } from './harness.js';

// Under tsx the source runs; from dist/ (npm test) the compiled entry does.
const fromSource = import.meta.url.endsWith('.ts');
const entry = fileURLToPath(new URL(`../../cmd/controller/main.${fromSource ? 'ts' : 'js'}`, import.meta.url));
const nodeArgs = fromSource ? ['--import', 'tsx', entry] : [entry];

describe('cmd/controller', () => {
  let server: ApiServer;
  let dir: string;
  before(async () => {
    server = await startApiServer();
    dir = await mkdtemp(path.join(tmpdir(), 'kfn-controller-'));
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('leads, reconciles a Function, serves /metrics, and releases the Lease on SIGTERM', async () => {
    const kubeconfig = path.join(dir, 'config');
    await writeFile(kubeconfig, server.kubeConfig().exportConfig());
    let stderr = '';
    let metricsPort: number | undefined;
    const child: ChildProcess = spawn(process.execPath, [...nodeArgs, '--metrics-port', '0', '--lease-duration', '2s', '--renew-deadline', '1s', '--retry-period', '200ms'], {
      env: { ...process.env, KUBECONFIG: kubeconfig, KFN_NAMESPACE: 'kfn-system', POD_NAME: 'controller-0', KFN_LOG_LEVEL: 'info', KFN_DOMAIN: 'example.test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    child.stdout?.on('data', (b: Buffer) => {
      const m = /"addr":"http:\/\/[^"]*:(\d+)"/.exec(b.toString());
      if (m) metricsPort = Number(m[1]);
    });
    const exited = once(child, 'exit');
    try {
      const custom = server.kubeConfig().makeApiClient(CustomObjectsApi);
      await custom.createNamespacedCustomObject({ ...fnApi, namespace: 'main', body: { apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', metadata: { name: 'hello' }, spec: { image: 'registry.example/hello:1' } } });
      await waitFor('deployment', () => server.store.get('deployments', 'main', 'hello'), { timeoutMs: 30_000 });
      const lease = server.store.get('leases', 'kfn-system', 'kfn-controller') as { spec?: { holderIdentity?: string } } | undefined;
      assert.equal(lease?.spec?.holderIdentity, 'controller-0');
      const fn = await waitFor('status url', () => (server.store.get('functions.kfn.dev', 'main', 'hello') as { status?: { url?: string } } | undefined)?.status?.url);
      assert.equal(fn, 'http://hello.main.example.test');
      const port = await waitFor('metrics port', () => metricsPort);
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(text, /kfn_controller_leader\{controller="function"[^}]*\} 1/);
      assert.match(text, /kfn_controller_reconcile_total\{controller="function",result="success"/);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    assert.equal(child.exitCode, 0, stderr);
    const released = server.store.get('leases', 'kfn-system', 'kfn-controller') as { spec?: { holderIdentity?: string } } | undefined;
    assert.equal(released?.spec?.holderIdentity, undefined, 'released on SIGTERM');
  });

  it('a bad flag fails start-up naming the flag', async () => {
    const child = spawn(process.execPath, [...nodeArgs, '--lease-duration', 'soon'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 2);
    assert.match(stderr, /--lease-duration/);
  });
});
