// The autoscaler's failover on a real API server: autoscaler processes with config/'s
// ServiceAccount elect a leader on a real Lease; the leader points the kfn-autoscaler
// Service at itself (its EndpointSlice); a stand-in for kube-proxy sends each connection
// where that slice says; a real activator pokes through it. The leader is killed
// (SIGKILL: no Lease released) and, later, stopped (SIGTERM: Lease released), each
// while a request waits for a function at zero; the test asserts that the cold start's
// scale is written by the next leader and reports how long that took. Skipped with one
// line without KUBEBUILDER_ASSETS.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { request } from 'undici';
import { freePort, hostIPv4 as hostIP } from '../util/net.js';
import { waitFor } from '../util/wait.js';
import { applyAll, configManifests, messageOf, serverSideApply } from './apply.js';
import { componentEnv, startComponent, type Component } from './components.js';
import { assetsOrSkip, startControlPlane, type ControlPlane } from './control-plane.js';

const assets = assetsOrSkip();
const skip = typeof assets === 'string' ? assets : hostIP ? false : 'no non-loopback IPv4 address on this machine (EndpointSlices refuse loopback)';

describe('autoscaler failover on a real API server', { skip, timeout: 300_000 }, () => {
  let cp: ControlPlane;
  let proxy: Server;
  const running: Component[] = [];
  let activator: Component;
  const autoscalers = new Map<number, Component>();

  /** The stats port the leader's EndpointSlice names, if any. */
  const leaderPort = async (): Promise<number | undefined> => {
    const res = await cp.http('GET', '/apis/discovery.k8s.io/v1/namespaces/kfn-system/endpointslices/kfn-autoscaler-leader');
    if (res.status !== 200) return undefined;
    const slice = res.json as { endpoints?: { addresses: string[] }[]; ports?: { port: number }[] };
    return slice.endpoints?.length ? slice.ports?.[0]?.port : undefined;
  };
  const replicasOf = async (name: string): Promise<number | undefined> =>
    ((await cp.http('GET', `/apis/apps/v1/namespaces/default/deployments/${name}`)).json as { spec?: { replicas?: number } } | undefined)?.spec?.replicas;

  const startAutoscaler = async (pod: string): Promise<Component> => {
    const [port, metrics] = [await freePort(), await freePort()];
    const c = await startComponent('autoscaler', port, metrics, await componentEnv(cp, 'kfn-autoscaler', pod, {
      KFN_PORT: String(port), KFN_METRICS_PORT: String(metrics), POD_IP: hostIP,
    }));
    running.push(c);
    autoscalers.set(port, c);
    return c;
  };

  before(async () => {
    cp = await startControlPlane(assets as Exclude<typeof assets, string>);
    assert.deepEqual((await applyAll(cp, configManifests())).warnings, []);
    // kube-proxy's part: each connection to the Service goes where its EndpointSlice says now.
    proxy = createServer((client: Socket) => {
      client.pause();
      leaderPort().then((port) => {
        if (!port) return client.destroy();
        const upstream = connect({ host: hostIP, port }, () => {
          client.pipe(upstream).pipe(client);
          client.resume();
        });
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
      }, () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxyPort = (proxy.address() as { port: number }).port;
    const [cPort, aPort, aMetrics] = [await freePort(), await freePort(), await freePort()];
    running.push(await startComponent('controller', cPort, cPort, await componentEnv(cp, 'kfn-controller', 'kfn-controller-0', { KFN_METRICS_PORT: String(cPort), NATS_URL: 'nats://127.0.0.1:1' })));
    activator = await startComponent('activator', aPort, aMetrics, await componentEnv(cp, 'kfn-activator', 'kfn-activator-0', {
      KFN_PORT: String(aPort), KFN_METRICS_PORT: String(aMetrics), KFN_AUTOSCALER_URL: `http://127.0.0.1:${proxyPort}`,
    }));
    running.push(activator);
    await startAutoscaler('kfn-autoscaler-a');
    await startAutoscaler('kfn-autoscaler-b');
  });
  after(async () => {
    for (const c of running) await c.stop();
    proxy?.close();
    await cp?.stop();
  });

  /** Starts a request for `name` at zero, returns ms until its scale reads 1. */
  const coldStartAfter = async (name: string, loseLeader: (leader: Component) => Promise<void>): Promise<number> => {
    const applied = await serverSideApply(cp, { apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', metadata: { name, namespace: 'default' }, spec: { image: 'registry.example/x:1', scale: { initial: 0 } } }, { fieldManager: 'kubectl' });
    assert.equal(applied.status, 201, messageOf(applied));
    await waitFor(`Deployment ${name} at 0`, async () => (await replicasOf(name)) === 0);
    const port = await waitFor('a leader', leaderPort);
    const leader = autoscalers.get(port);
    assert.ok(leader, `the slice names port ${port}, which no autoscaler here has`);
    const t0 = Date.now();
    await loseLeader(leader);
    const abort = new AbortController();
    const waiting = request(`http://127.0.0.1:${activator.port}/default/${name}/`, { signal: abort.signal }).catch(() => undefined);
    await waitFor(`${name} scaled from zero by the next leader`, async () => (await replicasOf(name)) === 1, { timeoutMs: 60_000, intervalMs: 50 });
    const ms = Date.now() - t0;
    abort.abort();
    await waiting;
    const next = await leaderPort();
    assert.ok(next !== undefined && next !== port, 'another autoscaler leads');
    return ms;
  };

  it('a cold start completes after the leader is killed, once the next one leads', async (t) => {
    const ms = await coldStartAfter('cold-crash', (leader) => leader.kill());
    t.diagnostic(`leader killed → scale from zero written: ${ms} ms`);
    await startAutoscaler('kfn-autoscaler-c'); // the Deployment's replacement pod
  });

  it('a cold start completes after the leader is stopped (SIGTERM releases the Lease)', async (t) => {
    const ms = await coldStartAfter('cold-stop', (leader) => leader.stop());
    t.diagnostic(`leader stopped → scale from zero written: ${ms} ms`);
  });
});
