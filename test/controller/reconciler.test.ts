// One reconcile at a time, as a table: given objects in the API server double (whose
// store also serves as the informer caches), reconcile one key, then compare the writes
// it made, the Events it recorded and the status it left. No informers or queue: just
// the reconcile's decisions. Children are written by server-side apply (PATCH); a new
// Deployment takes three: created with its initial replicas, those handed to
// kfn-autoscaler, then applied without them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type V1Deployment, type V1Pod, type V1Service } from '@kubernetes/client-node';
import type { KfnFunction } from '../../pkg/apis/function/types.js';
import { getCondition } from '../../pkg/apis/function/lifecycle.js';
import type { Lister } from '../../pkg/controller/informer.js';
import { reconcilerConfig } from '../../pkg/reconciler/function/config.js';
import { functionClient, newFunctionReconciler } from '../../pkg/reconciler/function/reconciler.js';
import { quietLogger } from '../../pkg/shared/log.js';
import type { Reconcile } from '../../pkg/controller/queue.js';
import type { EventRecorder } from '../../pkg/controller/events/types.js';
import { replicasServiceNameOf } from '../../pkg/reconciler/function/names.js';
import { startApiServer, type ApiServer } from '../kube/apiserver.js';

const NOW = new Date('2026-11-22T04:00:00Z');
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

interface Row {
  name: string;
  /** Seeds the namespace (already holding a Function `hello` unless `noFunction`). */
  given?: (s: ApiServer, ns: string, reconcile: (key: string) => Promise<void>) => Promise<void> | void;
  spec?: Record<string, unknown>;
  noFunction?: boolean;
  key?: (ns: string) => string;
  /** Writes, as `METHOD resource[/sub]`. */
  wantWrites: string[];
  /** Events recorded, as `Type Reason: note`; checked when given. */
  wantEvents?: Array<string | RegExp>;
  /** The Function's name; `hello` by default. */
  fnName?: string;
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

/** Collects Events as `Type Reason: note`, as a test asserts them. */
function fakeRecorder(): EventRecorder & { events: string[] } {
  const events: string[] = [];
  return {
    events,
    record: (regarding, type, reason, _action, note) => {
      assert.equal(regarding.kind, 'Function');
      events.push(`${type} ${reason}: ${note}`);
    },
  };
}

const CREATE_DEPLOYMENT = ['PATCH deployments/hello', 'PATCH deployments/hello', 'PATCH deployments/hello'];
const LONG = `l${'o'.repeat(60)}ng`; // 63 characters, the longest a Function name may be

describe('Function reconcile, one key at a time', () => {
  let server: ApiServer;
  let reconcile: Reconcile;
  const recorder = fakeRecorder();
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
      recorder,
    });
  });
  after(async () => {
    await server.close();
  });

  const replicasSeen = new Map<string, number[]>();
  let apps: AppsV1Api;
  before(() => {
    apps = server.kubeConfig().makeApiClient(AppsV1Api);
  });
  const deploymentOf = (ns: string): V1Deployment | undefined => server.store.get('deployments', ns, 'hello') as V1Deployment | undefined;
  const ctl = new AbortController();
  const run = (key: string): Promise<void> => reconcile(key, ctl.signal);

  const rows: Row[] = [
    {
      name: 'a new Function: applies the Deployment and both Services, then writes status',
      wantWrites: [...CREATE_DEPLOYMENT, 'PATCH services/hello-replicas', 'PATCH services/hello', 'PUT functions/hello/status'],
      wantEvents: ['Normal Created: Created Deployment hello', 'Normal Created: Created Service hello-replicas', 'Normal Created: Created Service hello'],
      wantReady: { status: 'Unknown', reason: 'Starting' },
      check: (_s, ns) => {
        const d = deploymentOf(ns);
        assert.equal(d?.spec?.replicas, 1, 'scale.initial defaults to 1');
        const owners = (d?.metadata?.managedFields ?? []).filter((m) => JSON.stringify(m.fieldsV1).includes('"f:replicas"')).map((m) => m.manager);
        assert.deepEqual(owners, ['kfn-autoscaler'], 'the autoscaler alone owns spec.replicas');
        assert.ok((d?.metadata?.managedFields ?? []).some((m) => m.manager === 'kfn-controller' && m.operation === 'Apply'));
      },
    },
    {
      name: 'scale.initial 0: the Deployment is created with 0 replicas and never has 1, not even for a moment',
      spec: { image: 'registry.example/hello:1', scale: { initial: 0 } },
      given: (s, ns) => {
        const seen: number[] = [];
        s.store.onWrite((e) => {
          if (e.resourceKey === 'deployments.apps' && e.object.metadata.namespace === ns) seen.push((e.object.spec as { replicas?: number }).replicas ?? -1);
        });
        replicasSeen.set(ns, seen);
      },
      wantWrites: [...CREATE_DEPLOYMENT, 'PATCH services/hello-replicas', 'PATCH services/hello', 'PUT functions/hello/status'],
      check: (_s, ns) => {
        assert.equal(deploymentOf(ns)?.spec?.replicas, 0);
        assert.ok(!(replicasSeen.get(ns) ?? []).some((r) => r !== 0), `replicas over time: ${JSON.stringify(replicasSeen.get(ns))}`);
      },
    },
    {
      name: 'a 63-character Function name: every child is created, the replicas Service under its hashed name',
      fnName: LONG,
      wantWrites: [`PATCH deployments/${LONG}`, `PATCH deployments/${LONG}`, `PATCH deployments/${LONG}`, `PATCH services/${replicasServiceNameOf(LONG)}`, `PATCH services/${LONG}`, `PUT functions/${LONG}/status`],
      check: (s, ns) => {
        const svc = s.store.get('services', ns, replicasServiceNameOf(LONG));
        assert.ok(svc, 'replicas Service created');
        assert.ok(svc.metadata.name.length <= 63);
        const ready = getCondition((s.store.get('functions.kfn.dev', ns, LONG) as unknown as KfnFunction).status, 'Ready');
        assert.equal(ready?.status, 'Unknown');
      },
    },
    {
      name: 'the replicas Service refused (403 by an admission webhook): status names the child and the server message, event, error for a retry',
      given: (s, ns) => s.failNext('PATCH', new RegExp(`/namespaces/${ns}/services/hello-replicas$`), 403, 1, 'admission webhook "deny.example" denied the request: no headless Services'),
      wantWrites: [...CREATE_DEPLOYMENT, 'PATCH services/hello-replicas', 'PATCH services/hello', 'PUT functions/hello/status'],
      wantReady: { status: 'False', reason: 'ChildForbidden', message: /cannot write Service row\d+\/hello-replicas: the API server answered 403 Forbidden: admission webhook "deny\.example" denied the request: no headless Services/ },
      wantEvents: ['Normal Created: Created Deployment hello', 'Normal Created: Created Service hello', /^Warning ChildForbidden: cannot write Service row\d+\/hello-replicas: .*denied the request/],
      wantError: /cannot write Service .*hello-replicas/,
      check: (s, ns) => {
        const fn = s.store.get('functions.kfn.dev', ns, 'hello') as unknown as KfnFunction;
        assert.equal(fn.status?.url, 'http://hello.' + ns + '.example.test', 'the rest of the status is written too');
        assert.equal(getCondition(fn.status, 'DeploymentReady')?.reason, 'ChildForbidden');
      },
    },
    {
      name: 'the Deployment refused as invalid (422): status ChildInvalid with the server message, nothing else stops',
      given: (s, ns) => s.failNext('PATCH', new RegExp(`/namespaces/${ns}/deployments/hello$`), 422, 1, 'Deployment.apps "hello" is invalid: spec.template.spec.volumes[0].name: Required value'),
      wantWrites: ['PATCH deployments/hello', 'PATCH services/hello-replicas', 'PATCH services/hello', 'PUT functions/hello/status'],
      wantReady: { status: 'False', reason: 'ChildInvalid', message: /cannot write Deployment row\d+\/hello: the API server answered 422 Invalid: .*volumes\[0\]\.name: Required value/ },
      wantError: /cannot write Deployment/,
      check: (_s, ns) => assert.equal(deploymentOf(ns), undefined),
    },
    {
      name: 'a Service refused by a ResourceQuota (403 exceeded quota): ChildQuotaExceeded',
      given: (s, ns) => s.failNext('PATCH', new RegExp(`/namespaces/${ns}/services/hello$`), 403, 1, 'services "hello" is forbidden: exceeded quota: q, requested: services=1, used: services=5, limited: services=5'),
      wantWrites: [...CREATE_DEPLOYMENT, 'PATCH services/hello-replicas', 'PATCH services/hello', 'PUT functions/hello/status'],
      wantReady: { status: 'False', reason: 'ChildQuotaExceeded', message: /cannot write Service row\d+\/hello: .*exceeded quota/ },
      wantError: /exceeded quota/,
    },
    {
      name: 'nothing changed since the last reconcile: no writes at all',
      given: (_s, ns, again) => again(`Function/${ns}/hello`),
      wantWrites: [],
    },
    {
      name: 'a new image: only the Deployment is applied, the autoscaler\'s 5 replicas kept, and the status observes generation 2',
      given: async (s, ns, again) => {
        await again(`Function/${ns}/hello`);
        // The autoscaler's write, as pkg/platform/kubernetes/scale.ts sends it.
        await apps.patchNamespacedDeploymentScale({ namespace: ns, name: 'hello', body: { spec: { replicas: 5 } }, fieldManager: 'kfn-autoscaler' }, mergePatch);
        const f = s.store.get('functions.kfn.dev', ns, 'hello');
        s.store.update('functions.kfn.dev', { ...f, spec: { ...(f?.spec as object), image: 'registry.example/hello:2' } });
      },
      wantWrites: ['PATCH deployments/hello', 'PUT functions/hello/status'],
      wantEvents: [],
      check: (s, ns) => {
        const d = deploymentOf(ns);
        assert.equal(d?.spec?.template.spec?.containers[0]?.image, 'registry.example/hello:2');
        assert.equal(d?.spec?.replicas, 5);
        assert.equal((s.store.get('functions.kfn.dev', ns, 'hello') as unknown as KfnFunction).status?.observedGeneration, 2);
      },
    },
    {
      name: 'an invalid spec: status only, naming the field; nothing created',
      spec: { image: 'registry.example/hello:1', timeoutSeconds: 0 },
      wantWrites: ['PUT functions/hello/status'],
      wantEvents: [/^Warning InvalidSpec: the spec is invalid and was not deployed: .*spec\.timeoutSeconds/],
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
      wantWrites: ['PATCH services/hello-replicas', 'PATCH services/hello', 'PUT functions/hello/status'],
      wantEvents: ['Normal Created: Created Service hello-replicas', 'Normal Created: Created Service hello', /^Warning NotOwned: Deployment .*\/hello exists and is not controlled/],
      wantReady: { status: 'False', reason: 'NotOwned', message: /Deployment .*\/hello exists and is not controlled/ },
      wantError: /not controlled by this Function/,
      check: (_s, ns) => assert.equal(deploymentOf(ns)?.metadata?.ownerReferences, undefined),
    },
  ];

  rows.forEach((row, i) => {
    it(row.name, async () => {
      const ns = `row${i}`;
      const fnName = row.fnName ?? 'hello';
      if (!row.noFunction) {
        server.store.create('functions.kfn.dev', {
          apiVersion: 'kfn.dev/v1alpha1',
          kind: 'Function',
          metadata: { name: fnName, namespace: ns },
          spec: row.spec ?? { image: 'registry.example/hello:1' },
        });
      }
      await row.given?.(server, ns, run);
      server.clearRequests();
      recorder.events.length = 0;
      const key = row.key?.(ns) ?? `Function/${ns}/${fnName}`;
      if (row.wantError) await assert.rejects(run(key), row.wantError);
      else await run(key);
      const writes = server.requests.filter((r) => r.method !== 'GET').map((r) => writeOf(r.path, r.method));
      assert.deepEqual(writes.sort(), [...row.wantWrites].sort());
      if (row.wantEvents) {
        assert.equal(recorder.events.length, row.wantEvents.length, `events: ${JSON.stringify(recorder.events)}`);
        for (const want of row.wantEvents) {
          assert.ok(recorder.events.some((e) => (typeof want === 'string' ? e === want : want.test(e))), `an event ${String(want)} in ${JSON.stringify(recorder.events)}`);
        }
      }
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
