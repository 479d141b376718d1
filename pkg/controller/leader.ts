// Leader election on a Lease, so that of several controller replicas exactly one acts.
// A candidate tries every retryPeriod to take the Lease when it is free or expired; the
// leader renews it every retryPeriod and stops acting when it finds someone else holds
// it or when it has not renewed for renewDeadline (before the Lease can expire for
// others: renewDeadline < leaseDuration). A 409 on renewal means another writer got in
// first; the next try's fresh read tells whether it took the Lease. On shutdown the
// leader clears the holder, so another replica takes over at its next try rather than
// after the lease duration.
import { V1MicroTime, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from '../shared/log.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { sleep } from '../shared/abort.js';
import { isApiError } from './errors.js';
import { leaseAction, leaseRecordOf, nextLeaseSpec, type LeaseRecord } from './lease.js';

/** The three calls leader election makes; a CoordinationV1Api adapter is leaseClient(). */
export interface LeaseClient {
  get(namespace: string, name: string): Promise<V1Lease | undefined>;
  create(namespace: string, lease: V1Lease): Promise<V1Lease>;
  /** Fails with a 409 ApiException when lease.metadata.resourceVersion is stale. */
  replace(namespace: string, name: string, lease: V1Lease): Promise<V1Lease>;
}

export function leaseClient(api: CoordinationV1Api): LeaseClient {
  return {
    async get(namespace, name) {
      try {
        return await api.readNamespacedLease({ namespace, name });
      } catch (err) {
        if (isApiError(err, 404)) return undefined;
        throw err;
      }
    },
    create: (namespace, body) => api.createNamespacedLease({ namespace, body }),
    replace: (namespace, name, body) => api.replaceNamespacedLease({ namespace, name, body }),
  };
}

export const DEFAULT_LEASE_DURATION_MS = 15_000;
export const DEFAULT_RENEW_DEADLINE_MS = 10_000;
export const DEFAULT_RETRY_PERIOD_MS = 2_000;

export interface LeaderElectionOptions {
  client: LeaseClient;
  namespace: string;
  /** The Lease's name, one per component: `kfn-controller`. */
  name: string;
  /** Unique per replica: the pod name. */
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /**
   * Called on becoming leader; act until `signal` aborts (leadership lost or shutdown).
   * The returned promise is awaited before leadership is released.
   */
  onStartedLeading(signal: AbortSignal): Promise<void> | void;
  onStoppedLeading?(): void;
  log: Logger;
  signal: AbortSignal;
  clock?: Clock;
}

/** A component's leader-election settings, as its flags give them. */
export interface LeaseSettings {
  /** Where the Lease lives: the component's own namespace. */
  namespace: string;
  leaseName: string;
  /** Unique per replica: the pod name. */
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/** The Lease part of LeaderElectionOptions from a component's settings. */
export function leaseOptions(s: LeaseSettings): Pick<LeaderElectionOptions, 'namespace' | 'name' | 'identity' | 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'> {
  return {
    namespace: s.namespace,
    name: s.leaseName,
    identity: s.identity,
    leaseDurationMs: s.leaseDurationMs,
    renewDeadlineMs: s.renewDeadlineMs,
    retryPeriodMs: s.retryPeriodMs,
  };
}

type Attempt = { type: 'held' } | { type: 'lost'; holder: string | undefined } | { type: 'failed'; err: unknown };

/**
 * Campaigns until `signal` aborts: leads while it holds the Lease, and campaigns again
 * after losing it. Resolves after the last leadership term has ended and been released.
 */
export async function runLeaderElection(opts: LeaderElectionOptions): Promise<void> {
  const leaseDurationMs = opts.leaseDurationMs ?? DEFAULT_LEASE_DURATION_MS;
  const renewDeadlineMs = opts.renewDeadlineMs ?? DEFAULT_RENEW_DEADLINE_MS;
  const retryPeriodMs = opts.retryPeriodMs ?? DEFAULT_RETRY_PERIOD_MS;
  if (!(renewDeadlineMs < leaseDurationMs)) throw new Error('leader election: renewDeadline must be shorter than leaseDuration');
  const clock = opts.clock ?? systemClock;
  const log = opts.log.child({ lease: `${opts.namespace}/${opts.name}`, identity: opts.identity });

  async function tryAcquireOrRenew(): Promise<Attempt> {
    try {
      const lease = await opts.client.get(opts.namespace, opts.name);
      const rec: LeaseRecord | undefined = lease ? leaseRecordOf(lease) : undefined;
      const now = clock.now();
      const action = leaseAction(rec, opts.identity, now);
      if (action === 'wait') return { type: 'lost', holder: rec?.holder };
      const next = nextLeaseSpec(rec, action, opts.identity, leaseDurationMs, now);
      const spec: V1Lease['spec'] = {
        ...lease?.spec,
        holderIdentity: next.holder,
        leaseDurationSeconds: next.leaseDurationSeconds,
        acquireTime: new V1MicroTime(next.acquireTimeMs),
        renewTime: new V1MicroTime(next.renewTimeMs),
        leaseTransitions: next.transitions,
      };
      if (!lease) {
        await opts.client.create(opts.namespace, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: opts.name, namespace: opts.namespace }, spec });
      } else {
        // resourceVersion from the read: a concurrent writer makes this a 409.
        await opts.client.replace(opts.namespace, opts.name, { ...lease, spec });
      }
      return { type: 'held' };
    } catch (err) {
      return { type: 'failed', err };
    }
  }

  async function lead(): Promise<void> {
    const term = new AbortController();
    const stopTerm = (): void => term.abort();
    opts.signal.addEventListener('abort', stopTerm, { once: true });
    log.info('started leading');
    const work = (async () => opts.onStartedLeading(term.signal))().catch((err: unknown) => {
      log.error({ err }, 'leader work failed');
      term.abort();
    });
    let lastRenew = clock.now();
    try {
      while (!term.signal.aborted) {
        await sleep(retryPeriodMs, term.signal);
        if (term.signal.aborted) break;
        const r = await tryAcquireOrRenew();
        if (r.type === 'held') {
          lastRenew = clock.now();
        } else if (r.type === 'lost') {
          log.warn({ holder: r.holder }, 'lost the lease to another holder');
          break;
        } else if (clock.now() - lastRenew >= renewDeadlineMs) {
          log.warn({ err: r.err }, 'could not renew the lease within the renew deadline');
          break;
        } else {
          log.debug({ err: r.err }, 'lease renewal failed; retrying');
        }
      }
    } finally {
      term.abort();
      opts.signal.removeEventListener('abort', stopTerm);
      await work;
      log.info('stopped leading');
      opts.onStoppedLeading?.();
    }
    if (opts.signal.aborted) await release();
  }

  async function release(): Promise<void> {
    try {
      const lease = await opts.client.get(opts.namespace, opts.name);
      if (!lease || lease.spec?.holderIdentity !== opts.identity) return;
      const spec = { ...lease.spec };
      delete spec.holderIdentity;
      // client-go leaves a 1 s lease behind, for holders that do not treat "no holder" as free.
      spec.leaseDurationSeconds = 1;
      spec.renewTime = new V1MicroTime(clock.now());
      await opts.client.replace(opts.namespace, opts.name, { ...lease, spec });
      log.info('released the lease');
    } catch (err) {
      log.warn({ err }, 'could not release the lease; others take over when it expires');
    }
  }

  while (!opts.signal.aborted) {
    const r = await tryAcquireOrRenew();
    if (r.type === 'held') {
      await lead();
      // A term that ended early (its work failed) is not restarted in a tight loop.
      await sleep(retryPeriodMs, opts.signal);
      continue;
    }
    if (r.type === 'failed') log.debug({ err: r.err }, 'lease acquisition failed; retrying');
    await sleep(retryPeriodMs, opts.signal);
  }
}
