// Local mode's controller: keeps the platform, the activator's routes and the autoscaler
// in step with the store, and writes each Function's status back when it changes.
import { keyOf, type FunctionKey } from '../apis/meta.js';
import type { FunctionSpec, KfnFunction } from '../apis/function/types.js';
import type { EndpointsUpdate, EndpointWatcher, Workloads, WorkloadStatuses } from '../platform/types.js';
import type { Logger } from '../shared/log.js';
import { KeyedQueue } from '../shared/keyed-queue.js';
import { localFunctionStatus, type ScalerView } from './status.js';
import { keyOfResource, type FunctionStore, type StoreEvent } from './store.js';

/** The activator as the controller sees it. */
export interface RouteRegistry {
  upsertFunction(
    key: FunctionKey,
    cfg: { containerConcurrency: number; timeoutSeconds: number; portName?: 'http1' | 'h2c'; retryIdempotent?: boolean; loadBalancing?: FunctionSpec['loadBalancing'] },
  ): void;
  removeFunction(key: FunctionKey): void;
  updateEndpoints(update: EndpointsUpdate): void;
}

/** The autoscaler as the controller sees it. */
export interface ScalerRegistry {
  upsert(key: FunctionKey, spec: FunctionSpec): void;
  remove(key: FunctionKey): void;
  status(key: FunctionKey): ScalerView | undefined;
}

export interface DevControllerDeps {
  store: FunctionStore;
  /** Local mode runs the workloads itself, and reads their endpoints and status. */
  platform: Workloads & EndpointWatcher & WorkloadStatuses;
  routes: RouteRegistry;
  scaler: ScalerRegistry;
  log: Logger;
  urlFor(key: FunctionKey): string;
  now?: () => Date;
}

export class DevController {
  private readonly queue: KeyedQueue;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(private readonly deps: DevControllerDeps) {
    this.queue = new KeyedQueue((key, err) => deps.log.error({ fn: key, err }, 'reconcile failed'));
  }

  start(): void {
    const { store, platform, routes } = this.deps;
    this.unsubscribe.push(
      platform.watchEndpoints((u) => routes.updateEndpoints(u)),
      platform.watchStatus((key) => this.refreshStatus(key)),
      store.watch((e) => this.onStoreEvent(e)),
    );
    for (const fn of store.list()) this.onStoreEvent({ type: 'applied', obj: fn });
  }

  /** Called when the autoscaler decided something about `key`. */
  refreshStatus(key: FunctionKey): void {
    const fn = this.deps.store.get(key);
    if (!fn) return;
    const status = localFunctionStatus(fn, {
      workload: this.deps.platform.workloadStatus(key),
      scaler: this.deps.scaler.status(key),
      url: this.deps.urlFor(key),
      now: (this.deps.now ?? (() => new Date()))(),
    });
    this.deps.store.updateStatus(key, status);
  }

  /** Resolves when every reconcile queued so far has finished. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  stop(): void {
    for (const u of this.unsubscribe.splice(0)) u();
  }

  private onStoreEvent(e: StoreEvent): void {
    if (e.type === 'status') return;
    const key = keyOfResource(e.obj);
    const log = this.deps.log.child({ fn: keyOf(key) });
    if (e.type === 'deleted') {
      void this.queue.push(keyOf(key), () => this.remove(key, log));
      return;
    }
    void this.queue.push(keyOf(key), () => this.reconcile(e.obj, log));
  }

  private async reconcile(fn: KfnFunction, log: Logger): Promise<void> {
    const key = keyOfResource(fn);
    const { routes, scaler, platform } = this.deps;
    routes.upsertFunction(key, {
      containerConcurrency: fn.spec.containerConcurrency ?? 0,
      timeoutSeconds: fn.spec.timeoutSeconds ?? 300,
      retryIdempotent: fn.spec.retries?.idempotent ?? false,
      ...(fn.spec.loadBalancing ? { loadBalancing: fn.spec.loadBalancing } : {}),
      portName: fn.spec.portName,
    });
    await platform.applyFunction(fn);
    // After the workload exists, so the autoscaler's first write (initial scale) lands.
    scaler.upsert(key, fn.spec);
    log.debug({ generation: fn.metadata.generation }, 'reconciled');
    this.refreshStatus(key);
  }

  private async remove(key: FunctionKey, log: Logger): Promise<void> {
    const { routes, scaler, platform } = this.deps;
    scaler.remove(key);
    routes.removeFunction(key);
    await platform.deleteFunction(key);
    log.info('removed');
  }
}
