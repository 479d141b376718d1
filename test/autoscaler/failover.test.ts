// Autoscaler failover, end to end: two real autoscaler instances (runLeaderElection +
// runLeaderTerm, as main.ts runs them) against the API server double, and a real
// activator stat sink posting to "the Service". A kube-proxy double stands in for the
// ClusterIP: each connection goes where the leader's EndpointSlice points at that moment.
// Each instance reaches the API server through a link of its own, so a crash cuts
// everything it does at once: no release, no withdrawn endpoint, no last write.
//
// The figures (loss of the leader → a cold-start poke's scale write) are printed as test
// diagnostics, not asserted: a timed assertion would be a flaky one.
import assert from 'node:assert/strict';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CoordinationV1Api, KubeConfig, type V1EndpointSlice } from '@kubernetes/client-node';
import { AUTOSCALER_LEASE } from '../../cmd/autoscaler/flags.js';
import { runLeaderTerm } from '../../cmd/autoscaler/start.js';
import { HttpStatSink } from '../../pkg/autoscaler/http.js';
import { leaseClient, runLeaderElection } from '../../pkg/controller/leader.js';
import { leaderAddressOf, leaderSliceName } from '../../pkg/platform/kubernetes/leader-endpoints.js';
import { quietLogger } from '../../pkg/shared/log.js';
import { startApiServer, type ApiServer, type KubeObject } from '../kube/apiserver.js';
import { deployment } from '../platform/kubernetes/fixtures.js';
import { waitFor } from '../util/wait.js';

const SYSTEM = 'kfn-system';
const SERVICE = 'kfn-autoscaler';
const NS = 'apps';

/** A TCP forwarder whose target is looked up per connection; cut() drops every connection and refuses new ones. */
interface Forwarder {
  port: number;
  cut(): void;
  close(): Promise<void>;
}

async function forwarder(target: () => { host: string; port: number } | undefined): Promise<Forwarder> {
  const sockets = new Set<Socket>();
  let cut = false;
  const server: Server = createServer((client) => {
    const to = cut ? undefined : target();
    // No endpoint: refused at once, as kube-proxy rejects a Service with no endpoints.
    if (!to) return void client.destroy();
    const upstream = connect(to.port, to.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    cut() {
      cut = true;
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A KubeConfig like `base` whose server is `url`. */
function kubeConfigVia(base: KubeConfig, url: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: base.clusters.map((c) => ({ ...c, server: url })),
    users: base.users,
    contexts: base.contexts,
    currentContext: base.currentContext,
  });
  return kc;
}

interface Instance {
  id: string;
  leading: boolean;
  stoppedAt: number | undefined;
  /** SIGTERM: the Lease is released and the endpoint withdrawn. */
  stop(): Promise<void>;
  /** A crash: the API server and the stats port become unreachable at once; nothing is released. */
  crash(): Promise<void>;
}

describe('autoscaler failover: two replicas, stats reach whichever leads', () => {
  let api: ApiServer;
  let proxy: Forwarder;
  let sink: HttpStatSink;
  const instances: Instance[] = [];
  const links: Forwarder[] = [];

  const slice = (): V1EndpointSlice | undefined => api.store.get('endpointslices', SYSTEM, leaderSliceName(SERVICE)) as V1EndpointSlice | undefined;
  const replicas = (name: string): number | undefined => (api.store.get('deployments', NS, name)?.spec as { replicas?: number } | undefined)?.replicas;

  function fnObject(name: string): KubeObject {
    return { apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', metadata: { name, namespace: NS }, spec: { image: 'example/hello:1' } };
  }
  /** A Function scaled to zero, as a leader left it: Deployment at 0 replicas. */
  function functionAtZero(name: string): void {
    api.store.create('functions.kfn.dev', fnObject(name));
    api.store.create('deployments', deployment(name, { namespace: NS, replicas: 0 }) as unknown as KubeObject);
  }

  async function start(id: string): Promise<Instance> {
    const link = await forwarder(() => ({ host: '127.0.0.1', port: Number(new URL(api.url).port) }));
    links.push(link);
    const kubeConfig = kubeConfigVia(api.kubeConfig(), `http://127.0.0.1:${link.port}`);
    const abort = new AbortController();
    const inst: Instance = {
      id,
      leading: false,
      stoppedAt: undefined,
      stop: async () => {
        abort.abort();
        await done;
      },
      crash: async () => {
        link.cut();
        abort.abort();
        await done;
      },
    };
    const done = runLeaderElection({
      client: leaseClient(kubeConfig.makeApiClient(CoordinationV1Api)),
      namespace: SYSTEM,
      name: SERVICE,
      identity: id,
      ...AUTOSCALER_LEASE,
      log: quietLogger(),
      signal: abort.signal,
      onStartedLeading: async (leading) => {
        inst.leading = true;
        try {
          await runLeaderTerm({
            kubeConfig,
            config: { tickIntervalMs: 200 },
            port: 0,
            host: '127.0.0.1',
            log: quietLogger(),
            signal: leading,
            endpoint: { namespace: SYSTEM, service: SERVICE, portName: 'stats', podName: id, podIP: '127.0.0.1' },
          });
        } finally {
          inst.leading = false;
          inst.stoppedAt = Date.now();
        }
      },
    });
    instances.push(inst);
    return inst;
  }

  before(async () => {
    api = await startApiServer();
    proxy = await forwarder(() => {
      const a = leaderAddressOf(slice());
      return a ? { host: a.ip, port: a.port } : undefined;
    });
    sink = new HttpStatSink(`http://127.0.0.1:${proxy.port}`, { log: quietLogger() });
  });

  after(async () => {
    await sink.close();
    await Promise.allSettled(instances.map((i) => i.stop()));
    await Promise.allSettled([proxy.close(), ...links.map((l) => l.close())]);
    await api.close();
  });

  it('a crashed leader is replaced and a cold start poked during the gap completes; a SIGTERM hands over at once; idle functions stay at zero', async (t) => {
    functionAtZero('idle');
    functionAtZero('cold-1');
    functionAtZero('cold-2');

    const a = await start('autoscaler-a');
    await waitFor('a leads and the Service points at it', () => a.leading && leaderAddressOf(slice()) !== undefined);
    const b = await start('autoscaler-b');
    assert.equal(b.leading, false, 'b is a standby while a holds the Lease');

    // 1. The leader crashes; a request for a function at zero arrives at that moment.
    const crashedAt = Date.now();
    await a.crash();
    sink.poke({ namespace: NS, name: 'cold-1' });
    await waitFor('b takes over', () => b.leading, { timeoutMs: 30_000 });
    const bLeadsAt = Date.now();
    await waitFor('the cold start poked during the failover scales cold-1 from zero', () => replicas('cold-1') === 1, { timeoutMs: 30_000 });
    const crashScaledAt = Date.now();
    assert.equal(leaderAddressOf(slice())?.port !== undefined, true);

    // 2. A restarted a is now the standby; b gets SIGTERM (a rollout, a drain).
    const a2 = await start('autoscaler-a2');
    const stoppingAt = Date.now();
    const stopped = b.stop();
    sink.poke({ namespace: NS, name: 'cold-2' });
    await stopped;
    await waitFor('a2 takes over from the released Lease', () => a2.leading, { timeoutMs: 30_000 });
    const a2LeadsAt = Date.now();
    await waitFor('the cold start poked during the hand-over scales cold-2 from zero', () => replicas('cold-2') === 1, { timeoutMs: 30_000 });
    const cleanScaledAt = Date.now();

    // Two new leaders adopted 'idle' at zero: neither woke it to its initial scale (1).
    assert.equal(replicas('idle'), 0);
    assert.equal(replicas('cold-1'), 1, 'the second leader adopted cold-1 at 1 and kept it');

    const lease = AUTOSCALER_LEASE;
    t.diagnostic(`lease ${lease.leaseDurationMs} ms, renew deadline ${lease.renewDeadlineMs} ms, retry ${lease.retryPeriodMs} ms`);
    t.diagnostic(`crash: new leader after ${bLeadsAt - crashedAt} ms; cold-start poke → scale write ${crashScaledAt - crashedAt} ms after the crash`);
    t.diagnostic(`SIGTERM: old leader stopped in ${(b.stoppedAt ?? stoppingAt) - stoppingAt} ms; new leader after ${a2LeadsAt - stoppingAt} ms; poke → scale write ${cleanScaledAt - stoppingAt} ms after SIGTERM`);
  });
});
