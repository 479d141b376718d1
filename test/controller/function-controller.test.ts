// The Function controller end to end against the API server double with the real
// client-node: what a user sees after `kubectl apply`, edits, scale by the autoscaler,
// deletes, watch expiry, conflicts and invalid specs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import type { KfnFunction } from '../../pkg/apis/function/types.js';
import { getCondition } from '../../pkg/apis/function/lifecycle.js';
import { replicasServiceNameOf } from '../../pkg/reconciler/function/names.js';
import { waitFor } from '../util/wait.js';
import { fnApi, mergePatch, startHarness, type Harness } from './harness.js';

describe('Function controller against the API server double', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.stop();
  });

  const deployment = (ns: string, name: string): V1Deployment | undefined => h.server.store.get('deployments', ns, name) as V1Deployment | undefined;
  const service = (ns: string, name: string): V1Service | undefined => h.server.store.get('services', ns, name) as V1Service | undefined;
  const fnStored = (ns: string, name: string): KfnFunction | undefined => h.server.store.get('functions.kfn.dev', ns, name) as KfnFunction | undefined;
  const imageOf = (d: V1Deployment | undefined): string | undefined => d?.spec?.template.spec?.containers[0]?.image;

  it('applying a Function creates its Deployment and both Services, owned by it, and reports status', async () => {
    const created = await h.createFunction('apply', 'hello', { scale: { initial: 2 }, port: 9000 });
    const d = await waitFor('deployment', () => deployment('apply', 'hello'));
    const replicas = await waitFor('replicas service', () => service('apply', 'hello-replicas'));
    const pub = await waitFor('public service', () => service('apply', 'hello'));

    const owner = { apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', name: 'hello', uid: created.metadata.uid, controller: true, blockOwnerDeletion: true };
    for (const child of [d, replicas, pub]) {
      assert.deepEqual(child.metadata?.ownerReferences, [owner]);
      assert.equal(child.metadata?.labels?.['app.kubernetes.io/managed-by'], 'kfn');
    }
    assert.equal(d.spec?.replicas, 2, 'scale.initial on create');
    assert.equal(imageOf(d), 'registry.example/hello:1');
    assert.equal(d.spec?.template.spec?.containers[0]?.ports?.[0]?.containerPort, 9000);
    assert.deepEqual(d.spec?.selector.matchLabels, { 'kfn.dev/function': 'hello' });
    assert.equal(replicas.spec?.clusterIP, 'None');
    assert.deepEqual(replicas.spec?.selector, { 'kfn.dev/function': 'hello' });
    assert.equal(pub.spec?.type, 'ExternalName');
    assert.equal(pub.spec?.externalName, h.cfg.activatorHost);

    const fn = await waitFor('status', () => {
      const f = fnStored('apply', 'hello');
      return f?.status?.observedGeneration === 1 ? f : undefined;
    });
    assert.equal(fn.status?.url, 'http://hello.apply.example.test');
    assert.equal(fn.status?.desiredReplicas, 2);
    assert.equal(getCondition(fn.status, 'Ready')?.status, 'Unknown', 'no replica is ready yet');
  });

  it('the status turns Ready when the Deployment reports a ready replica, and is not rewritten when nothing changed', async () => {
    await h.createFunction('ready', 'hello', {});
    const d = await waitFor('deployment', () => deployment('ready', 'hello'));
    h.server.store.update('deployments', { ...(d as object), status: { replicas: 1, readyReplicas: 1, availableReplicas: 1 } });
    const fn = await waitFor('Ready', () => {
      const f = fnStored('ready', 'hello');
      return getCondition(f?.status, 'Ready')?.status === 'True' ? f : undefined;
    });
    assert.equal(fn.status?.readyReplicas, 1);

    // A label edit makes a reconcile that finds the status unchanged; then one visible
    // change. Reconciles of a key run in order, so one status write in all proves the
    // first reconcile wrote nothing.
    const mark = h.server.requests.length;
    await h.custom.patchNamespacedCustomObject({ ...fnApi, namespace: 'ready', name: 'hello', body: { metadata: { labels: { team: 'a' } } } }, mergePatch);
    await waitFor('label in the cache', () => fnStored('ready', 'hello')?.metadata.labels?.team === 'a');
    const d2 = deployment('ready', 'hello');
    h.server.store.update('deployments', { ...(d2 as object), status: { replicas: 2, readyReplicas: 2, availableReplicas: 2 } });
    await waitFor('2 ready', () => fnStored('ready', 'hello')?.status?.readyReplicas === 2);
    const writes = h.server.requests.slice(mark).filter((r) => r.method === 'PUT' && r.status === 200 && r.path.endsWith('/functions/hello/status'));
    assert.equal(writes.length, 1, 'only the visible change was written');
  });

  it('changing the image updates the Deployment and leaves replicas to the autoscaler', async () => {
    await h.createFunction('image', 'hello', {});
    await waitFor('deployment', () => deployment('image', 'hello'));
    await h.apps.patchNamespacedDeploymentScale({ namespace: 'image', name: 'hello', body: { spec: { replicas: 3 } } }, mergePatch);
    await h.custom.patchNamespacedCustomObject({ ...fnApi, namespace: 'image', name: 'hello', body: { spec: { image: 'registry.example/hello:2' } } }, mergePatch);
    const d = await waitFor('new image', () => {
      const x = deployment('image', 'hello');
      return imageOf(x) === 'registry.example/hello:2' ? x : undefined;
    });
    assert.equal(d.spec?.replicas, 3);
    assert.equal(d.metadata?.annotations?.['kfn.dev/function-generation'], '2');
    await waitFor('observedGeneration 2', () => fnStored('image', 'hello')?.status?.observedGeneration === 2);
  });

  it('a scale written by the autoscaler is not undone', async () => {
    await h.createFunction('scale', 'hello', {});
    // Created and reported: the controller's creation writes (apply, handover, apply) are done.
    await waitFor('status', () => fnStored('scale', 'hello')?.status?.observedGeneration === 1);
    await h.apps.patchNamespacedDeploymentScale({ namespace: 'scale', name: 'hello', body: { spec: { replicas: 5 } }, fieldManager: 'kfn-autoscaler' }, mergePatch);
    const mark = h.server.requests.length;
    // The Deployment's own status change makes the controller reconcile again.
    const d = deployment('scale', 'hello');
    h.server.store.update('deployments', { ...(d as object), status: { replicas: 5, readyReplicas: 5 } });
    const fn = await waitFor('status sees 5 replicas', () => {
      const f = fnStored('scale', 'hello');
      return f?.status?.readyReplicas === 5 ? f : undefined;
    });
    assert.equal(fn.status?.desiredReplicas, 5);
    assert.equal(deployment('scale', 'hello')?.spec?.replicas, 5);
    const deploymentWrites = h.server.requests.slice(mark).filter((r) => r.method !== 'GET' && r.path.includes('/deployments/hello'));
    assert.deepEqual(deploymentWrites, [], 'nothing to write back');
  });

  it('a child deleted or edited by hand is put back', async () => {
    await h.createFunction('drift', 'hello', {});
    await waitFor('children', () => deployment('drift', 'hello') && service('drift', 'hello'));
    await h.apps.deleteNamespacedDeployment({ namespace: 'drift', name: 'hello' });
    await waitFor('deployment recreated', () => deployment('drift', 'hello'));
    const pub = service('drift', 'hello');
    h.server.store.update('services', { ...(pub as object), spec: { ...pub?.spec, externalName: 'elsewhere.example' } });
    await waitFor('service restored', () => service('drift', 'hello')?.spec?.externalName === h.cfg.activatorHost);
  });

  it('children carry owner references, so deleting the Function deletes them', async () => {
    await h.createFunction('gc', 'hello', {});
    await waitFor('children', () => deployment('gc', 'hello') && service('gc', 'hello') && service('gc', 'hello-replicas'));
    await h.custom.deleteNamespacedCustomObject({ ...fnApi, namespace: 'gc', name: 'hello' });
    await waitFor('children gone', () => !deployment('gc', 'hello') && !service('gc', 'hello') && !service('gc', 'hello-replicas'));
  });

  it('a watch that expires (410) relists without missing a change made meanwhile', async () => {
    await h.createFunction('expire', 'hello', {});
    await waitFor('deployment', () => deployment('expire', 'hello'));
    const watchesBefore = h.server.openWatches;
    h.server.expireWatches();
    // Changes while the informers are relisting: one edit, one new Function.
    const stored = fnStored('expire', 'hello');
    assert.ok(stored);
    h.server.store.update('functions.kfn.dev', { ...(stored as object), spec: { ...stored.spec, image: 'registry.example/hello:3' } });
    h.server.store.create('functions.kfn.dev', { apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', metadata: { name: 'late', namespace: 'expire' }, spec: { image: 'registry.example/late:1' } });
    await waitFor('edit applied', () => imageOf(deployment('expire', 'hello')) === 'registry.example/hello:3');
    await waitFor('new function deployed', () => imageOf(deployment('expire', 'late')) === 'registry.example/late:1');
    await waitFor('watches reopened', () => h.server.openWatches >= watchesBefore);
  });

  it('an autoscaler scale landing while the Deployment is being created is kept: the handover yields to it', async () => {
    // The handover apply (kfn-autoscaler, not forced) meets the autoscaler's own scale
    // write and gets a 409, which means the autoscaler already owns replicas.
    h.server.setWriteLatency(20);
    const created = h.createFunction('race', 'hello', { scale: { initial: 2 } });
    await waitFor('deployment', () => deployment('race', 'hello'));
    await h.apps.patchNamespacedDeploymentScale({ namespace: 'race', name: 'hello', body: { spec: { replicas: 6 } }, fieldManager: 'kfn-autoscaler' }, mergePatch);
    h.server.setWriteLatency(0);
    await created;
    await waitFor('status', () => fnStored('race', 'hello')?.status?.observedGeneration === 1);
    assert.equal(deployment('race', 'hello')?.spec?.replicas, 6);
  });

  it('a refused apply (409, 500) is retried with backoff; the autoscaler\'s replicas survive, and a status conflict is retried on a fresh read', async () => {
    await h.createFunction('conflict', 'hello', {});
    await waitFor('status', () => fnStored('conflict', 'hello')?.status?.observedGeneration === 1);
    h.server.failNext('PATCH', /\/namespaces\/conflict\/deployments\/hello$/, 409);
    h.server.failNext('PATCH', /\/namespaces\/conflict\/deployments\/hello$/, 500);
    h.server.failNext('PUT', /\/namespaces\/conflict\/functions\/hello\/status$/, 409);
    await h.apps.patchNamespacedDeploymentScale({ namespace: 'conflict', name: 'hello', body: { spec: { replicas: 4 } }, fieldManager: 'kfn-autoscaler' }, mergePatch);
    const mark = h.server.requests.length;
    await h.custom.patchNamespacedCustomObject({ ...fnApi, namespace: 'conflict', name: 'hello', body: { spec: { image: 'registry.example/hello:2' } } }, mergePatch);
    const d = await waitFor('new image', () => {
      const x = deployment('conflict', 'hello');
      return imageOf(x) === 'registry.example/hello:2' ? x : undefined;
    });
    assert.equal(d.spec?.replicas, 4);
    await waitFor('Ready again, generation 2', () => {
      const f = fnStored('conflict', 'hello');
      return f?.status?.observedGeneration === 2 && getCondition(f.status, 'DeploymentReady')?.reason !== 'ChildWriteFailed';
    });
    const patches = h.server.requests.slice(mark).filter((r) => r.method === 'PATCH' && r.path.endsWith('/deployments/hello')).map((r) => r.status);
    assert.deepEqual(patches.slice(0, 3), [409, 500, 200]);
    const statusPuts = h.server.requests.slice(mark).filter((r) => r.method === 'PUT' && r.path.endsWith('/functions/hello/status')).map((r) => r.status);
    assert.equal(statusPuts[0], 409);
    assert.ok(statusPuts.includes(200));
  });

  it('a failed create (500) is reported in status and retried with backoff until it succeeds', async () => {
    h.server.failNext('PATCH', /\/namespaces\/retry\/deployments\/hello$/, 500, 2);
    const mark = h.server.requests.length;
    await h.createFunction('retry', 'hello', {});
    await waitFor('deployment', () => deployment('retry', 'hello'));
    const patches = h.server.requests.slice(mark).filter((r) => r.method === 'PATCH' && r.path.endsWith('/retry/deployments/hello')).map((r) => r.status);
    assert.deepEqual(patches.slice(0, 3), [500, 500, 201]);
    await waitFor('status past the failure', () => {
      const f = fnStored('retry', 'hello');
      return f?.status?.conditions !== undefined && getCondition(f.status, 'DeploymentReady')?.reason !== 'ChildWriteFailed';
    });
  });

  it('a Function with a 60-character name gets all its children and a status, not a 422 loop', async () => {
    const name = `n${'x'.repeat(58)}0`;
    await h.createFunction('longname', name, {});
    await waitFor('children', () => deployment('longname', name) && service('longname', name) && service('longname', replicasServiceNameOf(name)));
    const fn = await waitFor('status', () => fnStored('longname', name)?.status);
    assert.equal(fn.url, `http://${name}.longname.example.test`);
    assert.ok(h.server.requests.every((r) => r.status !== 422), 'no request was refused as invalid');
  });

  it('an invalid Function gets Ready=False/InvalidSpec naming the field, and nothing is created', async () => {
    // The double has no CRD validation, as a cluster with an older CRD would not.
    h.server.store.create('functions.kfn.dev', {
      apiVersion: 'kfn.dev/v1alpha1',
      kind: 'Function',
      metadata: { name: 'bad', namespace: 'invalid' },
      spec: { image: 'registry.example/bad:1', scale: { min: -1 } },
    });
    const fn = await waitFor('InvalidSpec', () => {
      const f = fnStored('invalid', 'bad');
      return getCondition(f?.status, 'Ready')?.reason === 'InvalidSpec' ? f : undefined;
    });
    const ready = getCondition(fn.status, 'Ready');
    assert.equal(ready?.status, 'False');
    assert.match(ready?.message ?? '', /spec\.scale\.min/);
    assert.equal(deployment('invalid', 'bad'), undefined);
    assert.equal(service('invalid', 'bad'), undefined);
    assert.equal(service('invalid', 'bad-replicas'), undefined);
  });

  it('a child of the same name that the Function does not own is left alone and reported', async () => {
    h.server.store.create('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'taken', namespace: 'owned' }, spec: { type: 'ClusterIP', ports: [{ port: 80 }] } });
    await h.createFunction('owned', 'taken', {});
    const fn = await waitFor('NotOwned', () => {
      const f = fnStored('owned', 'taken');
      return getCondition(f?.status, 'Ready')?.reason === 'NotOwned' ? f : undefined;
    });
    assert.match(getCondition(fn.status, 'Ready')?.message ?? '', /Service owned\/taken/);
    assert.equal(service('owned', 'taken')?.metadata?.ownerReferences, undefined);
  });
});
