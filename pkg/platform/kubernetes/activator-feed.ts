// Between the cluster's watches and one activator of several: forwards each function's
// serving settings and ready endpoints, cut down to this activator's share (share.ts),
// and recomputes every share when the set of activators changes. The activator itself
// stays unaware of its peers: it is told fewer replicas, or a lower
// containerConcurrency, and enforces that as usual.
//
// What the activator would need to do better than this: a capacity per endpoint
// (ReadyEndpoint.capacity, given to the breaker of that replica) would let the replicas
// left over by subsetting (R mod A of them) be shared at split capacity instead of going
// whole to one activator.
import type { LoadBalancingSpec } from '../../apis/function/types.js';
import { keyOf, type FunctionKey } from '../../apis/meta.js';
import type { ActivationFailure, EndpointsUpdate, ReadyEndpoint } from '../types.js';
import { sameEndpoints } from './endpoints.js';
import { activatorShare } from './share.js';

/**
 * A function's serving settings as the feed passes them on: the activator's own
 * FunctionServing fits it. Declared here, where it is used, so the platform does not
 * import the activator it feeds.
 */
export interface FunctionServing {
  /** Hard limit per replica; 0 = unlimited. */
  containerConcurrency?: number;
  timeoutSeconds?: number;
  retryIdempotent?: boolean;
  loadBalancing?: LoadBalancingSpec;
  portName?: 'http1' | 'h2c';
}

/** The part of the activator this drives. */
export interface ActivatorRoutes {
  upsertFunction(key: FunctionKey, serving: FunctionServing): void;
  removeFunction(key: FunctionKey): void;
  updateEndpoints(update: EndpointsUpdate): void;
}

interface FunctionFeed {
  key: FunctionKey;
  /** Undefined until the Function is known; endpoints wait for it. */
  serving: FunctionServing | undefined;
  endpoints: readonly ReadyEndpoint[];
  failure: ActivationFailure | undefined;
  /** What the activator was last told. */
  sentConcurrency: number | undefined;
  sentTimeout: number | undefined;
  /** retryIdempotent and loadBalancing as last sent, as JSON. */
  sentRequests: string | undefined;
  sentPortName: 'http1' | 'h2c' | undefined;
  sentEndpoints: readonly ReadyEndpoint[];
  sentFailure: ActivationFailure | undefined;
  /** From the Function's status: why its replicas cannot start (see activation-failure.ts). */
  statusFailure?: ActivationFailure | undefined;
}

export class ActivatorFeed {
  private readonly functions = new Map<string, FunctionFeed>();
  private peers: readonly string[] = [];

  /** `self` is this activator's pod name, as it appears in the activator Service's endpoints. */
  constructor(
    private readonly activator: ActivatorRoutes,
    private readonly self: string,
  ) {}

  upsertFunction(key: FunctionKey, serving: FunctionServing, failure?: ActivationFailure): void {
    const fn = this.entry(key);
    fn.serving = { ...serving };
    fn.statusFailure = failure;
    this.push(fn);
  }

  removeFunction(key: FunctionKey): void {
    const fn = this.functions.get(keyOf(key));
    if (!fn?.serving) return;
    fn.serving = undefined;
    fn.sentConcurrency = undefined;
    fn.sentTimeout = undefined;
    fn.sentRequests = undefined;
    fn.sentPortName = undefined;
    fn.sentEndpoints = [];
    fn.sentFailure = undefined;
    if (fn.endpoints.length === 0 && !fn.failure) this.functions.delete(keyOf(key));
    this.activator.removeFunction(key);
  }

  updateEndpoints(update: EndpointsUpdate): void {
    const fn = this.entry(update.key);
    fn.endpoints = update.endpoints;
    fn.failure = update.failure;
    if (!fn.serving && fn.endpoints.length === 0 && !fn.failure) {
      this.functions.delete(keyOf(update.key));
      return;
    }
    this.push(fn);
  }

  /** The ready activators' pod names. */
  setPeers(names: readonly string[]): void {
    this.peers = [...names];
    for (const fn of this.functions.values()) this.push(fn);
  }

  private entry(key: FunctionKey): FunctionFeed {
    const id = keyOf(key);
    let fn = this.functions.get(id);
    if (!fn) {
      fn = {
        key: { namespace: key.namespace, name: key.name },
        serving: undefined,
        endpoints: [],
        failure: undefined,
        sentConcurrency: undefined,
        sentTimeout: undefined,
        sentRequests: undefined,
        sentPortName: undefined,
        sentEndpoints: [],
        sentFailure: undefined,
      };
      this.functions.set(id, fn);
    }
    return fn;
  }

  private push(fn: FunctionFeed): void {
    if (!fn.serving) return;
    const share = activatorShare({
      containerConcurrency: fn.serving.containerConcurrency ?? 0,
      replicas: fn.endpoints,
      activators: this.peers,
      self: this.self,
    });
    const requests = JSON.stringify([fn.serving.retryIdempotent ?? false, fn.serving.loadBalancing ?? null]);
    if (
      share.containerConcurrency !== fn.sentConcurrency ||
      fn.serving.timeoutSeconds !== fn.sentTimeout ||
      fn.serving.portName !== fn.sentPortName ||
      requests !== fn.sentRequests
    ) {
      fn.sentConcurrency = share.containerConcurrency;
      fn.sentTimeout = fn.serving.timeoutSeconds;
      fn.sentPortName = fn.serving.portName;
      fn.sentRequests = requests;
      this.activator.upsertFunction(fn.key, { ...fn.serving, containerConcurrency: share.containerConcurrency });
    }
    // A status failure only matters while nothing can serve: old replicas still running
    // during a broken rollout keep taking requests.
    const failure = fn.failure ?? (share.endpoints.length === 0 ? fn.statusFailure : undefined);
    if (!sameEndpoints(share.endpoints, fn.sentEndpoints) || !sameFailure(failure, fn.sentFailure)) {
      fn.sentEndpoints = share.endpoints;
      fn.sentFailure = failure;
      this.activator.updateEndpoints({ key: fn.key, endpoints: share.endpoints, ...(failure ? { failure } : {}) });
    }
  }
}

function sameFailure(a: ActivationFailure | undefined, b: ActivationFailure | undefined): boolean {
  return a?.reason === b?.reason && a?.message === b?.message;
}
