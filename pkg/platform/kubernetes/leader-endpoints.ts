// The autoscaler Service's one endpoint: the leader's pod. The Service `kfn-autoscaler`
// has no selector, so the endpoints controller leaves it alone, and the leader writes its
// own EndpointSlice for it (label kubernetes.io/service-name, which kube-proxy joins
// slices by; managed-by names kfn, so the EndpointSlice controllers leave it alone too).
// Knative routes activator stats to its bucket leaders the same way: a selector-less
// Service whose endpoints the Lease holder writes.
//
// Why not a selector on a "leader" label of the pod: a leader that crashes keeps its label
// until someone removes it, and a restarted container of that pod would be selected again
// while not leading; a new leader would need rights to patch other pods. One slice that
// each leader overwrites is replaced in one write, and the next leader needs no clean-up.
import { isIP } from 'node:net';
import { DiscoveryV1Api, type KubeConfig, type V1EndpointSlice } from '@kubernetes/client-node';
import { isConflict, isNotFound } from '../../controller/errors.js';
import { sleep } from '../../shared/abort.js';
import { backoffDelay, type BackoffPolicy } from '../../shared/backoff.js';
import type { Logger } from '../../shared/log.js';
import { LABEL_SERVICE_NAME } from './endpoints.js';

export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'autoscaler.kfn.dev';

export interface LeaderEndpoint {
  namespace: string;
  /** The selector-less Service: `kfn-autoscaler`. */
  service: string;
  /** The Service port's name the slice's port must carry: `stats`. */
  portName: string;
  port: number;
  podName: string;
  podIP: string;
}

/** What is wrong with the leader's endpoint settings, or undefined. POD_IP comes from the downward API. */
export function leaderEndpointProblem(e: LeaderEndpoint): string | undefined {
  if (isIP(e.podIP) === 0) return `POD_IP: want the pod's IP address (downward API status.podIP), got ${JSON.stringify(e.podIP)}`;
  if (!Number.isInteger(e.port) || e.port < 1 || e.port > 65535) return `port: want 1-65535, got ${e.port}`;
  return undefined;
}

/** The slice's name: one per Service, so each leader replaces its predecessor's. */
export function leaderSliceName(service: string): string {
  return `${service}-leader`;
}

/** The EndpointSlice naming `e` as the Service's only endpoint. Pure. */
export function leaderEndpointSlice(e: LeaderEndpoint): V1EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: leaderSliceName(e.service),
      namespace: e.namespace,
      labels: { [LABEL_SERVICE_NAME]: e.service, [LABEL_MANAGED_BY]: MANAGED_BY, 'app.kubernetes.io/part-of': 'kfn' },
    },
    addressType: isIP(e.podIP) === 6 ? 'IPv6' : 'IPv4',
    endpoints: [
      {
        addresses: [e.podIP],
        conditions: { ready: true, serving: true, terminating: false },
        targetRef: { kind: 'Pod', namespace: e.namespace, name: e.podName },
      },
    ],
    ports: [{ name: e.portName, port: e.port, protocol: 'TCP' }],
  };
}

/** The address:port a slice names, if it names exactly one ready endpoint. For tests and logs. */
export function leaderAddressOf(slice: V1EndpointSlice | undefined): { ip: string; port: number } | undefined {
  const ep = slice?.endpoints?.[0];
  const ip = ep?.addresses?.[0];
  const port = slice?.ports?.[0]?.port;
  if (!ip || port === undefined || port === null || ep?.conditions?.ready === false) return undefined;
  return { ip, port };
}

export interface LeaderEndpointsDeps {
  kubeConfig: KubeConfig;
  endpoint: LeaderEndpoint;
  log: Logger;
}

/** Backoff of a failed publish: the term's stats wait on it. */
const PUBLISH_BACKOFF: BackoffPolicy = { kind: 'exponential', baseMs: 100, maxMs: 2000 };

export class LeaderEndpoints {
  private readonly api: DiscoveryV1Api;
  private readonly want: V1EndpointSlice;
  private readonly name: string;

  constructor(private readonly deps: LeaderEndpointsDeps) {
    const problem = leaderEndpointProblem(deps.endpoint);
    if (problem) throw new Error(`leader endpoint: ${problem}`);
    this.api = deps.kubeConfig.makeApiClient(DiscoveryV1Api);
    this.want = leaderEndpointSlice(deps.endpoint);
    this.name = leaderSliceName(deps.endpoint.service);
  }

  /**
   * Points the Service at this pod, retrying until it is written or `signal` aborts (the
   * term ended). Resolves true once written.
   */
  async publish(signal: AbortSignal): Promise<boolean> {
    for (let attempt = 1; !signal.aborted; attempt++) {
      try {
        await this.write();
        this.deps.log.info({ slice: this.name, ip: this.deps.endpoint.podIP }, 'stats now reach this autoscaler');
        return true;
      } catch (err) {
        // A 409 is a predecessor's last write or a rival's: the fresh read of the next try settles it.
        const level = isConflict(err) ? 'debug' : 'warn';
        const delay = backoffDelay(PUBLISH_BACKOFF, attempt);
        this.deps.log[level]({ err, retryInMs: delay }, 'could not publish the leader endpoint; retrying');
        await sleep(delay, signal);
      }
    }
    return false;
  }

  /**
   * Empties the slice when it still names this pod, so stats fail fast rather than go to
   * a pod that is leaving. A successor's slice is left alone: the replace carries the read's
   * resourceVersion, so a successor's write in between makes it a 409, not an overwrite.
   */
  async withdraw(): Promise<void> {
    try {
      const current = await this.api.readNamespacedEndpointSlice({ namespace: this.deps.endpoint.namespace, name: this.name });
      const named = leaderAddressOf(current);
      if (named?.ip !== this.deps.endpoint.podIP || named.port !== this.deps.endpoint.port) return;
      await this.api.replaceNamespacedEndpointSlice({
        namespace: this.deps.endpoint.namespace,
        name: this.name,
        body: { ...current, endpoints: [] },
      });
      this.deps.log.info({ slice: this.name }, 'withdrew the leader endpoint');
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return;
      this.deps.log.warn({ err }, 'could not withdraw the leader endpoint; the next leader overwrites it');
    }
  }

  private async write(): Promise<void> {
    const { namespace } = this.deps.endpoint;
    let current: V1EndpointSlice | undefined;
    try {
      current = await this.api.readNamespacedEndpointSlice({ namespace, name: this.name });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (!current) {
      await this.api.createNamespacedEndpointSlice({ namespace, body: this.want });
      return;
    }
    const body: V1EndpointSlice = {
      ...this.want,
      metadata: { ...this.want.metadata, resourceVersion: current.metadata?.resourceVersion },
    };
    await this.api.replaceNamespacedEndpointSlice({ namespace, name: this.name, body });
  }
}
