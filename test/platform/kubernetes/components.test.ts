// cmd/activator and cmd/autoscaler wiring against the API server double: Functions,
// EndpointSlices and Deployments in, requests served, stats taken, scale written.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AddressInfo } from 'node:net';
import type { KubernetesObject } from '@kubernetes/client-node';
import { startClusterActivator } from '../../../cmd/activator/start.js';
import { startClusterAutoscaler } from '../../../cmd/autoscaler/start.js';
import { buildStatServer } from '../../../pkg/autoscaler/http.js';
import type { EventRecorder } from '../../../pkg/controller/events/types.js';
import { quietLogger } from '../../../pkg/shared/log.js';
import { RecordingSink, send, startReplica, type TestReplica } from '../../activator/helpers.js';
import { startApiServer, type ApiServer, type KubeObject } from '../../kube/apiserver.js';
import { waitFor } from '../../util/wait.js';
import { deployment, ep, slice } from './fixtures.js';

const kube = (o: KubernetesObject): KubeObject => o as unknown as KubeObject;

function fnObject(namespace: string, name: string, spec: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', metadata: { name, namespace }, spec: { image: 'example/hello:1', ...spec } };
}

describe('cluster components with the API server double', () => {
  let server: ApiServer;
  let replica: TestReplica;

  before(async () => {
    server = await startApiServer();
    replica = await startReplica('r1');
  });

  after(async () => {
    await replica.close();
    await server.close();
  });

  it('the activator routes a Function to its ready replica, reports stats to the autoscaler URL, and unroutes a deleted Function', async () => {
    const sink = new RecordingSink();
    const stats = buildStatServer(sink);
    await stats.listen({ port: 0, host: '127.0.0.1' });
    const statsPort = (stats.server.address() as AddressInfo).port;
    server.store.create('functions.kfn.dev', fnObject('act', 'hello', { containerConcurrency: 2, timeoutSeconds: 10 }));
    server.store.create('endpointslices', kube(slice('hello', [ep('127.0.0.1', { pod: 'r1' })], { namespace: 'act', ports: [{ name: 'http', port: replica.port }] })));
    server.store.create('endpointslices', kube(slice('kfn-activator', [ep('10.1.0.1', { pod: 'act-0' })], { namespace: 'kfn-system', service: 'kfn-activator' })));

    const abort = new AbortController();
    const activator = await startClusterActivator({
      kubeConfig: server.kubeConfig(),
      settings: {
        host: '127.0.0.1',
        port: 0,
        metricsPort: 0,
        domain: 'kfn.local',
        autoscalerUrl: `http://127.0.0.1:${statsPort}`,
        namespace: 'kfn-system',
        activatorService: 'kfn-activator',
        podName: 'act-0',
        queueDepth: undefined,
      },
      log: quietLogger(),
      signal: abort.signal,
    });
    try {
      const byPath = await send(activator.port, { path: '/act/hello/a' });
      assert.equal(byPath.status, 200);
      assert.equal(byPath.headers['x-replica'], 'r1');
      const byHost = await send(activator.port, { path: '/b', headers: { host: 'hello.act.kfn.local' } });
      assert.equal(byHost.status, 200);
      await waitFor('stats at the autoscaler', () => sink.stats.find((s) => s.key.namespace === 'act' && s.source === 'activator/act-0'));

      server.store.delete('functions.kfn.dev', 'act', 'hello');
      await waitFor('unrouted', async () => (await send(activator.port, { path: '/act/hello/' })).status === 404);
    } finally {
      abort.abort();
      await activator.done;
      await stats.close();
    }
  });

  it('the autoscaler sums two activators’ stats and writes the scale of the Function’s Deployment', async () => {
    server.store.create('functions.kfn.dev', fnObject('as', 'hello', { scale: { target: 1, targetUtilization: 100 } }));
    server.store.create('deployments', { ...kube(deployment('hello', { namespace: 'as', replicas: 1 })), status: { replicas: 1, readyReplicas: 1 } });
    const abort = new AbortController();
    const scaler = await startClusterAutoscaler({
      kubeConfig: server.kubeConfig(),
      config: { tickIntervalMs: 50, stableWindowMs: 6000, bucketMs: 1000 },
      port: 0,
      host: '127.0.0.1',
      log: quietLogger(),
      signal: abort.signal,
    });
    try {
      const key = { namespace: 'as', name: 'hello' };
      const time = Date.now();
      const res = await fetch(`http://127.0.0.1:${scaler.port}/stats`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([
          { key, source: 'activator/a', averageConcurrency: 3, requestCount: 3, time },
          { key, source: 'activator/b', averageConcurrency: 3, requestCount: 3, time },
        ]),
      });
      assert.equal(res.status, 200);
      // 3 + 3 in flight, target 1 at 100% → 6 replicas.
      await waitFor('scale written', () => (server.store.get('deployments', 'as', 'hello')?.spec as { replicas?: number } | undefined)?.replicas === 6);
      assert.equal(scaler.autoscaler.status(key)?.desiredReplicas, 6);
    } finally {
      abort.abort();
      await scaler.done;
    }
  });

  it('the autoscaler records ScaledFromZero on a cold start and ScaledToZero when idle, on the Function with its uid', async () => {
    const fn = server.store.create('functions.kfn.dev', fnObject('ev', 'hello', { scale: { target: 1, targetUtilization: 100 } }));
    server.store.create('deployments', { ...kube(deployment('hello', { namespace: 'ev', replicas: 0 })), status: { replicas: 0, readyReplicas: 0 } });
    const events: string[] = [];
    const recorder: EventRecorder = { record: (r, type, reason, action, note) => void (r.namespace === 'ev' && events.push(`${r.kind} ${r.namespace}/${r.name} ${r.uid ?? '-'} ${type} ${reason} ${action}: ${note}`)) };
    const abort = new AbortController();
    const scaler = await startClusterAutoscaler({
      kubeConfig: server.kubeConfig(),
      config: { tickIntervalMs: 50, stableWindowMs: 1000, bucketMs: 100, scaleToZeroGracePeriodMs: 0, initialScale: 0 },
      port: 0,
      host: '127.0.0.1',
      log: quietLogger(),
      recorder,
      signal: abort.signal,
    });
    const replicas = (): number | undefined => (server.store.get('deployments', 'ev', 'hello')?.spec as { replicas?: number } | undefined)?.replicas;
    try {
      assert.equal((await fetch(`http://127.0.0.1:${scaler.port}/poke/ev/hello`, { method: 'POST' })).status, 202);
      await waitFor('scaled from zero', () => replicas() === 1);
      await waitFor('ScaledFromZero recorded', () => events.length === 1);
      assert.match(events[0]!, new RegExp(`^Function ev/hello ${fn.metadata.uid} Normal ScaledFromZero Scale: replicas 0 → 1: cold start`));
      await waitFor('scaled to zero', () => replicas() === 0, { timeoutMs: 30_000 });
      await waitFor('ScaledToZero recorded', () => events.length === 2);
      assert.match(events[1]!, /^Function ev\/hello \S+ Normal ScaledToZero Scale: replicas 1 → 0: scaled to zero: no traffic/);
    } finally {
      abort.abort();
      await scaler.done;
    }
    assert.equal(events.length, 2, 'nothing for writes that neither start from nor end at zero');
  });

  it('the activator records ActivationFailed on the Function for requests refused because it cannot start, one Event per reason', async () => {
    const fn = server.store.create('functions.kfn.dev', {
      ...fnObject('fail', 'broken'),
      status: { conditions: [{ type: 'DeploymentReady', status: 'False', reason: 'CrashLoop', message: 'container exits with code 1', lastTransitionTime: '2026-12-03T12:00:00Z' }] },
    });
    const events: string[] = [];
    const recorder: EventRecorder = { record: (r, type, reason, action, note) => void events.push(`${r.kind} ${r.namespace}/${r.name} ${r.uid ?? '-'} ${type} ${reason} ${action}: ${note}`) };
    const abort = new AbortController();
    const activator = await startClusterActivator({
      kubeConfig: server.kubeConfig(),
      settings: { host: '127.0.0.1', port: 0, metricsPort: 0, domain: 'kfn.local', autoscalerUrl: 'http://127.0.0.1:1', namespace: 'kfn-system', activatorService: 'kfn-activator', podName: 'act-0', queueDepth: undefined },
      log: quietLogger(),
      recorder,
      signal: abort.signal,
    });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await send(activator.port, { path: '/fail/broken/' })).status, 503);
      const want = `Function fail/broken ${fn.metadata.uid} Warning ActivationFailed Activate: requests get 503 because the function cannot start: CrashLoop: container exits with code 1`;
      // Told once per refused request, with the same note: the recorder makes that one Event with a count.
      assert.deepEqual(events, [want, want, want]);
    } finally {
      abort.abort();
      await activator.done;
    }
  });
});
