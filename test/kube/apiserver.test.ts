// Proves the API server double against the real @kubernetes/client-node: CRUD, errors,
// subresources, informers through watch expiry, garbage collection and lease conflicts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  V1MicroTime,
  Watch,
  makeInformer,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type V1Deployment,
  type V1Lease,
} from '@kubernetes/client-node';
import { startApiServer, type ApiServer } from './apiserver.js';

const NS = 'default';
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const fnApi = { group: 'kfn.dev', version: 'v1alpha1', plural: 'functions', namespace: NS };

function deployment(name: string, opts: { labels?: Record<string, string>; replicas?: number; owner?: { kind: string; name: string; uid: string } } = {}): V1Deployment {
  const labels = opts.labels ?? { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: NS,
      labels,
      ...(opts.owner ? { ownerReferences: [{ apiVersion: 'kfn.dev/v1alpha1', controller: true, ...opts.owner }] } : {}),
    },
    spec: {
      replicas: opts.replicas ?? 1,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'user', image: 'example/hello:1' }] } },
    },
  };
}

interface ApiFailure {
  code: number;
  status: { kind: string; apiVersion: string; status: string; reason: string; code: number; message: string; details?: Record<string, unknown> };
}

/** Awaits a client call that must fail, and returns the HTTP code and the parsed Status body. */
async function failureOf(call: Promise<unknown>): Promise<ApiFailure> {
  try {
    await call;
  } catch (err) {
    const e = err as { code?: number; body?: unknown };
    assert.equal(typeof e.code, 'number', `not an ApiException: ${String(err)}`);
    const body = typeof e.body === 'string' ? (JSON.parse(e.body) as ApiFailure['status']) : (e.body as ApiFailure['status']);
    return { code: e.code ?? 0, status: body };
  }
  assert.fail('expected the call to fail');
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('apiserver double with the real client-node', () => {
  let server: ApiServer;
  let kc: KubeConfig;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  let custom: CustomObjectsApi;
  let coordination: CoordinationV1Api;

  before(async () => {
    server = await startApiServer();
    kc = server.kubeConfig();
    apps = kc.makeApiClient(AppsV1Api);
    core = kc.makeApiClient(CoreV1Api);
    custom = kc.makeApiClient(CustomObjectsApi);
    coordination = kc.makeApiClient(CoordinationV1Api);
  });

  after(async () => {
    await server.close();
  });

  describe('deployments', () => {
    it('create sets uid, resourceVersion, generation and creationTimestamp; get returns the same object', async () => {
      const created = await apps.createNamespacedDeployment({ namespace: NS, body: deployment('crud-a') });
      assert.ok(created.metadata?.uid);
      assert.match(created.metadata?.resourceVersion ?? '', /^\d+$/);
      assert.equal(created.metadata?.generation, 1);
      assert.ok(created.metadata?.creationTimestamp instanceof Date);
      const got = await apps.readNamespacedDeployment({ namespace: NS, name: 'crud-a' });
      assert.equal(got.metadata?.uid, created.metadata?.uid);
      assert.equal(got.spec?.template.spec?.containers[0]?.image, 'example/hello:1');
    });

    it('create of an existing name is 409 AlreadyExists', async () => {
      await apps.createNamespacedDeployment({ namespace: NS, body: deployment('crud-dup') });
      const f = await failureOf(apps.createNamespacedDeployment({ namespace: NS, body: deployment('crud-dup') }));
      assert.equal(f.code, 409);
      assert.equal(f.status.reason, 'AlreadyExists');
    });

    it('generateName makes a unique name', async () => {
      const body = deployment('');
      body.metadata = { ...body.metadata, name: undefined, generateName: 'gen-' };
      const a = await apps.createNamespacedDeployment({ namespace: NS, body });
      const b = await apps.createNamespacedDeployment({ namespace: NS, body });
      assert.match(a.metadata?.name ?? '', /^gen-[a-z0-9]{5}$/);
      assert.notEqual(a.metadata?.name, b.metadata?.name);
    });

    it('get of a missing object is 404 with a NotFound Status', async () => {
      const f = await failureOf(apps.readNamespacedDeployment({ namespace: NS, name: 'nope' }));
      assert.equal(f.code, 404);
      assert.deepEqual(
        { kind: f.status.kind, apiVersion: f.status.apiVersion, status: f.status.status, reason: f.status.reason, code: f.status.code },
        { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 },
      );
      assert.equal(f.status.message, 'deployments.apps "nope" not found');
      assert.deepEqual(f.status.details, { name: 'nope', group: 'apps', kind: 'deployments' });
    });

    it('list filters by label selector and reports a resourceVersion', async () => {
      await apps.createNamespacedDeployment({ namespace: NS, body: deployment('sel-a', { labels: { tier: 'web', team: 'x' } }) });
      await apps.createNamespacedDeployment({ namespace: NS, body: deployment('sel-b', { labels: { tier: 'web', team: 'y' } }) });
      const list = await apps.listNamespacedDeployment({ namespace: NS, labelSelector: 'tier=web,team=x' });
      assert.deepEqual(list.items.map((d) => d.metadata?.name), ['sel-a']);
      assert.equal(list.kind, 'DeploymentList');
      assert.equal(list.metadata?.resourceVersion, String(server.store.resourceVersion()));
      const byName = await apps.listDeploymentForAllNamespaces({ fieldSelector: 'metadata.name=sel-b' });
      assert.deepEqual(byName.items.map((d) => d.metadata?.name), ['sel-b']);
    });

    it('replace bumps generation on a spec change and is 409 Conflict with a stale resourceVersion', async () => {
      const created = await apps.createNamespacedDeployment({ namespace: NS, body: deployment('crud-r') });
      const changed = structuredClone(created);
      changed.spec!.replicas = 4;
      const replaced = await apps.replaceNamespacedDeployment({ namespace: NS, name: 'crud-r', body: changed });
      assert.equal(replaced.metadata?.generation, 2);
      assert.ok(Number(replaced.metadata?.resourceVersion) > Number(created.metadata?.resourceVersion));
      const stale = await failureOf(apps.replaceNamespacedDeployment({ namespace: NS, name: 'crud-r', body: changed }));
      assert.equal(stale.code, 409);
      assert.equal(stale.status.reason, 'Conflict');
      assert.match(stale.status.message, /the object has been modified/);
    });

    it('replace ignores status, and an unchanged replace keeps the resourceVersion', async () => {
      const created = await apps.createNamespacedDeployment({ namespace: NS, body: deployment('crud-s') });
      const body = structuredClone(created);
      body.status = { replicas: 9 };
      const replaced = await apps.replaceNamespacedDeployment({ namespace: NS, name: 'crud-s', body });
      assert.equal(replaced.status, undefined);
      assert.equal(replaced.metadata?.resourceVersion, created.metadata?.resourceVersion);
    });

    it('merge patch (via setHeaderOptions) and the default JSON patch both apply', async () => {
      await apps.createNamespacedDeployment({ namespace: NS, body: deployment('crud-p') });
      const merged = await apps.patchNamespacedDeployment({ namespace: NS, name: 'crud-p', body: { metadata: { labels: { extra: 'yes' } } } }, mergePatch);
      assert.deepEqual(merged.metadata?.labels, { app: 'crud-p', extra: 'yes' });
      assert.equal(merged.metadata?.generation, 1, 'labels are not spec');
      const patched = await apps.patchNamespacedDeployment({ namespace: NS, name: 'crud-p', body: [{ op: 'replace', path: '/spec/replicas', value: 3 }] });
      assert.equal(patched.spec?.replicas, 3);
      assert.equal(patched.metadata?.generation, 2);
      const missing = await failureOf(apps.patchNamespacedDeployment({ namespace: NS, name: 'ghost', body: {} }, mergePatch));
      assert.equal(missing.code, 404);
    });

    it('delete returns a Success Status and the object is gone', async () => {
      await apps.createNamespacedDeployment({ namespace: NS, body: deployment('crud-d') });
      const status = await apps.deleteNamespacedDeployment({ namespace: NS, name: 'crud-d' });
      assert.equal(status.status, 'Success');
      assert.equal((await failureOf(apps.readNamespacedDeployment({ namespace: NS, name: 'crud-d' }))).code, 404);
      assert.equal((await failureOf(apps.deleteNamespacedDeployment({ namespace: NS, name: 'crud-d' }))).code, 404);
    });

    it('the scale subresource reads, replaces and patches spec.replicas as autoscaling/v1 Scale', async () => {
      await apps.createNamespacedDeployment({ namespace: NS, body: deployment('scaled', { replicas: 2 }) });
      const current = server.store.get('deployments', NS, 'scaled');
      assert.ok(current);
      server.store.update('deployments', { ...current, status: { replicas: 2, readyReplicas: 2 } });

      const scale = await apps.readNamespacedDeploymentScale({ namespace: NS, name: 'scaled' });
      assert.equal(scale.kind, 'Scale');
      assert.equal(scale.apiVersion, 'autoscaling/v1');
      assert.equal(scale.spec?.replicas, 2);
      assert.equal(scale.status?.replicas, 2);
      assert.equal(scale.status?.selector, 'app=scaled');

      const replaced = await apps.replaceNamespacedDeploymentScale({ namespace: NS, name: 'scaled', body: { ...scale, spec: { replicas: 5 } } });
      assert.equal(replaced.spec?.replicas, 5);
      const stale = await failureOf(apps.replaceNamespacedDeploymentScale({ namespace: NS, name: 'scaled', body: { ...scale, spec: { replicas: 6 } } }));
      assert.equal(stale.code, 409);

      const merged = await apps.patchNamespacedDeploymentScale({ namespace: NS, name: 'scaled', body: { spec: { replicas: 0 } } }, mergePatch);
      assert.equal(merged.spec?.replicas, 0);
      const jsonPatched = await apps.patchNamespacedDeploymentScale({ namespace: NS, name: 'scaled', body: [{ op: 'replace', path: '/spec/replicas', value: 7 }] });
      assert.equal(jsonPatched.spec?.replicas, 7);

      const d = await apps.readNamespacedDeployment({ namespace: NS, name: 'scaled' });
      assert.equal(d.spec?.replicas, 7);
      assert.equal(d.status?.readyReplicas, 2);
    });
  });

  describe('custom objects', () => {
    it('Function CRUD through CustomObjectsApi, with the status subresource kept apart from the spec', async () => {
      const created = (await custom.createNamespacedCustomObject({
        ...fnApi,
        body: { apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', metadata: { name: 'hello' }, spec: { image: 'a:1' }, status: { ready: true } },
      })) as { metadata: { resourceVersion: string; generation: number; namespace: string }; status?: unknown };
      assert.equal(created.status, undefined, 'status is dropped on create');
      assert.equal(created.metadata.namespace, NS);

      type Fn = { metadata: { resourceVersion: string; generation: number }; spec: { image: string }; status?: { observedGeneration?: number; phase?: string } };
      const withStatus = (await custom.replaceNamespacedCustomObjectStatus({
        ...fnApi,
        name: 'hello',
        body: { ...created, spec: { image: 'ignored:2' }, status: { observedGeneration: 1, phase: 'Ready' } },
      })) as Fn;
      assert.deepEqual(withStatus.status, { observedGeneration: 1, phase: 'Ready' });
      assert.equal(withStatus.spec.image, 'a:1', 'a status write does not change spec');
      assert.equal(withStatus.metadata.generation, 1);

      const mainPut = (await custom.replaceNamespacedCustomObject({
        ...fnApi,
        name: 'hello',
        body: { ...withStatus, spec: { image: 'b:2' }, status: { phase: 'Hacked' } },
      })) as Fn;
      assert.equal(mainPut.spec.image, 'b:2');
      assert.equal(mainPut.metadata.generation, 2);
      assert.equal(mainPut.status?.phase, 'Ready', 'a main write does not change status');

      const patched = (await custom.patchNamespacedCustomObjectStatus({ ...fnApi, name: 'hello', body: { status: { phase: 'Scaling' } } }, mergePatch)) as Fn;
      assert.deepEqual(patched.status, { observedGeneration: 1, phase: 'Scaling' });

      const stale = await failureOf(custom.replaceNamespacedCustomObjectStatus({ ...fnApi, name: 'hello', body: withStatus }));
      assert.equal(stale.code, 409);

      const listed = (await custom.listNamespacedCustomObject(fnApi)) as { kind: string; items: unknown[] };
      assert.equal(listed.kind, 'FunctionList');
      assert.equal(listed.items.length, 1);

      await custom.deleteNamespacedCustomObject({ ...fnApi, name: 'hello' });
      assert.equal((await failureOf(custom.getNamespacedCustomObject({ ...fnApi, name: 'hello' }))).code, 404);
    });

    it('deleting an owner garbage-collects its dependents, recursively', async () => {
      const fn = (await custom.createNamespacedCustomObject({
        ...fnApi,
        body: { apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', metadata: { name: 'owner' }, spec: {} },
      })) as { metadata: { uid: string } };
      const dep = await apps.createNamespacedDeployment({ namespace: NS, body: deployment('owned', { owner: { kind: 'Function', name: 'owner', uid: fn.metadata.uid } }) });
      await core.createNamespacedConfigMap({
        namespace: NS,
        body: { metadata: { name: 'grandchild', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'owned', uid: dep.metadata?.uid ?? '' }] } },
      });
      await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'unrelated' } } });

      await custom.deleteNamespacedCustomObject({ ...fnApi, name: 'owner' });
      assert.equal(server.store.get('deployments', NS, 'owned'), undefined);
      assert.equal(server.store.get('configmaps', NS, 'grandchild'), undefined);
      assert.ok(server.store.get('configmaps', NS, 'unrelated'));
    });

    it('an object with finalizers is only marked on delete, and goes when a write removes the last one', async () => {
      const triggerApi = { group: 'kfn.dev', version: 'v1alpha1', plural: 'triggers', namespace: NS };
      await custom.createNamespacedCustomObject({
        ...triggerApi,
        body: { apiVersion: 'kfn.dev/v1alpha1', kind: 'Trigger', metadata: { name: 'held', finalizers: ['kfn.dev/trigger'] }, spec: {} },
      });
      await custom.deleteNamespacedCustomObject({ ...triggerApi, name: 'held' });
      const marked = (await custom.getNamespacedCustomObject({ ...triggerApi, name: 'held' })) as { metadata: { deletionTimestamp?: string; finalizers?: string[] } };
      assert.ok(marked.metadata.deletionTimestamp, 'deletionTimestamp set');
      // A second delete changes nothing; a write cannot clear the timestamp.
      await custom.deleteNamespacedCustomObject({ ...triggerApi, name: 'held' });
      const relabelled = (await custom.replaceNamespacedCustomObject({
        ...triggerApi,
        name: 'held',
        body: { ...marked, metadata: { ...marked.metadata, deletionTimestamp: undefined, labels: { a: 'b' } } },
      })) as { metadata: { deletionTimestamp?: string } };
      assert.equal(relabelled.metadata.deletionTimestamp, marked.metadata.deletionTimestamp);
      await custom.replaceNamespacedCustomObject({ ...triggerApi, name: 'held', body: { ...relabelled, metadata: { ...relabelled.metadata, finalizers: [] } } });
      assert.equal(server.store.get('triggers.kfn.dev', NS, 'held'), undefined, 'gone with its last finalizer');
    });
  });

  describe('informers', () => {
    it('a makeInformer sees ADDED, MODIFIED and DELETED', async () => {
      const ns = 'inf1';
      const seen: string[] = [];
      const informer = makeInformer(kc, `/apis/apps/v1/namespaces/${ns}/deployments`, () => apps.listNamespacedDeployment({ namespace: ns }));
      informer.on('add', (d) => seen.push(`add ${d.metadata?.name}`));
      informer.on('update', (d) => seen.push(`update ${d.metadata?.name} ${d.spec?.replicas}`));
      informer.on('delete', (d) => seen.push(`delete ${d.metadata?.name}`));
      await apps.createNamespacedDeployment({ namespace: ns, body: { ...deployment('before'), metadata: { name: 'before' } } });
      await informer.start();
      try {
        await waitFor('initial list', () => seen.includes('add before'));
        await waitFor('watch open', () => server.openWatches > 0);
        await apps.createNamespacedDeployment({ namespace: ns, body: { ...deployment('live'), metadata: { name: 'live' } } });
        await apps.patchNamespacedDeployment({ namespace: ns, name: 'live', body: { spec: { replicas: 3 } } }, mergePatch);
        await apps.deleteNamespacedDeployment({ namespace: ns, name: 'live' });
        await waitFor('delete event', () => seen.includes('delete live'));
        assert.deepEqual(seen, ['add before', 'add live', 'update live 3', 'delete live']);
        assert.equal(informer.list(ns).length, 1);
      } finally {
        await informer.stop();
      }
    });

    it('after expireWatches the informer gets 410, relists, and sees a change made meanwhile', async () => {
      const ns = 'inf2';
      const seen: string[] = [];
      const path = `/apis/apps/v1/namespaces/${ns}/deployments`;
      const informer = makeInformer(kc, path, () => apps.listNamespacedDeployment({ namespace: ns }));
      informer.on('add', (d) => seen.push(`add ${d.metadata?.name}`));
      informer.on('update', (d) => seen.push(`update ${d.metadata?.name} ${d.spec?.replicas}`));
      informer.on('delete', (d) => seen.push(`delete ${d.metadata?.name}`));
      server.store.create('deployments', { ...deployment('a'), metadata: { name: 'a', namespace: ns } });
      server.store.create('deployments', { ...deployment('b'), metadata: { name: 'b', namespace: ns } });
      await informer.start();
      try {
        await waitFor('watch open', () => server.openWatches > 0 && seen.length === 2);
        const mark = server.requests.length;
        const seenRv = server.store.resourceVersion();

        server.expireWatches();
        const a = server.store.get('deployments', ns, 'a');
        assert.ok(a);
        server.store.update('deployments', { ...a, spec: { ...(a.spec as object), replicas: 9 } });
        server.store.delete('deployments', ns, 'b');

        await waitFor('relist', () => seen.includes('update a 9') && seen.includes('delete b'));
        await waitFor('watch reopened', () => server.requests.slice(mark).filter((r) => r.watch).length === 2);
        const after = server.requests.slice(mark).map((r) => (r.watch ? `watch ${Number(r.query.resourceVersion) === seenRv ? 'old' : 'new'}` : 'list'));
        assert.deepEqual(after, ['watch old', 'list', 'watch new']);
        await waitFor('watch reopened', () => server.openWatches > 0);
        assert.deepEqual(informer.list(ns).map((d) => d.metadata?.name), ['a']);
      } finally {
        await informer.stop();
      }
    });

    it('a Function informer over CustomObjectsApi sees a status write as an update', async () => {
      const ns = 'inf3';
      const api = { ...fnApi, namespace: ns };
      type Fn = KubernetesObject & { status?: { phase?: string } };
      const seen: string[] = [];
      const informer = makeInformer<Fn>(kc, `/apis/kfn.dev/v1alpha1/namespaces/${ns}/functions`, () => custom.listNamespacedCustomObject(api) as Promise<KubernetesListObject<Fn>>);
      informer.on('add', (f) => seen.push(`add ${f.metadata?.name}`));
      informer.on('update', (f) => seen.push(`update ${f.metadata?.name} ${f.status?.phase}`));
      await informer.start();
      try {
        await custom.createNamespacedCustomObject({ ...api, body: { apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', metadata: { name: 'f' }, spec: {} } });
        await custom.patchNamespacedCustomObjectStatus({ ...api, name: 'f', body: { status: { phase: 'Ready' } } }, mergePatch);
        await waitFor('status update', () => seen.includes('update f Ready'));
        assert.deepEqual(seen, ['add f', 'update f Ready']);
      } finally {
        await informer.stop();
      }
    });

    it('a watch on a named object sees only that object', async () => {
      const ns = 'watchname';
      const rv = String(server.store.resourceVersion());
      const events: string[] = [];
      let done!: (err: unknown) => void;
      const finished = new Promise((r) => (done = r));
      const req = await new Watch(kc).watch(`/api/v1/namespaces/${ns}/configmaps/mine`, { resourceVersion: rv }, (type, obj: { metadata?: { name?: string } }) => events.push(`${type} ${obj.metadata?.name ?? ''}`), done);
      server.store.create('configmaps', { metadata: { name: 'other', namespace: ns } });
      server.store.create('configmaps', { metadata: { name: 'mine', namespace: ns } });
      await waitFor('event', () => events.length > 0);
      req.abort();
      await finished;
      assert.deepEqual(events, ['ADDED mine']);
    });

    it('a watch from a resourceVersion older than history gets an ERROR event with a 410 Status', async () => {
      server.store.create('configmaps', { metadata: { name: 'w1', namespace: 'watch410' } });
      const oldRv = String(server.store.resourceVersion());
      server.expireWatches();
      const events: { type: string; object: { kind?: string; code?: number; reason?: string } }[] = [];
      let done!: (err: unknown) => void;
      const finished = new Promise((r) => (done = r));
      await new Watch(kc).watch('/api/v1/namespaces/watch410/configmaps', { resourceVersion: oldRv }, (type, object: { kind?: string; code?: number; reason?: string }) => events.push({ type, object }), done);
      assert.equal(await finished, null);
      assert.deepEqual(events.map((e) => [e.type, e.object.kind, e.object.code, e.object.reason]), [['ERROR', 'Status', 410, 'Expired']]);
    });

    it('a label-selected watch sees an object leave the selection as DELETED; timeoutSeconds ends it with a bookmark', async () => {
      const ns = 'watchsel';
      server.store.create('configmaps', { metadata: { name: 'c', namespace: ns, labels: { keep: 'yes' } } });
      const rv = String(server.store.resourceVersion());
      const events: string[] = [];
      let done!: (err: unknown) => void;
      const finished = new Promise((r) => (done = r));
      await new Watch(kc).watch(
        `/api/v1/namespaces/${ns}/configmaps`,
        { resourceVersion: rv, labelSelector: 'keep=yes', timeoutSeconds: 1, allowWatchBookmarks: true },
        (type, obj: { metadata?: { name?: string } }) => events.push(`${type} ${obj.metadata?.name ?? ''}`),
        done,
      );
      const c = server.store.get('configmaps', ns, 'c');
      assert.ok(c);
      server.store.update('configmaps', { ...c, metadata: { ...c.metadata, labels: { keep: 'no' } } });
      server.store.create('configmaps', { metadata: { name: 'd', namespace: ns, labels: { keep: 'yes' } } });
      assert.equal(await finished, null);
      assert.deepEqual(events, ['DELETED c', 'ADDED d', 'BOOKMARK ']);
    });
  });

  describe('protocol edges', () => {
    it('historyLimit compacts old versions: a watch from before the oldest retained write gets 410', async () => {
      const small = await startApiServer({ historyLimit: 2 });
      try {
        const first = small.store.create('configmaps', { metadata: { name: 'h0' } }).metadata.resourceVersion;
        for (const name of ['h1', 'h2', 'h3']) small.store.create('configmaps', { metadata: { name } });
        const res = await fetch(`${small.url}/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${first}`, {
          headers: { authorization: 'Bearer kfn-test-token' },
        });
        const line = JSON.parse((await res.text()).trim()) as { type: string; object: { code: number } };
        assert.equal(line.type, 'ERROR');
        assert.equal(line.object.code, 410);
      } finally {
        await small.close();
      }
    });

    it('a failing JSON patch test op is 422, an apply without fieldManager 400 and an unknown patch type 415', async () => {
      await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'jp' }, data: { a: '1' } } });
      const failed = await failureOf(core.patchNamespacedConfigMap({ namespace: NS, name: 'jp', body: [{ op: 'test', path: '/data/a', value: '2' }] }));
      assert.equal(failed.code, 422);
      const ssa = await failureOf(core.patchNamespacedConfigMap({ namespace: NS, name: 'jp', body: {} }, setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply)));
      assert.equal(ssa.code, 400);
      const unknown = await failureOf(core.patchNamespacedConfigMap({ namespace: NS, name: 'jp', body: {} }, setHeaderOptions('Content-Type', 'application/x-unknown-patch')));
      assert.equal(unknown.code, 415);
    });

    it('serves discovery for the registered groups', async () => {
      const get = async (path: string) => (await fetch(`${server.url}${path}`, { headers: { authorization: 'Bearer kfn-test-token' } })).json() as Promise<Record<string, unknown>>;
      const groups = (await get('/apis')) as { groups: { name: string }[] };
      assert.ok(groups.groups.some((g) => g.name === 'kfn.dev'));
      const kfn = (await get('/apis/kfn.dev/v1alpha1')) as { resources: { name: string }[] };
      assert.deepEqual(kfn.resources.map((r) => r.name), ['functions', 'functions/status', 'triggers', 'triggers/status']);
    });
  });

  describe('leases and faults', () => {
    it('two candidates race to renew a Lease: the stale one gets 409', async () => {
      const lease: V1Lease = { metadata: { name: 'kfn-controller', namespace: NS }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } };
      await coordination.createNamespacedLease({ namespace: NS, body: lease });
      const f = await failureOf(coordination.createNamespacedLease({ namespace: NS, body: lease }));
      assert.equal(f.code, 409);

      const seenByA = await coordination.readNamespacedLease({ namespace: NS, name: 'kfn-controller' });
      const seenByB = await coordination.readNamespacedLease({ namespace: NS, name: 'kfn-controller' });
      const renewed = await coordination.replaceNamespacedLease({
        namespace: NS,
        name: 'kfn-controller',
        body: { ...seenByA, spec: { ...seenByA.spec, renewTime: new V1MicroTime() } },
      });
      // client-node sends a V1MicroTime with microseconds but hands it back as a plain string.
      assert.match(String(renewed.spec?.renewTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      const lost = await failureOf(
        coordination.replaceNamespacedLease({ namespace: NS, name: 'kfn-controller', body: { ...seenByB, spec: { ...seenByB.spec, holderIdentity: 'b' } } }),
      );
      assert.equal(lost.code, 409);
      assert.equal(lost.status.reason, 'Conflict');
      const now = await coordination.readNamespacedLease({ namespace: NS, name: 'kfn-controller' });
      assert.equal(now.spec?.holderIdentity, 'a');
    });

    it('failNext injects failures for matching requests only, and the request log records them', async () => {
      await core.createNamespace({ body: { metadata: { name: 'faulty' } } });
      server.clearRequests();
      server.failNext('GET', /\/namespaces\/faulty$/, 500, 2);
      assert.equal((await failureOf(core.readNamespace({ name: 'faulty' }))).code, 500);
      await core.listNamespace();
      assert.equal((await failureOf(core.readNamespace({ name: 'faulty' }))).code, 500);
      const ns = await core.readNamespace({ name: 'faulty' });
      assert.equal(ns.metadata?.name, 'faulty');
      assert.deepEqual(
        server.requests.map((r) => `${r.method} ${r.path} ${r.status}`),
        ['GET /api/v1/namespaces/faulty 500', 'GET /api/v1/namespaces 200', 'GET /api/v1/namespaces/faulty 500', 'GET /api/v1/namespaces/faulty 200'],
      );
    });

    it('write latency delays writes', async () => {
      server.setWriteLatency(50);
      const started = Date.now();
      try {
        await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'slow' } } });
      } finally {
        server.setWriteLatency(0);
      }
      assert.ok(Date.now() - started >= 45);
    });

    it('a request without the token is 401', async () => {
      const res = await fetch(`${server.url}/api/v1/namespaces`);
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { reason: string }).reason, 'Unauthorized');
    });
  });
});
