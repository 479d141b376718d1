// kfn on a real API server, as an operator sees it after `kubectl apply -k config/`:
// the controller, autoscaler, activator and dispatcher run as processes, each with its
// own ServiceAccount's token; a Function becomes its children (owned, named validly,
// written by server-side apply), its status and its Events; a request from zero makes
// the autoscaler write the scale; a Trigger gets its consumer; deleting a Function
// garbage-collects its children. Skipped with one line without KUBEBUILDER_ASSETS.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { startNatsServer, type NatsServer } from '../util/nats.js';
import { waitFor } from '../util/wait.js';
import { repoRoot } from '../config/load.js';
import { runKfn as runKfnCli } from '../util/dev.js';
import { hostIPv4 as hostIP } from '../util/net.js';
import { applyAll, configManifests, create, kubectl, messageOf, serverSideApply, type Manifest } from './apply.js';
import { startComponents, type Components } from './components.js';
import { assetsOrSkip, startControlPlane, type ControlPlane } from './control-plane.js';

const assets = assetsOrSkip();
const skip = typeof assets === 'string' ? assets : false;
const noKcm = typeof assets !== 'string' && !assets.controllerManager ? 'kube-controller-manager is not in KUBEBUILDER_ASSETS' : false;
const noKubectl = typeof assets !== 'string' && !assets.kubectl ? 'kubectl is not in KUBEBUILDER_ASSETS' : false;

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
    // POD_IP: the autoscaler leader points the kfn-autoscaler Service at itself.
    kfn = await startComponents(cp, nats.url, hostIP ? { autoscaler: { POD_IP: hostIP } } : {});
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

  it('costs no write to a child when nothing about it changed (the server\'s defaults are no difference)', async () => {
    // The API server counts requests by verb and resource; only the controller applies
    // Deployments and Services here (the autoscaler patches the scale subresource).
    const applies = async (): Promise<number> => {
      const text = (await cp.http('GET', '/metrics')).text;
      return text.split('\n')
        .filter((l) => l.startsWith('apiserver_request_total{') && l.includes('verb="APPLY"') && /resource="(deployments|services)"/.test(l) && l.includes('subresource=""'))
        .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    };
    const reconciles = (): number => kfn.controller.logs().split('\n').filter((l) => l.includes('"reconciled"') && l.includes('Function/default/hello')).length;
    const before = await applies();
    assert.ok(before > 0, 'the metric counts the controller\'s applies');
    const seen = reconciles();
    // A label is no spec change: the Function is reconciled, and nothing should be written.
    const res = await cp.http('PATCH', '/apis/kfn.dev/v1alpha1/namespaces/default/functions/hello', {
      body: { metadata: { labels: { touched: 'yes' } } }, contentType: 'application/merge-patch+json',
    });
    assert.equal(res.status, 200, res.text);
    await waitFor('a reconcile of hello', () => reconciles() > seen).catch(fail('no reconcile'));
    assert.equal(await applies(), before);
  });

  it('records Events an operator reads in kubectl describe', async () => {
    const reasons = await waitFor('Events about hello', async () => {
      const r = (await eventsAbout('default', 'hello')).map((e) => e.reason);
      return r.includes('Created') && r.includes('ScaledFromZero') ? r : undefined;
    }).catch(fail('no Events'));
    assert.ok(reasons.includes('Created'));
  });

  it('shows those Events in kubectl describe fn', { skip: noKubectl }, async () => {
    const out = await kubectl(cp, ['describe', 'fn', 'hello', '-n', 'default'], repoRoot());
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /Events:[\s\S]*Created[\s\S]*/);
    assert.match(out.stdout, /ScaledFromZero/);
  });

  it('the autoscaler leader points the kfn-autoscaler Service at itself, with the rights config/ gives it', { skip: hostIP ? false : 'no non-loopback IPv4 address on this machine' }, async () => {
    const slice = await waitFor('EndpointSlice kfn-autoscaler-leader', async () => {
      const res = await cp.http('GET', '/apis/discovery.k8s.io/v1/namespaces/kfn-system/endpointslices/kfn-autoscaler-leader');
      return res.status === 200 ? (res.json as { endpoints: { addresses: string[] }[]; ports: { name: string; port: number }[]; metadata: { labels: Record<string, string> } }) : undefined;
    }).catch(fail('no leader EndpointSlice'));
    assert.deepEqual(slice.endpoints.map((e) => e.addresses), [[hostIP]]);
    assert.deepEqual(slice.ports.map((p) => p.port), [kfn.autoscaler.port]);
    assert.equal(slice.metadata.labels['kubernetes.io/service-name'], 'kfn-autoscaler');
  });

  it('shows each component by name in managedFields (its User-Agent), not as node-fetch', async () => {
    const f = await get('/apis/kfn.dev/v1alpha1/namespaces/default/functions/hello');
    const managers = (f?.metadata.managedFields ?? []).map((m) => m.manager);
    assert.ok(managers.includes('kfn-controller'), JSON.stringify(managers));
    assert.ok(!managers.some((m) => /node-fetch/i.test(m)), JSON.stringify(managers));
  });

  it('kfn apply, get, invoke and delete work against the cluster through a kubeconfig', { skip: hostIP ? false : 'no non-loopback IPv4 address on this machine' }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kfn-cli-'));
    const manifest = path.join(dir, 'fn.yaml');
    writeFileSync(manifest, 'apiVersion: kfn.dev/v1alpha1\nkind: Function\nmetadata:\n  name: from-cli\nspec:\n  image: registry.example/hello:1\n  scale:\n    initial: 0\n');
    const env = { PATH: process.env.PATH, HOME: dir, KFN_HOME: dir, KUBECONFIG: cp.kubeconfig({ name: 'user' }) };
    const applied = await runKfnCli(['apply', '-f', manifest], env);
    assert.equal(applied.code, 0, applied.stderr);
    const again = await runKfnCli(['apply', '-f', manifest], env);
    assert.equal(again.code, 0, again.stderr);
    await waitFor('from-cli has a URL', async () => (await get('/apis/kfn.dev/v1alpha1/namespaces/default/functions/from-cli'))?.status?.url).catch(fail('no status'));
    const listed = await runKfnCli(['get', '-n', 'default'], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /from-cli/);

    // invoke goes through the API server's service proxy to the kfn-activator Service.
    // The proxy dials only endpoint addresses that belong to a Pod with that IP, and no
    // pod runs here: a Pod object stands in for the activator's, given this machine's IP,
    // and the Service's endpoints are pointed at it by hand.
    const pod = await create(cp, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'kfn-activator-envtest', namespace: 'kfn-system' },
      spec: {
        serviceAccountName: 'kfn-activator', automountServiceAccountToken: false,
        securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [{ name: 'activator', image: 'kfn/platform:dev', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
      },
    });
    assert.equal(pod.status, 201, pod.text);
    const podStatus = await cp.http('PATCH', '/api/v1/namespaces/kfn-system/pods/kfn-activator-envtest/status', {
      body: { status: { podIP: hostIP, podIPs: [{ ip: hostIP }] } }, contentType: 'application/merge-patch+json',
    });
    assert.equal(podStatus.status, 200, podStatus.text);
    const svc = await cp.http('PATCH', '/api/v1/namespaces/kfn-system/services/kfn-activator', { body: { spec: { selector: null } }, contentType: 'application/merge-patch+json' });
    assert.equal(svc.status, 200, svc.text);
    const endpoints = {
      apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'kfn-activator', namespace: 'kfn-system' },
      subsets: [{
        addresses: [{ ip: hostIP ?? '', targetRef: { kind: 'Pod', namespace: 'kfn-system', name: 'kfn-activator-envtest' } }],
        ports: [{ name: 'http', port: kfn.activator.port }],
      }],
    };
    let last = '';
    const invoked = await waitFor('an invoke through the service proxy', async () => {
      const current = await cp.http('GET', '/api/v1/namespaces/kfn-system/endpoints/kfn-activator');
      if (!current.text.includes(hostIP ?? '-')) {
        const res = current.status === 404 ? await create(cp, endpoints) : await cp.http('PUT', '/api/v1/namespaces/kfn-system/endpoints/kfn-activator', { body: endpoints });
        last = `endpoints write: ${res.status} ${res.text}`;
        assert.ok(res.status < 300 || res.status === 409, res.text);
      }
      const out = await runKfnCli(['invoke', 'no-such-function', '-n', 'default'], env);
      last = `${out.code} ${out.stdout}${out.stderr}`;
      return /no endpoints available/.test(out.stderr) ? undefined : out;
    }, { timeoutMs: 30_000, intervalMs: 200 }).catch((err: unknown) => fail(`the service proxy never reached the activator; last: ${last}`)(err));
    assert.notEqual(invoked.code, 0);
    assert.match(invoked.stdout + invoked.stderr, /404/);
    assert.match(invoked.stdout + invoked.stderr, /function_not_found|not found/i);

    const deleted = await runKfnCli(['delete', 'from-cli', '-n', 'default'], env);
    assert.equal(deleted.code, 0, deleted.stderr);
    await waitFor('from-cli gone', async () => !(await get('/apis/kfn.dev/v1alpha1/namespaces/default/functions/from-cli')));
  });

  it('runs a Function in a namespace enforcing the restricted Pod Security profile when it opts in to non-root, and says why not when it does not', { skip: noKcm }, async () => {
    await create(cp, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'locked', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } });
    const nonRoot = await serverSideApply(cp, fn('nonroot', { scale: { initial: 1 }, securityContext: { runAsNonRoot: true, runAsUser: 65532 } }, 'locked'), { fieldManager: 'kubectl' });
    assert.equal(nonRoot.status, 201, messageOf(nonRoot));
    const root = await serverSideApply(cp, fn('asroot', { scale: { initial: 1 } }, 'locked'), { fieldManager: 'kubectl' });
    assert.equal(root.status, 201, messageOf(root));
    // The Deployment controller (kube-controller-manager) creates the pods; Pod Security admits or refuses them.
    await waitFor('a pod of nonroot', async () => {
      const res = await cp.http('GET', `/api/v1/namespaces/locked/pods?labelSelector=${encodeURIComponent('kfn.dev/function=nonroot')}`);
      return ((res.json as { items: unknown[] }).items.length > 0);
    }, { timeoutMs: 60_000 }).catch(fail('the non-root Function got no pod'));
    const refused = await waitFor('asroot says why it has no replica', async () => {
      const o = await get('/apis/kfn.dev/v1alpha1/namespaces/locked/functions/asroot');
      const c = condition(o, 'DeploymentReady');
      return c?.status === 'False' && /runAsNonRoot/.test(c.message ?? '') ? c : undefined;
    }, { timeoutMs: 60_000 }).catch(fail('asroot: no reason'));
    assert.equal(refused.reason, 'FailedCreate');
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

  it('runs a Trigger: the consumer is made, the Trigger is Ready, and one ConsumerReady Event says so', async () => {
    const res = await serverSideApply(cp, {
      apiVersion: 'kfn.dev/v1alpha1', kind: 'Trigger', metadata: { name: 'greetings', namespace: 'default' },
      spec: { subject: 'greetings.>', function: 'hello' },
    }, { fieldManager: 'kubectl' });
    assert.equal(res.status, 201, messageOf(res));
    await waitFor('Trigger Ready', async () => condition(await get('/apis/kfn.dev/v1alpha1/namespaces/default/triggers/greetings'), 'Ready')?.status === 'True')
      .catch(fail('Trigger not ready'));
    const events = await waitFor('a ConsumerReady Event', async () => {
      const found = (await eventsAbout('default', 'greetings')).filter((e) => e.reason === 'ConsumerReady');
      return found.length > 0 ? found : undefined;
    }).catch(fail('no ConsumerReady Event'));
    assert.deepEqual(events.map((e) => [e.type, e.regarding.kind]), [['Normal', 'Trigger']]);
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
