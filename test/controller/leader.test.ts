// Leader election against the API server double with the real client: exactly one of two
// candidates acts; a clean stop hands over at once; a partitioned leader stops acting
// before another starts; a leader that finds the Lease taken stops.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CoordinationV1Api, V1MicroTime, type V1Deployment } from '@kubernetes/client-node';
import { leaseClient, runLeaderElection, type LeaseClient } from '../../pkg/controller/leader.js';
import { runFunctionController } from '../../pkg/reconciler/function/controller.js';
import { reconcilerConfig } from '../../pkg/reconciler/function/config.js';
import { quietLogger } from '../../pkg/shared/log.js';
import { startApiServer, type ApiServer } from '../kube/apiserver.js';
import { waitFor } from '../util/wait.js';
import { fnApi, mergePatch } from './harness.js';
import { CustomObjectsApi } from '@kubernetes/client-node';

const NS = 'kfn-system';
const TIMING = { leaseDurationMs: 1000, renewDeadlineMs: 700, retryPeriodMs: 100 };

interface Candidate {
  id: string;
  leading: boolean;
  terms: number;
  abort: AbortController;
  done: Promise<void>;
  /** Makes every Lease call of this candidate fail, as a network partition would. */
  partition(on: boolean): void;
}

/** Records every start/stop in order, so overlapping leadership is caught. */
class Timeline {
  readonly events: Array<{ at: number; id: string; what: 'start' | 'stop' }> = [];
  private readonly leading = new Set<string>();
  overlap = false;
  start(id: string): void {
    if (this.leading.size > 0) this.overlap = true;
    this.leading.add(id);
    this.events.push({ at: Date.now(), id, what: 'start' });
  }
  stop(id: string): void {
    this.leading.delete(id);
    this.events.push({ at: Date.now(), id, what: 'stop' });
  }
  last(id: string, what: 'start' | 'stop'): number | undefined {
    return this.events.filter((e) => e.id === id && e.what === what).at(-1)?.at;
  }
}

function failing(client: LeaseClient, isOn: () => boolean): LeaseClient {
  const guard = <T>(f: () => Promise<T>): Promise<T> => (isOn() ? Promise.reject(new Error('partitioned')) : f());
  return {
    get: (ns, name) => guard(() => client.get(ns, name)),
    create: (ns, lease) => guard(() => client.create(ns, lease)),
    replace: (ns, name, lease) => guard(() => client.replace(ns, name, lease)),
  };
}

describe('leader election against the API server double', () => {
  let server: ApiServer;
  let client: LeaseClient;
  before(async () => {
    server = await startApiServer();
    client = leaseClient(server.kubeConfig().makeApiClient(CoordinationV1Api));
  });
  after(async () => {
    await server.close();
  });

  function candidate(id: string, lease: string, timeline: Timeline, act?: (signal: AbortSignal) => Promise<void>): Candidate {
    let partitioned = false;
    const abort = new AbortController();
    const c: Candidate = {
      id,
      leading: false,
      terms: 0,
      abort,
      done: Promise.resolve(),
      partition: (on) => void (partitioned = on),
    };
    c.done = runLeaderElection({
      client: failing(client, () => partitioned),
      namespace: NS,
      name: lease,
      identity: id,
      ...TIMING,
      log: quietLogger(),
      signal: abort.signal,
      onStartedLeading: async (signal) => {
        c.leading = true;
        c.terms++;
        timeline.start(id);
        if (act) await act(signal);
        else await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      },
      onStoppedLeading: () => {
        c.leading = false;
        timeline.stop(id);
      },
    });
    return c;
  }

  const holderOf = async (lease: string): Promise<string | undefined> => (await client.get(NS, lease))?.spec?.holderIdentity;

  it('exactly one of two candidates leads; a clean stop releases the Lease and the other takes over at once', async () => {
    const t = new Timeline();
    const a = candidate('a', 'clean', t);
    const b = candidate('b', 'clean', t);
    try {
      const leader = await waitFor('a leader', () => (a.leading ? a : b.leading ? b : undefined));
      const other = leader === a ? b : a;
      // Several renewals go by with one leader only.
      const first = String((await client.get(NS, 'clean'))?.spec?.renewTime);
      await waitFor('renewals', async () => String((await client.get(NS, 'clean'))?.spec?.renewTime) !== first);
      assert.equal(await holderOf('clean'), leader.id);
      assert.equal(other.leading, false);

      leader.abort.abort();
      await leader.done;
      const stoppedAt = t.last(leader.id, 'stop');
      assert.ok(stoppedAt);
      await waitFor('takeover', () => other.leading, { timeoutMs: TIMING.leaseDurationMs * 3 });
      const startedAt = t.last(other.id, 'start');
      assert.ok(startedAt);
      assert.ok(startedAt - stoppedAt < TIMING.leaseDurationMs, `took over after ${startedAt - stoppedAt} ms, within the lease duration`);
      assert.equal(await holderOf('clean'), other.id);
      assert.equal(t.overlap, false);
    } finally {
      a.abort.abort();
      b.abort.abort();
      await Promise.all([a.done, b.done]);
    }
    assert.equal(await holderOf('clean'), undefined, 'released on shutdown');
  });

  it('a partitioned leader stops acting at its renew deadline, before the other takes over the expired Lease', async () => {
    const t = new Timeline();
    const a = candidate('a', 'partition', t);
    await waitFor('a leads', () => a.leading);
    const b = candidate('b', 'partition', t);
    try {
      a.partition(true);
      const cutAt = Date.now();
      await waitFor('a stops', () => !a.leading, { timeoutMs: 5000 });
      await waitFor('b leads', () => b.leading, { timeoutMs: 5000 });
      const aStopped = t.last('a', 'stop') ?? 0;
      const bStarted = t.last('b', 'start') ?? 0;
      assert.ok(aStopped <= bStarted, 'a stopped before b started');
      assert.ok(aStopped - cutAt <= TIMING.renewDeadlineMs + 3 * TIMING.retryPeriodMs, `a stopped ${aStopped - cutAt} ms after the cut`);
      // Slack for a loaded machine; the order of the two is what safety needs.
      assert.ok(bStarted - cutAt <= 2 * TIMING.leaseDurationMs, `b took over ${bStarted - cutAt} ms after the cut`);
      assert.equal(t.overlap, false);
    } finally {
      a.abort.abort();
      b.abort.abort();
      await Promise.all([a.done, b.done]);
    }
  });

  it('a leader that finds the Lease taken by someone else stops acting', async () => {
    const t = new Timeline();
    const a = candidate('a', 'taken', t);
    try {
      await waitFor('a leads', () => a.leading);
      const lease = await client.get(NS, 'taken');
      assert.ok(lease);
      // Another writer takes it (its PUT wins; a's next renewal reads it).
      await client.replace(NS, 'taken', { ...lease, spec: { ...lease.spec, holderIdentity: 'intruder', renewTime: new V1MicroTime(), leaseDurationSeconds: 30 } });
      await waitFor('a stops', () => !a.leading, { timeoutMs: 3000 });
      assert.equal(await holderOf('taken'), 'intruder');
    } finally {
      a.abort.abort();
      await a.done;
    }
    assert.equal(await holderOf('taken'), 'intruder', 'a does not release what it does not hold');
  });

  it('two Function controllers: only the leader reconciles, and the other takes over when it stops', async () => {
    const kc = server.kubeConfig();
    const custom = kc.makeApiClient(CustomObjectsApi);
    const cfg = reconcilerConfig({ domain: 'example.test' });
    const t = new Timeline();
    const act = (signal: AbortSignal): Promise<void> => runFunctionController({ kubeConfig: kc, cfg, log: quietLogger(), signal });
    const a = candidate('a', 'controllers', t, act);
    const b = candidate('b', 'controllers', t, act);
    const deployment = (): V1Deployment | undefined => server.store.get('deployments', 'ha', 'hello') as V1Deployment | undefined;
    try {
      await custom.createNamespacedCustomObject({ ...fnApi, namespace: 'ha', body: { apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', metadata: { name: 'hello' }, spec: { image: 'registry.example/hello:1' } } });
      await waitFor('deployment', () => deployment());
      const leader = a.leading ? a : b;
      const other = leader === a ? b : a;
      assert.equal(other.leading, false);
      // One controller wrote: one apply created the Deployment, and one set of creation
      // writes (apply, handover, apply) went out, where two acting controllers send more.
      const writes = server.requests.filter((r) => r.method === 'PATCH' && r.path === '/apis/apps/v1/namespaces/ha/deployments/hello');
      assert.deepEqual(writes.filter((r) => r.status === 201).length, 1);
      await waitFor('status', () => (server.store.get('functions.kfn.dev', 'ha', 'hello')?.status as { observedGeneration?: number } | undefined)?.observedGeneration === 1);
      assert.equal(server.requests.filter((r) => r.method === 'PATCH' && r.path === '/apis/apps/v1/namespaces/ha/deployments/hello').length, 3);

      leader.abort.abort();
      await leader.done;
      await waitFor('takeover', () => other.leading, { timeoutMs: TIMING.leaseDurationMs * 3 });
      await custom.patchNamespacedCustomObject({ ...fnApi, namespace: 'ha', name: 'hello', body: { spec: { image: 'registry.example/hello:2' } } }, mergePatch);
      await waitFor('the new leader applies the edit', () => deployment()?.spec?.template.spec?.containers[0]?.image === 'registry.example/hello:2');
      assert.equal(t.overlap, false);
    } finally {
      a.abort.abort();
      b.abort.abort();
      await Promise.all([a.done, b.done]);
    }
  });
});
