// The cluster backend of the Platform seam, for the two components that run beside the
// controller: the activator (ready endpoints, from EndpointSlices) and the autoscaler
// (the scale subresource, and ready replicas from Deployments). Creating and deleting
// workloads is the controller's job on a cluster (pkg/reconciler builds the Deployment
// and Services; cmd/controller writes them), so applyFunction and deleteFunction refuse.
import { AppsV1Api, DiscoveryV1Api, type KubeConfig, type V1Deployment, type V1EndpointSlice } from '@kubernetes/client-node';
import type { KfnFunction } from '../../apis/function/types.js';
import { keyOf, type FunctionKey } from '../../apis/meta.js';
import { Informer, type InformerEvent } from '../../controller/informer.js';
import type { Logger } from '../../shared/log.js';
import { KFN_MANAGED_SELECTOR } from './endpoints.js';
import { EndpointIndex } from './endpoint-index.js';
import { DeploymentScale } from './scale.js';
import { functionKeyOfDeployment, workloadStatusOf } from './status.js';
import type { EndpointsUpdate, Platform, WorkloadStatus } from '../types.js';

export interface KubernetesPlatformOptions {
  kubeConfig: KubeConfig;
  log: Logger;
  /**
   * Which caches to keep. The activator needs `endpoints`; the autoscaler `workloads`
   * (workloadStatus, watchStatus). Each is an informer over the whole cluster, and RBAC
   * grants each component only what it uses. Default: neither.
   */
  watch?: { endpoints?: boolean; workloads?: boolean };
}

const EVENTS: readonly InformerEvent[] = ['add', 'update', 'delete'];

export class KubernetesPlatform implements Platform {
  private readonly log: Logger;
  private readonly scale: DeploymentScale;
  private readonly endpointListeners = new Set<(u: EndpointsUpdate) => void>();
  private readonly statusListeners = new Set<(key: FunctionKey) => void>();
  private readonly index = new EndpointIndex((u) => this.emit(this.endpointListeners, u));
  private readonly statuses = new Map<string, WorkloadStatus>();
  private readonly slices: Informer<V1EndpointSlice> | undefined;
  private readonly deployments: Informer<V1Deployment> | undefined;
  /** Aborted by close(); stops the informers. */
  private readonly stopping = new AbortController();
  private running: Promise<unknown> | undefined;

  constructor(opts: KubernetesPlatformOptions) {
    this.log = opts.log;
    const kc = opts.kubeConfig;
    const apps = kc.makeApiClient(AppsV1Api);
    this.scale = new DeploymentScale(apps);
    if (opts.watch?.endpoints) {
      const discovery = kc.makeApiClient(DiscoveryV1Api);
      const slices = new Informer<V1EndpointSlice>({
        name: 'endpointslices',
        kubeConfig: kc,
        path: '/apis/discovery.k8s.io/v1/endpointslices',
        labelSelector: KFN_MANAGED_SELECTOR,
        list: () => discovery.listEndpointSliceForAllNamespaces({ labelSelector: KFN_MANAGED_SELECTOR }),
        log: opts.log,
      });
      for (const event of EVENTS) slices.on(event, (slice) => this.index.apply(event, slice));
      this.slices = slices;
    }
    if (opts.watch?.workloads) {
      const deployments = new Informer<V1Deployment>({
        name: 'deployments',
        kubeConfig: kc,
        path: '/apis/apps/v1/deployments',
        labelSelector: KFN_MANAGED_SELECTOR,
        list: () => apps.listDeploymentForAllNamespaces({ labelSelector: KFN_MANAGED_SELECTOR }),
        log: opts.log,
      });
      for (const event of EVENTS) deployments.on(event, (d) => this.onDeployment(event, d));
      this.deployments = deployments;
    }
  }

  /**
   * Starts the caches asked for; resolves once each has listed. They run until close()
   * or `signal`; rejects if stopped before they listed.
   */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.running) throw new Error('KubernetesPlatform: already started');
    const stop = signal ? AbortSignal.any([signal, this.stopping.signal]) : this.stopping.signal;
    const informers = [this.slices, this.deployments].filter((i) => i !== undefined);
    this.running = Promise.allSettled(informers.map((i) => i.start(stop)));
    await Promise.all(informers.map((i) => i.synced));
  }

  applyFunction(fn: KfnFunction): Promise<void> {
    return Promise.reject(new Error(`applyFunction ${fn.metadata.namespace ?? 'default'}/${fn.metadata.name}: on a cluster the kfn controller creates workloads from Function objects; apply the Function instead`));
  }

  deleteFunction(key: FunctionKey): Promise<void> {
    return Promise.reject(new Error(`deleteFunction ${keyOf(key)}: on a cluster the kfn controller removes workloads; delete the Function instead`));
  }

  setScale(key: FunctionKey, replicas: number): Promise<void> {
    return this.scale.set(key, replicas);
  }

  getScale(key: FunctionKey): Promise<number | undefined> {
    return this.scale.get(key);
  }

  /** The listener hears the current endpoints of every function that has some at once, then every change. */
  watchEndpoints(listener: (update: EndpointsUpdate) => void): () => void {
    if (!this.slices) throw new Error('KubernetesPlatform: watchEndpoints needs watch.endpoints');
    this.endpointListeners.add(listener);
    this.emit([listener], ...this.index.current());
    return () => this.endpointListeners.delete(listener);
  }

  workloadStatus(key: FunctionKey): WorkloadStatus | undefined {
    return this.statuses.get(keyOf(key));
  }

  watchStatus(listener: (key: FunctionKey) => void): () => void {
    if (!this.deployments) throw new Error('KubernetesPlatform: watchStatus needs watch.workloads');
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Stops the caches. Replicas are the cluster's: nothing here to drain. */
  async close(): Promise<void> {
    this.stopping.abort();
    await this.running;
    this.endpointListeners.clear();
    this.statusListeners.clear();
  }

  private onDeployment(kind: InformerEvent, d: V1Deployment): void {
    const key = functionKeyOfDeployment(d);
    if (!key) return;
    if (kind === 'delete') this.statuses.delete(keyOf(key));
    else this.statuses.set(keyOf(key), workloadStatusOf(d));
    this.emit(this.statusListeners, key);
  }

  private emit<T>(listeners: Iterable<(v: T) => void>, ...values: T[]): void {
    for (const l of listeners) {
      for (const v of values) {
        try {
          l(v);
        } catch (err) {
          this.log.error({ err }, 'platform listener failed');
        }
      }
    }
  }
}
