// cmd/controller as a process with NATS_URL: the leader runs the Trigger controller beside
// the Function controller, so a Trigger applied with its Function becomes Ready with its
// consumer in JetStream, and the trigger controller's metrics are served.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { connect, type NatsConnection } from 'nats';
import { getTriggerCondition } from '../../pkg/apis/trigger/lifecycle.js';
import type { KfnTrigger } from '../../pkg/apis/trigger/types.js';
import type { EventBody } from '../../pkg/controller/events/sink.js';
import { startApiServer, type ApiServer } from '../kube/apiserver.js';
import { startNatsServer, type NatsServer } from '../util/nats.js';
import { waitFor } from '../util/wait.js';
import { fnApi } from './harness.js';

const fromSource = import.meta.url.endsWith('.ts');
const entry = fileURLToPath(new URL(`../../cmd/controller/main.${fromSource ? 'ts' : 'js'}`, import.meta.url));
const nodeArgs = fromSource ? ['--import', 'tsx', entry] : [entry];

describe('cmd/controller with Triggers', () => {
  let server: ApiServer;
  let nats: NatsServer;
  let nc: NatsConnection;
  let dir: string;
  before(async () => {
    [server, nats] = await Promise.all([startApiServer(), startNatsServer()]);
    nc = await connect({ servers: nats.url });
    dir = await mkdtemp(path.join(tmpdir(), 'kfn-controller-'));
  });
  after(async () => {
    await nc.close();
    await Promise.all([server.close(), nats.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('reconciles a Trigger to Ready with its consumer, serves its metrics, and exits 0 on SIGTERM', async () => {
    const kubeconfig = path.join(dir, 'config');
    await writeFile(kubeconfig, server.kubeConfig().exportConfig());
    let stderr = '';
    let metricsPort: number | undefined;
    const child = spawn(process.execPath, [...nodeArgs, '--metrics-port', '0', '--lease-duration', '2s', '--renew-deadline', '1s', '--retry-period', '200ms'], {
      env: { ...process.env, KUBECONFIG: kubeconfig, KFN_NAMESPACE: 'kfn-system', POD_NAME: 'controller-0', KFN_LOG_LEVEL: 'info', NATS_URL: nats.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.stdout.on('data', (b: Buffer) => {
      const m = /"addr":"http:\/\/[^"]*:(\d+)"/.exec(b.toString());
      if (m) metricsPort = Number(m[1]);
    });
    const exited = once(child, 'exit');
    try {
      const custom = server.kubeConfig().makeApiClient(CustomObjectsApi);
      await custom.createNamespacedCustomObject({ ...fnApi, namespace: 'main', body: { apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', metadata: { name: 'fulfil' }, spec: { image: 'registry.example/fulfil:1' } } });
      await custom.createNamespacedCustomObject({
        group: 'kfn.dev', version: 'v1alpha1', plural: 'triggers', namespace: 'main',
        body: { apiVersion: 'kfn.dev/v1alpha1', kind: 'Trigger', metadata: { name: 'orders' }, spec: { subject: 'orders.>', function: 'fulfil' } },
      });
      const t = await waitFor('Trigger Ready', () => {
        const s = server.store.get('triggers.kfn.dev', 'main', 'orders') as KfnTrigger | undefined;
        return getTriggerCondition(s?.status, 'Ready')?.status === 'True' ? s : undefined;
      }, { timeoutMs: 30_000 });
      assert.equal(t.status?.consumer, 'kfn_main_orders');
      // `kubectl describe trigger orders` shows it: an events.k8s.io/v1 Event about the Trigger.
      const stored = await waitFor('ConsumerReady Event', () =>
        server.store.list('events.events.k8s.io', 'main').find((e) => (e as { reason?: string }).reason === 'ConsumerReady'),
      );
      const event = stored as unknown as EventBody;
      assert.deepEqual(
        [event.type, event.action, event.reportingController, event.reportingInstance],
        ['Normal', 'EnsureConsumer', 'kfn.dev/controller', 'controller-0'],
      );
      // With the uid, which `kubectl describe` selects the Events on.
      assert.deepEqual(event.regarding, { apiVersion: 'kfn.dev/v1alpha1', kind: 'Trigger', namespace: 'main', name: 'orders', uid: t.metadata.uid });
      const info = await (await nc.jetstreamManager()).consumers.info('KFN', 'kfn_main_orders');
      assert.equal(info.config.filter_subject, 'orders.>');
      const port = await waitFor('metrics port', () => metricsPort);
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(text, /kfn_controller_leader\{controller="trigger"[^}]*\} 1/);
      assert.match(text, /kfn_controller_reconcile_total\{controller="trigger",result="success"/);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    assert.equal(child.exitCode, 0, stderr);
  });
});
