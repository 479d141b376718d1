// The informer wrapper against the API server double: it restarts itself with backoff
// after errors (client-node's ListWatch stops), syncs, keeps the cache, relists on 410.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import { Informer } from '../../pkg/controller/informer.js';
import { quietLogger } from '../../pkg/shared/log.js';
import { startApiServer, type ApiServer } from '../kube/apiserver.js';
import { waitFor } from '../util/wait.js';

describe('informer', () => {
  let server: ApiServer;
  let core: CoreV1Api;
  before(async () => {
    server = await startApiServer();
    core = server.kubeConfig().makeApiClient(CoreV1Api);
  });
  after(async () => {
    await server.close();
  });

  function configMaps(ns: string, watchTimeoutSeconds?: number): Informer<V1ConfigMap> {
    return new Informer<V1ConfigMap>({
      ...(watchTimeoutSeconds !== undefined ? { watchTimeoutSeconds } : {}),
      name: 'configmaps',
      kubeConfig: server.kubeConfig(),
      path: `/api/v1/namespaces/${ns}/configmaps`,
      list: () => core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'app=x' }),
      labelSelector: 'app=x',
      log: quietLogger(),
      restartBackoff: { kind: 'exponential', baseMs: 50, maxMs: 400 },
    });
  }
  const cm = (ns: string, name: string, data: Record<string, string> = {}, labels: Record<string, string> = { app: 'x' }) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: ns, labels },
    data,
  });

  it('syncs from the list, sees adds, updates and deletes, and ignores objects outside the selector', async () => {
    server.store.create('configmaps', cm('sync', 'a'));
    server.store.create('configmaps', cm('sync', 'other', {}, { app: 'y' }));
    const inf = configMaps('sync');
    const seen: string[] = [];
    inf.on('add', (o) => seen.push(`add ${o.metadata?.name}`)).on('update', (o) => seen.push(`update ${o.metadata?.name}`)).on('delete', (o) => seen.push(`delete ${o.metadata?.name}`));
    const abort = new AbortController();
    const done = inf.start(abort.signal);
    try {
      await inf.synced;
      assert.deepEqual(inf.list('sync').map((o) => o.metadata?.name), ['a']);
      server.store.create('configmaps', cm('sync', 'b'));
      const b = server.store.get('configmaps', 'sync', 'b');
      assert.ok(b);
      server.store.update('configmaps', { ...b, data: { k: 'v' } });
      server.store.delete('configmaps', 'sync', 'a');
      await waitFor('events', () => seen.includes('delete a'));
      assert.deepEqual(seen, ['add a', 'add b', 'update b', 'delete a']);
      assert.deepEqual(inf.get('sync', 'b')?.data, { k: 'v' });
    } finally {
      abort.abort();
      await done;
    }
  });

  it('a failing list is retried with backoff until it succeeds; then it is synced', async () => {
    server.store.create('configmaps', cm('flaky', 'a'));
    server.failNext('GET', /^\/api\/v1\/namespaces\/flaky\/configmaps$/, 500, 2);
    const mark = server.requests.length;
    const inf = configMaps('flaky');
    const abort = new AbortController();
    const done = inf.start(abort.signal);
    try {
      await inf.synced;
      assert.ok(inf.get('flaky', 'a'));
      const lists = server.requests.slice(mark).filter((r) => !r.watch && r.path.endsWith('/flaky/configmaps'));
      assert.deepEqual(lists.map((r) => r.status), [500, 500, 200]);
    } finally {
      abort.abort();
      await done;
    }
  });

  it('a refused watch restarts from the last resourceVersion and misses nothing', async () => {
    const inf = configMaps('rewatch');
    const abort = new AbortController();
    const done = inf.start(abort.signal);
    try {
      await inf.synced;
      await waitFor('watch open', () => server.openWatches > 0);
      // The next watch request is refused; the open one is ended.
      server.failNext('GET', /^\/api\/v1\/namespaces\/rewatch\/configmaps$/, 503, 1);
      server.expireWatches();
      server.store.create('configmaps', cm('rewatch', 'during'));
      await waitFor('change seen after the restart', () => inf.get('rewatch', 'during'));
    } finally {
      abort.abort();
      await done;
    }
  });

  it('a watch the server ends at its timeoutSeconds is reopened from the last resourceVersion, without a relist', async () => {
    const inf = configMaps('timeout', 1);
    const mark = server.requests.length;
    const abort = new AbortController();
    const done = inf.start(abort.signal);
    try {
      await inf.synced;
      const ours = () => server.requests.slice(mark).filter((r) => r.path.endsWith('/timeout/configmaps'));
      await waitFor('a second watch', () => ours().filter((r) => r.watch).length >= 2, { timeoutMs: 5000 });
      assert.equal(ours().filter((r) => !r.watch).length, 1, 'listed once');
      assert.equal(ours()[1]?.query.timeoutSeconds, '1');
      server.store.create('configmaps', cm('timeout', 'later'));
      await waitFor('change seen on the reopened watch', () => inf.get('timeout', 'later'));
    } finally {
      abort.abort();
      await done;
    }
  });

  it('stopped before it could list: synced rejects and start() resolves', async () => {
    server.failNext('GET', /^\/api\/v1\/namespaces\/never\/configmaps$/, 500, 1000);
    const inf = configMaps('never');
    const abort = new AbortController();
    const done = inf.start(abort.signal);
    await waitFor('a failed list', () => server.requests.some((r) => r.path.endsWith('/never/configmaps') && r.status === 500));
    abort.abort();
    await done;
    await assert.rejects(inf.synced, /stopped/);
  });
});
