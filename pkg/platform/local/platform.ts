// The local backend: each replica of a Function is a child process of this one, on a
// free loopback port, admitted to the endpoints once its readiness probe passes.
import path from 'node:path';
import { keyOf, type FunctionKey } from '../../apis/meta.js';
import type { KfnFunction } from '../../apis/function/types.js';
import { systemClock, type Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import { WorkloadNotFoundError, type EndpointsUpdate, type EndpointWatcher, type ScaleTarget, type WorkloadStatus, type WorkloadStatuses, type Workloads } from '../types.js';
import { resolveOptions, type LocalPlatformOptions, type ResolvedOptions } from './options.js';
import type { LocalWorkloadInfo, ReplicaTiming } from './info.js';
import { Launcher } from './launcher.js';
import { WarmPool, type WaitingRuntime } from './warm-pool.js';
import { Workload } from './workload.js';

export interface LocalPlatformDeps {
  log: Logger;
  clock?: Clock;
  /** Put first on the replicas' PATH, so `kfn-node-runtime` resolves to this checkout's. */
  runtimeBinDir: string;
  /** Reserved for replica state that should survive the platform; unused today. */
  stateDir?: string;
  options?: LocalPlatformOptions;
  /** Set for every replica and warm runtime, e.g. KFN_RUNTIME_MAIN: the build of kfn-node-runtime to run. */
  runtimeEnv?: Record<string, string>;
}

/** Passed through from the platform's environment; everything else a replica sees comes from its spec. */
const INHERITED_ENV = ['HOME', 'USER', 'LANG', 'TZ', 'TMPDIR', 'SYSTEMROOT'];

/** Replicas as child processes on this machine: every role, workloads included. */
export class LocalPlatform implements Workloads, EndpointWatcher, ScaleTarget, WorkloadStatuses {
  private readonly workloads = new Map<string, Workload>();
  private readonly endpointListeners = new Set<(u: EndpointsUpdate) => void>();
  private readonly statusListeners = new Set<(key: FunctionKey) => void>();
  private readonly timingListeners = new Set<(t: ReplicaTiming) => void>();
  /** Workloads being deleted or closed, still draining. */
  private readonly closing = new Map<Workload, Promise<void>>();
  private readonly options: ResolvedOptions;
  private readonly clock: Clock;
  private readonly baseEnv: Record<string, string>;
  private readonly warmPool: WarmPool | undefined;
  /** Started once, here: every replica and warm runtime is its child, not ours. */
  private readonly launcher: Launcher;
  private closed = false;
  private retryScheduled = false;
  // Nothing of ours may outlive us: if the process exits without close(), the children go
  // too (and if it is killed, the launcher sees its channel close and stops them).
  private readonly killAll = (): void => {
    for (const w of [...this.workloads.values(), ...this.closing.keys()]) w.killNow();
    this.warmPool?.killNow();
    this.launcher.killNow();
  };

  constructor(private readonly deps: LocalPlatformDeps) {
    this.options = resolveOptions(deps.options);
    this.clock = deps.clock ?? systemClock;
    this.baseEnv = { PATH: [path.resolve(deps.runtimeBinDir), process.env.PATH].filter(Boolean).join(path.delimiter) };
    for (const name of INHERITED_ENV) {
      const v = process.env[name];
      if (v !== undefined) this.baseEnv[name] = v;
    }
    Object.assign(this.baseEnv, deps.runtimeEnv);
    this.launcher = new Launcher({ log: deps.log.child({ component: 'launcher' }) });
    process.on('exit', this.killAll);
    if (this.options.warmRuntimes > 0) {
      this.warmPool = new WarmPool({
        size: this.options.warmRuntimes,
        env: { ...this.baseEnv, KFN_HOST: this.options.host, KFN_PARENT_PID: String(process.pid) },
        cwd: path.resolve(deps.runtimeBinDir),
        refillDelayMs: this.options.warmRefillDelayMs,
        maxFailures: 3,
        log: deps.log.child({ component: 'warm-runtimes' }),
        spawn: (o) => this.launcher.spawn(o),
      });
    }
  }

  applyFunction(fn: KfnFunction, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.closed) return Promise.reject(new Error('local platform is closed'));
    const key: FunctionKey = { namespace: fn.metadata.namespace ?? 'default', name: fn.metadata.name };
    const existing = this.workloads.get(keyOf(key));
    if (existing) {
      existing.update(fn);
      return Promise.resolve();
    }
    const log = this.deps.log.child({ fn: keyOf(key) });
    const workload = new Workload(
      {
        key,
        log,
        clock: this.clock,
        options: this.options,
        baseEnv: this.baseEnv,
        ...(this.warmPool ? { warmPool: this.warmPool } : {}),
        ...(Number.isFinite(this.options.maxReplicas) ? { replicasLeft: () => this.replicasLeft() } : {}),
        launcher: this.launcher,
        onEndpoints: (u) => this.emit(this.endpointListeners, u),
        onStatus: () => {
          this.emit(this.statusListeners, key);
          this.retryCapped();
        },
        onTiming: (t) => this.emit(this.timingListeners, t),
      },
      fn,
    );
    this.workloads.set(keyOf(key), workload);
    this.emit(this.statusListeners, key);
    return Promise.resolve();
  }

  async deleteFunction(key: FunctionKey): Promise<void> {
    const workload = this.workloads.get(keyOf(key));
    if (!workload) return;
    // Forgotten at once, so the function can be applied again while the old replicas drain.
    this.workloads.delete(keyOf(key));
    this.retryCapped();
    await this.closeWorkload(workload);
    this.emit(this.statusListeners, key);
  }

  private replicasLeft(): number {
    let used = 0;
    for (const w of this.workloads.values()) used += w.cappedReplicas;
    return this.options.maxReplicas - used;
  }

  /**
   * Gives room that may have freed (a replica gone, a function scaled down or deleted) to
   * the functions the cap held back, in the order they were created. On the next turn, not
   * inside the status callback that noticed it: that runs in the middle of a reconcile.
   */
  private retryCapped(): void {
    if (this.retryScheduled || this.closed) return;
    if (![...this.workloads.values()].some((w) => w.heldByCap)) return;
    this.retryScheduled = true;
    setImmediate(() => {
      this.retryScheduled = false;
      if (this.closed) return;
      for (const w of this.workloads.values()) {
        if (this.replicasLeft() <= 0) break;
        w.retryCapped();
      }
    });
  }

  setScale(key: FunctionKey, replicas: number): Promise<void> {
    const workload = this.workloads.get(keyOf(key));
    if (!workload) return Promise.reject(new WorkloadNotFoundError(`setScale ${keyOf(key)}: no such function`));
    workload.setScale(replicas);
    return Promise.resolve();
  }

  getScale(key: FunctionKey): Promise<number | undefined> {
    return Promise.resolve(this.workloads.get(keyOf(key))?.scale);
  }

  /** The listener hears the current endpoints of every known function at once, then every change. */
  watchEndpoints(listener: (update: EndpointsUpdate) => void): () => void {
    this.endpointListeners.add(listener);
    for (const w of this.workloads.values()) this.emit([listener], w.endpoints());
    return () => this.endpointListeners.delete(listener);
  }

  workloadStatus(key: FunctionKey): WorkloadStatus | undefined {
    return this.workloads.get(keyOf(key))?.status();
  }

  watchStatus(listener: (key: FunctionKey) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Local only: how long each replica took to start, as it becomes ready. For metrics and benchmarks. */
  watchReplicaTimings(listener: (timing: ReplicaTiming) => void): () => void {
    this.timingListeners.add(listener);
    return () => this.timingListeners.delete(listener);
  }

  /** Local only: the runtimes waiting to be taken (warm), or getting ready to. */
  warmRuntimes(): WaitingRuntime[] {
    return this.warmPool?.list() ?? [];
  }

  /** Local only: the replicas of a function and its last termination. */
  describe(key: FunctionKey): LocalWorkloadInfo | undefined {
    return this.workloads.get(keyOf(key))?.info();
  }

  async close(): Promise<void> {
    this.closed = true;
    const workloads = [...this.workloads.values()];
    this.workloads.clear();
    await Promise.all(workloads.map((w) => this.closeWorkload(w)));
    while (this.closing.size > 0) await Promise.allSettled([...this.closing.values()]);
    await this.warmPool?.close();
    await this.launcher.close();
    process.off('exit', this.killAll);
  }

  private closeWorkload(w: Workload): Promise<void> {
    const done = w.close().finally(() => this.closing.delete(w));
    this.closing.set(w, done);
    return done;
  }

  private emit<T>(listeners: Iterable<(v: T) => void>, value: T): void {
    for (const l of listeners) {
      try {
        l(value);
      } catch (err) {
        this.deps.log.error({ err }, 'platform listener failed');
      }
    }
  }
}
