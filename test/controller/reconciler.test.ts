// One reconcile at a time, as a table: given objects in the API server double (whose
// store also serves as the informer caches), reconcile one key, then compare the writes
// it made and the status it left. No informers or queue: just the reconcile's decisions.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type V1Deployment, type V1Pod, type V1Service } from '@kubernetes/client-node';
import type { KfnFunction } from '../../pkg/apis/function/types.js';
import { getCondition } from '../../pkg/apis/function/lifecycle.js';
import type { Lister } from '../../pkg/controller/informer.js';
import { reconcilerConfig } from '../../pkg/reconciler/function/config.js';
import { functionClient, newFunctionReconciler } from '../../pkg/reconciler/function/reconciler.js';
import { quietLogger } from '../../pkg/shared/log.js';
import type { Reconcile } from '../../pkg/controller/queue.js';
import { startApiServer, type ApiServer } from '../kube/apiserver.js';

const NOW = new Date('2026-11-22T04:00:00Z');

interface Row {
  name: string;
  /** Seeds the namespace (already holding a Function `hello` unless `noFunction`). */
  given?: (s: ApiServer, ns: string, reconcile: (key: string) => Promise<void>) => Promise<void> | void;
  spec?: Record<string, unknown>;
  noFunction?: boolean;
  key?: (ns: string) => string;
  /** Writes, as `METHOD resource[/sub]`. */
  wantWrites: string[];
  wantReady?: { status: string; reason?: string; message?: RegExp };
  wantError?: RegExp;
  check?: (s: ApiServer, ns: string) => void;
}

function lister<T>(server: ApiServer, ref: string): Lister<T> {
  return {
    get: (ns, name) => server.store.get(ref, ns, name) as T | undefined,
    list: (ns) => server.store.list(ref, ns) as T[],
  };
}

function writeOf(path: string, method: string): string {
  // /apis/apps/v1/namespaces/ns/deployments/hello → deployments/hello
  const m = /\/namespaces\/[^/]+\/(.+)$/.exec(path);
  return `${method} ${m?.[1] ?? path}`;
}

describe('Function reconcile, one key at a time', () => {
  let server: ApiServer;
  let reconcile: Reconcile;
  before(async () => {
    server = await startApiServer();
    const kc = server.kubeConfig();
    reconcile = newFunctionReconciler({
      functions: lister<KfnFunction>(server, 'functions.kfn.dev'),
      deployments: lister<V1Deployment>(server, 'deployments'),
      pods: lister<V1Pod>(server, 'pods'),
      childCache: {
        deployment: (ns, name) => server.store.get('deployments', ns, name) as V1Deployment | undefined,
        service: (ns, name) => server.store.get('services', ns, name) as V1Service | undefined,
      },
      apis: { apps: kc.makeApiClient(AppsV1Api), core: kc.makeApiClient(CoreV1Api) },
      client: functionClient(kc.makeApiClient(CustomObjectsApi)),
      cfg: reconcilerConfig({ domain: 'example.test' }),
      log: quietLogger(),
      now: () => NOW,
    });
  });
  after(async () => {
    await server.close();
  });

  const deploymentOf = (ns: string): V1Deployment | undefined => server.store.get('deployments', ns, 'hello') as V1Deployment | undefined;
  const ctl = new AbortController();
  const run = (key: string): Promise<void> => reconcile(key, ctl.signal);

  const rows: Row[] = [
    {
      name: 'a new Function: creates the Deployment and both Services, then writes status',
      wantWrites: ['POST deployments', 'POST services', 'POST services', 'PUT functions/hello/status'],
      wantReady: { status: 'Unknown', reason: 'Starting' },
    },
    {
      name: 'nothing changed since the last reconcile: no writes at all',
      given: (_s, ns, again) => again(`Function/${ns}/hello`),
      wantWrites: [],
    },
    {
      name: 'a new image: only the Deployment is updated, its replicas kept, and the status observes generation 2',
      given: async (s, ns, again) => {
        await again(`Function/${ns}/hello`);
        const d = s.store.get('deployments', ns, 'hello');
        s.store.update('deployments', { ...(d as object), spec: { ...(d?.spec as object), replicas: 7 } });
        const f = s.store.get('functions.kfn.dev', ns, 'hello');
        s.store.update('functions.kfn.dev', { ...f, spec: { ...(f?.spec as object), image: 'registry.example/hello:2' } });
      },
      wantWrites: ['PUT deployments/hello', 'PUT functions/hello/status'],
      check: (s, ns) => {
        const d = deploymentOf(ns);
        assert.equal(d?.spec?.template.spec?.containers[0]?.image, 'registry.example/hello:2');
        assert.equal(d?.spec?.replicas, 7);
        assert.equal((s.store.get('functions.kfn.dev', ns, 'hello') as unknown as KfnFunction).status?.observedGeneration, 2);
      },
    },
    {
      name: 'an invalid spec: status only, naming the field; nothing created',
      spec: { image: 'registry.example/hello:1', timeoutSeconds: 0 },
      wantWrites: ['PUT functions/hello/status'],
      wantReady: { status: 'False', reason: 'InvalidSpec', message: /spec\.timeoutSeconds/ },
      check: (_s, ns) => assert.equal(deploymentOf(ns), undefined),
    },
    {
      name: 'a deleted Function: nothing to do (the garbage collector removes children)',
      noFunction: true,
      wantWrites: [],
    },
    {
      name: 'a key of another kind is ignored',
      key: (ns) => `Trigger/${ns}/hello`,
      wantWrites: [],
    },
    {
      name: 'a Deployment of that name owned by someone else: left alone, status NotOwned, error for a retry',
      given: (s, ns) => {
        s.store.create('deployments', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'hello', namespace: ns }, spec: { replicas: 1 } });
      },
      wantWrites: ['POST services', 'POST services', 'PUT functions/hello/status'],
      wantReady: { status: 'False', reason: 'NotOwned', message: /Deployment .*\/hello exists and is not controlled/ },
      wantError: /not controlled by this Function/,
      check: (_s, ns) => assert.equal(deploymentOf(ns)?.metadata?.ownerReferences, undefined),
    },
  ];

  rows.forEach((row, i) => {
    it(row.name, async () => {
      const ns = `row${i}`;
      if (!row.noFunction) {
        server.store.create('functions.kfn.dev', {
          apiVersion: 'kfn.dev/v1alpha1',
          kind: 'Function',
          metadata: { name: 'hello', namespace: ns },
          spec: row.spec ?? { image: 'registry.example/hello:1' },
        });
      }
      await row.given?.(server, ns, run);
      server.clearRequests();
      const key = row.key?.(ns) ?? `Function/${ns}/hello`;
      if (row.wantError) await assert.rejects(run(key), row.wantError);
      else await run(key);
      const writes = server.requests.filter((r) => r.method !== 'GET').map((r) => writeOf(r.path, r.method));
      assert.deepEqual(writes.sort(), [...row.wantWrites].sort());
      if (row.wantReady) {
        const fn = server.store.get('functions.kfn.dev', ns, 'hello') as unknown as KfnFunction;
        const ready = getCondition(fn.status, 'Ready');
        assert.equal(ready?.status, row.wantReady.status);
        if (row.wantReady.reason) assert.equal(ready?.reason, row.wantReady.reason);
        if (row.wantReady.message) assert.match(ready?.message ?? '', row.wantReady.message);
        assert.equal(ready?.lastTransitionTime, NOW.toISOString());
      }
      row.check?.(server, ns);
    });
  });
});
