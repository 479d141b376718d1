// kfn on a real API server, as an operator sees it after `kubectl apply -k config/`:
// the controller, autoscaler, activator and dispatcher run as processes, each with its
// own ServiceAccount's token; a Function becomes its children (owned, named validly,
// written by server-side apply), its status and its Events; a request from zero makes
// the autoscaler write the scale; a Trigger gets its consumer; deleting a Function
// garbage-collects its children. Skipped with one line without KUBEBUILDER_ASSETS.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { loadKustomization, loadObjects, type K8sObject } from '../config/load.js';
import { startNatsServer, type NatsServer } from '../util/nats.js';
import { waitFor } from '../util/wait.js';
import { applyAll, create, messageOf, serverSideApply, type Manifest } from './apply.js';
import { startComponents, type Components } from './components.js';
import { assetsOrSkip, startControlPlane, type ControlPlane } from './control-plane.js';

const assets = assetsOrSkip();
const skip = typeof assets === 'string' ? assets : false;

interface Obj {
  metadata: {
    name: string;
    uid: string;
    ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[];
    managedFields?: { manager: string; operation: string; fieldsV1?: unknown; subresource?: string }[];
    labels?: Record<string, string>;
  };
  spec?: Record<string, unknown> & { replicas?: number };
  status?: Record<string, unknown> & { conditions?: { type: string; status: string; reason?: string; message?: string }[]; url?: string };
}

function configManifests(): Manifest[] {
  const k = loadKustomization();
  const clusterScoped = new Set(['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding']);
  return loadObjects((k.resources ?? []).map((r) => `config/${r}`)).map((o: K8sObject) =>
    clusterScoped.has(o.kind) ? o : { ...o, metadata: { ...o.metadata, namespace: k.namespace ?? o.metadata.namespace } },
  ) as Manifest[];
}

const fn = (name: string, spec: Record<string, unknown> = {}, namespace = 'default'): Manifest => ({
  apiVersion: 'kfn.dev/v1alpha1',
  kind: 'Function',
  metadata: { name, namespace },
  spec: { image: 'registry.example/hello:1', scale: { initial: 0 }, ...spec },
});

describe('kfn components on a real API server, each with its own ServiceAccount', { skip, timeout: 600_000 }, () => {
  let cp: ControlPlane;
  let nats: NatsServer;
  let kfn: Components;
  const get = async (apiPath: string): Promise<Obj | undefined> => {
    const res = await cp.http('GET', apiPath);
    return res.status === 200 ? (res.json as Obj) : undefined;
  };
  const condition = (o: Obj | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);
  const eventsAbout = async (namespace: string, name: string): Promise<{ reason: string; type: string; note?: string; regarding: { kind: string } }[]> => {
    const res = await cp.http('GET', `/apis/events.k8s.io/v1/namespaces/${namespace}/events?fieldSelector=${encodeURIComponent(`regarding.name=${name}`)}`);
    assert.equal(res.status, 200, res.text);
    return (res.json as { items: { reason: string; type: string; note?: string; regarding: { kind: string } }[] }).items;
  };
  const fail = (what: string) => (err: unknown): never => {
    throw new Error(`${what}\n${kfn?.logs() ?? ''}`, { cause: err });
  };

  before(async () => {
    cp = await startControlPlane(assets as Exclude<typeof assets, string>);
    nats = await startNatsServer();
    const { warnings } = await applyAll(cp, configManifests());
    assert.deepEqual(warnings, []);
    kfn = await startComponents(cp, nats.url);
  });
  after(async () => {
    await kfn?.stop();
    await nats?.stop();
    await cp?.stop();
  });

  it('turns a Function into its owned children and a status with a URL', async () => {
    const res = await serverSideApply(cp, fn('hello'), { fieldManager: 'kubectl' });
    assert.equal(res.status, 201, messageOf(res));
    const created = res.json as Obj;
    const deployment = await waitFor('Deployment hello', () => get('/apis/apps/v1/namespaces/default/deployments/hello')).catch(fail('no Deployment'));
    for (const child of [deployment, await get('/api/v1/namespaces/default/services/hello'), await get('/api/v1/namespaces/default/services/hello-replicas')]) {
      assert.ok(child, 'child missing');
      const owner = child.metadata.ownerReferences?.find((r) => r.controller);
      assert.deepEqual(owner && { kind: owner.kind, name: owner.name, uid: owner.uid }, { kind: 'Function', name: 'hello', uid: created.metadata.uid });
    }
    assert.equal(deployment.spec?.replicas, 0, 'scale.initial 0: no replica before traffic');
    const withStatus = await waitFor('status with a URL', async () => {
      const f = await get('/apis/kfn.dev/v1alpha1/namespaces/default/functions/hello');
      return f?.status?.url ? f : undefined;
    }).catch(fail('no status'));
    assert.equal(withStatus.status?.url, 'http://hello.default.kfn.local');
    assert.ok(condition(withStatus, 'Ready'), 'a Ready condition');
  });

  it('writes the children by server-side apply under the controller\'s own field manager', async () => {
    const deployment = await get('/apis/apps/v1/namespaces/default/deployments/hello');
    const managers = (deployment?.metadata.managedFields ?? []).map((m) => `${m.manager}/${m.operation}`);
    assert.ok(managers.includes('kfn-controller/Apply'), JSON.stringify(managers));
  });

  it('scales from zero on a request: the autoscaler writes the scale and owns replicas, the controller leaves them be', async () => {
    // No kubelet here, so no replica gets ready: the request waits, and what is checked is
    // the scale the autoscaler wrote after the activator's poke.
    const abort = new AbortController();
    const waiting = request(`http://127.0.0.1:${kfn.activator.port}/default/hello/`, { signal: abort.signal }).catch(() => undefined);
    const scaled = await waitFor('replicas 1', async () => {
      const d = await get('/apis/apps/v1/namespaces/default/deployments/hello');
      return d?.spec?.replicas === 1 ? d : undefined;
    }, { timeoutMs: 30_000 }).catch(fail('no scale from zero'));
    const owners = (scaled.metadata.managedFields ?? []).filter((m) => JSON.stringify(m.fieldsV1 ?? {}).includes('"f:replicas"')).map((m) => m.manager);
    assert.deepEqual(owners, ['kfn-autoscaler'], 'only the autoscaler owns spec.replicas');
    // A spec change makes the controller apply again; replicas must not move.
    const res = await serverSideApply(cp, fn('hello', { env: [{ name: 'GREETING', value: 'hi' }] }), { fieldManager: 'kubectl' });
    assert.equal(res.status, 200, messageOf(res));
    await waitFor('the new env in the Deployment', async () => {
      const d = await get('/apis/apps/v1/namespaces/default/deployments/hello');
      return JSON.stringify(d?.spec ?? {}).includes('GREETING') ? d : undefined;
    }).catch(fail('spec change not applied'));
    assert.equal((await get('/apis/apps/v1/namespaces/default/deployments/hello'))?.spec?.replicas, 1);
    abort.abort();
    await waiting;
  });

  it('records Events an operator reads in kubectl describe', async () => {
    const reasons = await waitFor('Events about hello', async () => {
      const r = (await eventsAbout('default', 'hello')).map((e) => e.reason);
      return r.includes('Created') && r.includes('ScaledFromZero') ? r : undefined;
    }).catch(fail('no Events'));
    assert.ok(reasons.includes('Created'));
  });

  it('names every child validly for a 63-character Function name, and says so in status', async () => {
    const name = `f${'x'.repeat(61)}z`;
    assert.equal(name.length, 63);
    const res = await serverSideApply(cp, fn(name), { fieldManager: 'kubectl' });
    assert.equal(res.status, 201, messageOf(res));
    const f = await waitFor('status with a URL', async () => {
      const o = await get(`/apis/kfn.dev/v1alpha1/namespaces/default/functions/${name}`);
      return o?.status?.url ? o : undefined;
    }).catch(fail('long name: no status'));
    assert.notEqual(condition(f, 'Ready')?.status, undefined);
    const services = await cp.http('GET', `/api/v1/namespaces/default/services?labelSelector=${encodeURIComponent(`kfn.dev/function=${name}`)}`);
    const names = (services.json as { items: Obj[] }).items.map((s) => s.metadata.name);
    assert.equal(names.length, 2, JSON.stringify(names));
    for (const n of names) assert.ok(n.length <= 63, n);
  });

  it('writes status naming the child and the server\'s message when the API server refuses a child', async () => {
    // A quota of zero Services in a namespace: the controller's write is refused (403).
    await create(cp, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'full' } });
    await create(cp, { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'no-services', namespace: 'full' }, spec: { hard: { services: '0' } } });
    const res = await serverSideApply(cp, fn('refused', {}, 'full'), { fieldManager: 'kubectl' });
    assert.equal(res.status, 201, messageOf(res));
    const f = await waitFor('a Ready=False status', async () => {
      const o = await get('/apis/kfn.dev/v1alpha1/namespaces/full/functions/refused');
      return condition(o, 'Ready')?.status === 'False' && /Service/.test(condition(o, 'Ready')?.message ?? '') ? o : undefined;
    }).catch(fail('no status for a refused child'));
    assert.match(condition(f, 'Ready')?.message ?? '', /exceeded quota/);
  });

  it('runs a Trigger: the consumer is made and the Trigger is Ready', async () => {
    const res = await serverSideApply(cp, {
      apiVersion: 'kfn.dev/v1alpha1', kind: 'Trigger', metadata: { name: 'greetings', namespace: 'default' },
      spec: { subject: 'greetings.>', function: 'hello' },
    }, { fieldManager: 'kubectl' });
    assert.equal(res.status, 201, messageOf(res));
    await waitFor('Trigger Ready', async () => condition(await get('/apis/kfn.dev/v1alpha1/namespaces/default/triggers/greetings'), 'Ready')?.status === 'True')
      .catch(fail('Trigger not ready'));
  });

  it('garbage-collects the children of a deleted Function', { skip: typeof assets !== 'string' && !assets.controllerManager ? 'kube-controller-manager is not in KUBEBUILDER_ASSETS' : false }, async () => {
    const res = await cp.http('DELETE', '/apis/kfn.dev/v1alpha1/namespaces/default/functions/hello');
    assert.ok(res.status === 200 || res.status === 202, res.text);
    await waitFor('children gone', async () =>
      !(await get('/apis/apps/v1/namespaces/default/deployments/hello')) && !(await get('/api/v1/namespaces/default/services/hello-replicas')), { timeoutMs: 60_000 });
  });

  it('never had a request refused by the API server (the RBAC in config/ is enough)', () => {
    for (const c of [kfn.controller, kfn.autoscaler, kfn.activator, kfn.dispatcher]) assert.deepEqual(c.refusals(), [], c.name);
  });
});
