// The cluster backend's roles against the API server double, through the real
// client-node: the endpoints the activator is told, the scale the autoscaler writes, the
// status it reads.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { FunctionKey } from '../../../pkg/apis/meta.js';
import { KubernetesEndpoints } from '../../../pkg/platform/kubernetes/endpoints-watcher.js';
import { KubernetesScale } from '../../../pkg/platform/kubernetes/scale.js';
import { KubernetesWorkloadStatuses } from '../../../pkg/platform/kubernetes/workloads.js';
import { WorkloadNotFoundError, type EndpointsUpdate, type Workloads } from '../../../pkg/platform/types.js';
import { quietLogger } from '../../../pkg/shared/log.js';
import { startApiServer, type ApiServer, type KubeObject } from '../../kube/apiserver.js';
import { waitFor } from '../../util/wait.js';
import { deployment, ep, slice } from './fixtures.js';

const kube = (o: KubernetesObject): KubeObject => o as unknown as KubeObject;

/** The endpoint ids the latest update for `key` carried, or undefined before any. */
function latest(updates: readonly EndpointsUpdate[], key: FunctionKey): string[] | undefined {
  const u = updates.findLast((x) => x.key.namespace === key.namespace && x.key.name === key.name);
  return u?.endpoints.map((e) => e.id);
}

describe('the cluster roles with the API server double', () => {
  let server: ApiServer;
  let endpoints: KubernetesEndpoints;
  let scale: KubernetesScale;
  let workloads: KubernetesWorkloadStatuses;

  before(async () => {
    server = await startApiServer();
    const opts = { kubeConfig: server.kubeConfig(), log: quietLogger() };
    endpoints = new KubernetesEndpoints(opts);
    scale = new KubernetesScale(opts.kubeConfig);
    workloads = new KubernetesWorkloadStatuses(opts);
    await Promise.all([endpoints.start(), workloads.start()]);
  });

  after(async () => {
    await Promise.all([endpoints.close(), workloads.close()]);
    await server.close();
  });

  describe('watchEndpoints', () => {
    it('reflects EndpointSlices created, updated and deleted', async () => {
      const key = { namespace: 'ep1', name: 'hello' };
      const updates: EndpointsUpdate[] = [];
      const stop = endpoints.watchEndpoints((u) => updates.push(u));
      try {
        const created = server.store.create('endpointslices', kube(slice('hello', [ep('10.0.0.1', { pod: 'hello-a' })], { namespace: 'ep1' })));
        await waitFor('the first replica', () => latest(updates, key)?.join() === 'hello-a');
        assert.deepEqual(updates.at(-1)?.endpoints, [{ id: 'hello-a', host: '10.0.0.1', port: 8080 }]);

        server.store.update('endpointslices', { ...created, endpoints: [ep('10.0.0.1', { pod: 'hello-a' }), ep('10.0.0.2', { pod: 'hello-b' })] });
        await waitFor('the second replica', () => latest(updates, key)?.join() === 'hello-a,hello-b');

        server.store.delete('endpointslices', 'ep1', created.metadata.name);
        await waitFor('no replicas', () => latest(updates, key)?.length === 0);
        assert.deepEqual(
          updates.filter((u) => u.key.namespace === 'ep1').map((u) => u.endpoints.map((e) => e.id).join()),
          ['hello-a', 'hello-a,hello-b', ''],
          'one update per change, none repeated',
        );
      } finally {
        stop();
      }
    });

    it('drops a replica at once when it turns not ready, and when it starts terminating', async () => {
      const key = { namespace: 'ep2', name: 'hello' };
      const updates: EndpointsUpdate[] = [];
      const stop = endpoints.watchEndpoints((u) => updates.push(u));
      try {
        const created = server.store.create('endpointslices', kube(slice('hello', [ep('10.0.0.1', { pod: 'a' }), ep('10.0.0.2', { pod: 'b' })], { namespace: 'ep2' })));
        await waitFor('two replicas', () => latest(updates, key)?.join() === 'a,b');
        const before = updates.length;
        server.store.update('endpointslices', { ...created, endpoints: [ep('10.0.0.1', { pod: 'a', ready: false }), ep('10.0.0.2', { pod: 'b' })] });
        await waitFor('a gone', () => latest(updates, key)?.join() === 'b');
        assert.equal(updates.length, before + 1, 'the very next update already leaves a out');
        const current = server.store.get('endpointslices', 'ep2', created.metadata.name);
        assert.ok(current);
        server.store.update('endpointslices', { ...current, endpoints: [ep('10.0.0.2', { pod: 'b', terminating: true })] });
        await waitFor('b gone', () => latest(updates, key)?.length === 0);
      } finally {
        stop();
      }
    });

    it('tells a new listener the current endpoints at once, and ignores slices of Services kfn does not manage', async () => {
      server.store.create('endpointslices', kube(slice('hello', [ep('10.0.0.7', { pod: 'c' })], { namespace: 'ep3' })));
      const foreign = slice('other', [ep('10.0.0.8')], { namespace: 'ep3' });
      delete foreign.metadata?.labels?.['app.kubernetes.io/managed-by'];
      server.store.create('endpointslices', kube(foreign));
      const probe: EndpointsUpdate[] = [];
      await waitFor('the slice in the cache', () => {
        const stop = endpoints.watchEndpoints((u) => probe.push(u));
        stop();
        return latest(probe, { namespace: 'ep3', name: 'hello' })?.join() === 'c';
      });
      const seen: EndpointsUpdate[] = [];
      endpoints.watchEndpoints((u) => seen.push(u))();
      assert.deepEqual(latest(seen, { namespace: 'ep3', name: 'hello' }), ['c']);
      assert.equal(latest(seen, { namespace: 'ep3', name: 'other' }), undefined);
    });

    it('keeps watching after the watch expires, and sees what changed meanwhile', async () => {
      const key = { namespace: 'ep4', name: 'hello' };
      const updates: EndpointsUpdate[] = [];
      const stop = endpoints.watchEndpoints((u) => updates.push(u));
      try {
        const created = server.store.create('endpointslices', kube(slice('hello', [ep('10.0.0.1', { pod: 'a' })], { namespace: 'ep4' })));
        await waitFor('a', () => latest(updates, key)?.join() === 'a');
        server.expireWatches();
        server.store.update('endpointslices', { ...created, endpoints: [ep('10.0.0.2', { pod: 'b' })] });
        await waitFor('b after the relist', () => latest(updates, key)?.join() === 'b');
        server.store.create('endpointslices', kube(slice('hello', [ep('10.0.0.3', { pod: 'c' })], { namespace: 'ep4', name: 'second' })));
        await waitFor('the watch is back', () => latest(updates, key)?.join() === 'b,c');
      } finally {
        stop();
      }
    });
  });

  describe('watch failures', () => {
    it('a watch refused with a 500 is restarted, and the endpoints catch up', async () => {
      const key = { namespace: 'ep5', name: 'hello' };
      const updates: EndpointsUpdate[] = [];
      const stop = endpoints.watchEndpoints((u) => updates.push(u));
      try {
        const created = server.store.create('endpointslices', kube(slice('hello', [ep('10.0.0.1', { pod: 'a' })], { namespace: 'ep5' })));
        await waitFor('a', () => latest(updates, key)?.join() === 'a');
        server.failNext('GET', /endpointslices$/, 500, 1);
        server.expireWatches();
        server.store.update('endpointslices', { ...created, endpoints: [ep('10.0.0.2', { pod: 'b' })] });
        await waitFor('b after the restart', () => latest(updates, key)?.join() === 'b', { timeoutMs: 15_000 });
        assert.ok(server.requests.some((r) => r.status === 500 && r.path.endsWith('/endpointslices')), 'the failure was served');
      } finally {
        stop();
      }
    });
  });

  describe('scale', () => {
    it('setScale writes the scale subresource with a merge patch; getScale reads it', async () => {
      const key = { namespace: 'sc1', name: 'hello' };
      server.store.create('deployments', kube(deployment('hello', { namespace: 'sc1', replicas: 1 })));
      assert.equal(await scale.getScale(key), 1);
      server.clearRequests();
      await scale.setScale(key, 4);
      const write = server.requests.find((r) => r.method === 'PATCH');
      assert.equal(write?.path, '/apis/apps/v1/namespaces/sc1/deployments/hello/scale');
      assert.equal((server.store.get('deployments', 'sc1', 'hello')?.spec as { replicas?: number }).replicas, 4);
      assert.equal(await scale.getScale(key), 4);
      await scale.setScale(key, 0);
      assert.equal(await scale.getScale(key), 0);
    });

    it('setScale of a function without a Deployment fails naming the function, as WorkloadNotFoundError; getScale says undefined', async () => {
      const key = { namespace: 'sc2', name: 'ghost' };
      await assert.rejects(scale.setScale(key, 1), (err: Error) => {
        // The autoscaler takes this one quietly for a new Function (its Deployment comes next).
        assert.ok(err instanceof WorkloadNotFoundError, err.name);
        assert.match(err.message, /sc2\/ghost/);
        assert.match(err.message, /no Deployment ghost in namespace sc2/);
        return true;
      });
      assert.equal(await scale.getScale(key), undefined);
    });

    it('other API failures are errors that carry the status', async () => {
      server.store.create('deployments', kube(deployment('hello', { namespace: 'sc3' })));
      server.failNext('PATCH', /\/scale$/, 500);
      await assert.rejects(scale.setScale({ namespace: 'sc3', name: 'hello' }, 2), (err: Error) => !(err instanceof WorkloadNotFoundError) && /setScale sc3\/hello: API server answered 500/.test(err.message));
      await assert.rejects(scale.setScale({ namespace: 'sc3', name: 'hello' }, -1), /whole number/);
    });
  });

  describe('workload status', () => {
    it('follows the Deployment: desired, replicas, ready; watchStatus fires on each change', async () => {
      const key = { namespace: 'st1', name: 'hello' };
      const changed: string[] = [];
      const stop = workloads.watchStatus((k) => changed.push(`${k.namespace}/${k.name}`));
      try {
        const created = server.store.create('deployments', kube(deployment('hello', { namespace: 'st1', replicas: 2 })));
        await waitFor('status', () => workloads.workloadStatus(key));
        assert.deepEqual(workloads.workloadStatus(key), { desiredReplicas: 2, replicas: 0, readyReplicas: 0, restarts: 0 });
        server.store.update('deployments', { ...created, status: { replicas: 2, readyReplicas: 1 } });
        await waitFor('one ready', () => workloads.workloadStatus(key)?.readyReplicas === 1);
        assert.ok(changed.filter((k) => k === 'st1/hello').length >= 2);
        server.store.delete('deployments', 'st1', 'hello');
        await waitFor('forgotten', () => workloads.workloadStatus(key) === undefined);
      } finally {
        stop();
      }
    });

    it('no cluster role creates or removes workloads: that is the controller’s job, and the types say so', () => {
      // Compile-time proof: if a cluster class ever filled the Workloads role again (and so
      // had to refuse its calls), these lines would stop compiling.
      // @ts-expect-error KubernetesWorkloadStatuses reads Deployments; it cannot make them
      const asWorkloads: Workloads = workloads;
      // @ts-expect-error the scale subresource changes replicas only
      const scaleAsWorkloads: Workloads = scale;
      assert.equal('applyFunction' in asWorkloads, false);
      assert.equal('deleteFunction' in scaleAsWorkloads, false);
    });
  });
});
