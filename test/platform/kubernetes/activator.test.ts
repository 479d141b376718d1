// The activator fed from a cluster: createActivator, with KubernetesEndpoints.watchEndpoints
// (through the ActivatorFeed) telling it the ready replicas. Real HTTP replicas on port 0
// are published as EndpointSlices in the API server double.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import { ActivatorFeed } from '../../../pkg/platform/kubernetes/activator-feed.js';
import { KubernetesEndpoints } from '../../../pkg/platform/kubernetes/endpoints-watcher.js';
import type { EndpointsUpdate } from '../../../pkg/platform/types.js';
import { quietLogger } from '../../../pkg/shared/log.js';
import { hello, send, startActivator, startReplica, type Harness, type TestReplica } from '../../activator/helpers.js';
import { startApiServer, type ApiServer, type KubeObject } from '../../kube/apiserver.js';
import { waitFor } from '../../util/wait.js';
import { ep, slice } from './fixtures.js';

const kube = (o: KubernetesObject): KubeObject => o as unknown as KubeObject;

/** A slice of hello's replicas Service listing one local replica. */
function replicaSlice(name: string, r: TestReplica, ready = true): KubeObject {
  return kube(slice('hello', [ep('127.0.0.1', { pod: r.name, ready })], { name, ports: [{ name: 'http', port: r.port }] }));
}

describe('activator fed by KubernetesEndpoints.watchEndpoints', () => {
  let server: ApiServer;
  let platform: KubernetesEndpoints;
  const replicas: TestReplica[] = [];
  const harnesses: Harness[] = [];

  before(async () => {
    server = await startApiServer();
    platform = new KubernetesEndpoints({ kubeConfig: server.kubeConfig(), log: quietLogger() });
    await platform.start();
  });

  after(async () => {
    await Promise.all(harnesses.map((h) => h.close()));
    await platform.close();
    await Promise.all(replicas.map((r) => r.close()));
    await server.close();
  });

  async function replica(name: string): Promise<TestReplica> {
    const r = await startReplica(name);
    replicas.push(r);
    return r;
  }

  it('routes to a replica once its slice says ready; when it turns not ready, requests wait and then go to the next', async () => {
    const h = await startActivator();
    harnesses.push(h);
    const feed = new ActivatorFeed(h.act, 'activator-0');
    platform.watchEndpoints((u) => feed.updateEndpoints(u));
    // Registered after the feed: by the time this hears an update, the activator has it.
    const updates: EndpointsUpdate[] = [];
    platform.watchEndpoints((u) => updates.push(u));
    const heard = (ids: string): boolean => updates.at(-1)?.endpoints.map((e) => e.id).join() === ids;
    feed.upsertFunction(hello, { containerConcurrency: 1, timeoutSeconds: 20 });

    const r1 = await replica('r1');
    const s1 = server.store.create('endpointslices', replicaSlice('hello-replicas-1', r1));
    await waitFor('r1 ready', () => heard('r1'));
    const first = await send(h.port, { path: '/default/hello/x' });
    assert.equal(first.status, 200);
    assert.equal(first.headers['x-replica'], 'r1');
    assert.equal(first.json().url, '/x');

    server.store.update('endpointslices', { ...s1, endpoints: [ep('127.0.0.1', { pod: 'r1', ready: false })] });
    await waitFor('r1 not ready', () => heard(''));
    const pokesBefore = h.sink.pokes.length;
    const waiting = send(h.port, { path: '/default/hello/y' });
    // The activator asks the autoscaler for a replica when a request has none to go to.
    await waitFor('the request waits', () => h.sink.pokes.length > pokesBefore);
    assert.equal(r1.seen.length, 1, 'nothing more reached r1');

    const r2 = await replica('r2');
    server.store.create('endpointslices', replicaSlice('hello-replicas-2', r2));
    const second = await waiting;
    assert.equal(second.status, 200);
    assert.equal(second.headers['x-replica'], 'r2');
    assert.equal(r1.seen.length, 1);
  });

  it('two activators sharing two replicas of a containerConcurrency 1 function never put two requests on one replica', async () => {
    const key = { namespace: 'shared', name: 'hello' };
    const [a0, a1] = await Promise.all([startActivator(), startActivator()]);
    assert.ok(a0 && a1);
    harnesses.push(a0, a1);
    const seen: EndpointsUpdate[] = [];
    for (const [h, self] of [
      [a0, 'activator-0'],
      [a1, 'activator-1'],
    ] as const) {
      const feed = new ActivatorFeed(h.act, self);
      feed.setPeers(['activator-0', 'activator-1']);
      feed.upsertFunction(key, { containerConcurrency: 1, timeoutSeconds: 20 });
      platform.watchEndpoints((u) => feed.updateEndpoints(u));
    }
    platform.watchEndpoints((u) => seen.push(u));
    const [ra, rb] = await Promise.all([replica('sa'), replica('sb')]);
    assert.ok(ra && rb);
    for (const [name, r] of [
      ['s-a', ra],
      ['s-b', rb],
    ] as const) {
      server.store.create('endpointslices', kube(slice('hello', [ep('127.0.0.1', { pod: r.name })], { namespace: 'shared', name, ports: [{ name: 'http', port: r.port }] })));
    }
    await waitFor('both replicas published', () => seen.filter((u) => u.key.namespace === 'shared').at(-1)?.endpoints.length === 2);

    // Three held requests through each activator: six callers, two replicas, one slot each.
    const calls = [a0, a0, a0, a1, a1, a1].map((h) => send(h.port, { path: '/shared/hello/?hold' }));
    await waitFor('each replica holds one request', () => ra.inFlight === 1 && rb.inFlight === 1);
    assert.equal(ra.maxInFlight, 1);
    assert.equal(rb.maxInFlight, 1);
    ra.openGate();
    rb.openGate();
    const replies = await Promise.all(calls);
    assert.deepEqual(
      replies.map((r) => r.status),
      [200, 200, 200, 200, 200, 200],
    );
    assert.equal(ra.maxInFlight, 1, 'replica sa never had two requests at once');
    assert.equal(rb.maxInFlight, 1, 'replica sb never had two requests at once');
    // Each activator kept to its own replica.
    assert.deepEqual(new Set(replies.slice(0, 3).map((r) => r.headers['x-replica'])).size, 1);
    assert.deepEqual(new Set(replies.slice(3).map((r) => r.headers['x-replica'])).size, 1);
  });
});
