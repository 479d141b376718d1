// The activator's role of the cluster backend: each function's ready endpoints, from the
// EndpointSlices of its replicas Service (one informer over the cluster's kfn slices).
import { DiscoveryV1Api, type KubeConfig, type V1EndpointSlice } from '@kubernetes/client-node';
import { Informer, type InformerEvent } from '../../controller/informer.js';
import type { Logger } from '../../shared/log.js';
import type { EndpointsUpdate, EndpointWatcher } from '../types.js';
import { EndpointIndex } from './endpoint-index.js';
import { KFN_MANAGED_SELECTOR } from './endpoints.js';
import { emitTo } from './listeners.js';

export interface ClusterWatchOptions {
  kubeConfig: KubeConfig;
  log: Logger;
}

const EVENTS: readonly InformerEvent[] = ['add', 'update', 'delete'];

export class KubernetesEndpoints implements EndpointWatcher {
  private readonly listeners = new Set<(u: EndpointsUpdate) => void>();
  private readonly index: EndpointIndex;
  private readonly slices: Informer<V1EndpointSlice>;
  private readonly stopping = new AbortController();
  private running: Promise<unknown> | undefined;

  constructor(private readonly opts: ClusterWatchOptions) {
    this.index = new EndpointIndex((u) => emitTo(opts.log, this.listeners, u));
    const discovery = opts.kubeConfig.makeApiClient(DiscoveryV1Api);
    this.slices = new Informer<V1EndpointSlice>({
      name: 'endpointslices',
      kubeConfig: opts.kubeConfig,
      path: '/apis/discovery.k8s.io/v1/endpointslices',
      labelSelector: KFN_MANAGED_SELECTOR,
      list: () => discovery.listEndpointSliceForAllNamespaces({ labelSelector: KFN_MANAGED_SELECTOR }),
      log: opts.log,
    });
    for (const event of EVENTS) this.slices.on(event, (slice) => this.index.apply(event, slice));
  }

  /** Starts the cache; resolves once it has listed. It runs until close() or `signal`; rejects if stopped before it listed. */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.running) throw new Error('KubernetesEndpoints: already started');
    const stop = signal ? AbortSignal.any([signal, this.stopping.signal]) : this.stopping.signal;
    this.running = this.slices.start(stop).catch(() => undefined);
    await this.slices.synced;
  }

  /** The listener hears the current endpoints of every function that has some at once, then every change. */
  watchEndpoints(listener: (update: EndpointsUpdate) => void): () => void {
    this.listeners.add(listener);
    emitTo(this.opts.log, [listener], ...this.index.current());
    return () => this.listeners.delete(listener);
  }

  /** Stops the cache. Replicas are the cluster's: nothing here to drain. */
  async close(): Promise<void> {
    this.stopping.abort();
    await this.running;
    this.listeners.clear();
  }
}
