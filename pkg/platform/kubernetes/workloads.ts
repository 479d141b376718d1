// The autoscaler's read of the cluster backend: each function's WorkloadStatus, off its
// Deployment (one informer over the cluster's kfn Deployments). Creating and removing
// Deployments is the controller's job (pkg/reconciler/function), so this has no write.
import { AppsV1Api, type V1Deployment } from '@kubernetes/client-node';
import { keyOf, type FunctionKey } from '../../apis/meta.js';
import { Informer, type InformerEvent } from '../../controller/informer.js';
import type { WorkloadStatus, WorkloadStatuses } from '../types.js';
import type { ClusterWatchOptions } from './endpoints-watcher.js';
import { KFN_MANAGED_SELECTOR } from './endpoints.js';
import { emitTo } from './listeners.js';
import { functionKeyOfDeployment, workloadStatusOf } from './status.js';

const EVENTS: readonly InformerEvent[] = ['add', 'update', 'delete'];

export class KubernetesWorkloadStatuses implements WorkloadStatuses {
  private readonly listeners = new Set<(key: FunctionKey) => void>();
  private readonly statuses = new Map<string, WorkloadStatus>();
  private readonly deployments: Informer<V1Deployment>;
  private readonly stopping = new AbortController();
  private running: Promise<unknown> | undefined;

  constructor(private readonly opts: ClusterWatchOptions) {
    const apps = opts.kubeConfig.makeApiClient(AppsV1Api);
    this.deployments = new Informer<V1Deployment>({
      name: 'deployments',
      kubeConfig: opts.kubeConfig,
      path: '/apis/apps/v1/deployments',
      labelSelector: KFN_MANAGED_SELECTOR,
      list: () => apps.listDeploymentForAllNamespaces({ labelSelector: KFN_MANAGED_SELECTOR }),
      log: opts.log,
    });
    for (const event of EVENTS) this.deployments.on(event, (d) => this.onDeployment(event, d));
  }

  /** Starts the cache; resolves once it has listed. It runs until close() or `signal`; rejects if stopped before it listed. */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.running) throw new Error('KubernetesWorkloadStatuses: already started');
    const stop = signal ? AbortSignal.any([signal, this.stopping.signal]) : this.stopping.signal;
    this.running = this.deployments.start(stop).catch(() => undefined);
    await this.deployments.synced;
  }

  workloadStatus(key: FunctionKey): WorkloadStatus | undefined {
    return this.statuses.get(keyOf(key));
  }

  watchStatus(listener: (key: FunctionKey) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.stopping.abort();
    await this.running;
    this.listeners.clear();
  }

  private onDeployment(kind: InformerEvent, d: V1Deployment): void {
    const key = functionKeyOfDeployment(d);
    if (!key) return;
    if (kind === 'delete') this.statuses.delete(keyOf(key));
    else this.statuses.set(keyOf(key), workloadStatusOf(d));
    emitTo(this.opts.log, this.listeners, key);
  }
}
