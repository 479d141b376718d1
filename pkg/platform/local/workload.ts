// One function's replicas: keeps as many as the scale asks for, replaces the ones that
// die (with backoff), rolls them when the spec changes, and publishes the ready ones.
import { existsSync } from 'node:fs';
import type { FunctionKey } from '../../apis/meta.js';
import type { KfnFunction } from '../../apis/function/types.js';
import { backoffDelay } from '../../shared/backoff.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import type { ActivationFailure, EndpointsUpdate, ReadyEndpoint, ReplicaCapShortfall, WorkloadStatus } from '../types.js';
import { capActivationFailure, capStart } from './replica-cap.js';
import { launchSpec, notAppliedLocally, type LaunchResult, type LaunchSpec } from './launch.js';
import type { ResolvedOptions } from './options.js';
import { planReplicas, type PlannedReplica } from './plan.js';
import { freePort } from './ports.js';
import type { LocalWorkloadInfo, ReplicaTiming, TerminationInfo } from './info.js';
import type { Launcher } from './launcher.js';
import { preciseNow, ReplicaProcess, type ReplicaExit } from './replica.js';
import { fitsWarmRuntime, type WarmPool, type WarmRuntime } from './warm-pool.js';

export interface WorkloadDeps {
  key: FunctionKey;
  log: Logger;
  /** For the timestamps it reports; waits (backoff) run on real timers and real time. */
  clock: Clock;
  options: ResolvedOptions;
  /** PATH, HOME and the like; spec.env and PORT go on top. */
  baseEnv: Record<string, string>;
  /** Warm runtimes to take for replicas that run kfn-node-runtime, if the platform keeps some. */
  warmPool?: WarmPool;
  /** How many more replicas the machine's cap leaves (all functions together); default: no cap. */
  replicasLeft?: () => number;
  /** Starts replica processes, outside this process's event loop. */
  launcher: Launcher;
  onEndpoints(update: EndpointsUpdate): void;
  onStatus(): void;
  onTiming(t: ReplicaTiming): void;
}

interface PendingReplica extends PlannedReplica {
  scheduledAt: number;
  cancelled: boolean;
}

const ADDRESS_IN_USE_RETRIES = 3;

export class Workload {
  private fn: KfnFunction;
  private launch: LaunchResult;
  private revision = 1;
  private desired = 0;
  private seq = 0;
  private readonly replicas = new Map<string, ReplicaProcess>();
  private readonly scheduled = new Map<number, number>();
  private readonly pending = new Map<string, PendingReplica>();
  /** Spawns and drains under way, so close() can wait for all of them. */
  private readonly tasks = new Set<Promise<void>>();

  private restarts = 0;
  private backoffAttempt = 0;
  private startFailuresInARow = 0;
  private addressInUseRetries = 0;
  /** performance.now() before which no replica may start: the restart backoff. Real time, like the timer that waits for it. */
  private nextStartAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private failure: ActivationFailure | undefined;
  private capped: ReplicaCapShortfall | undefined;
  private lastTermination: TerminationInfo | undefined;
  private closed = false;
  private publishedEndpoints = '';
  private publishedStatus = '';
  /** The cluster-only fields last warned about, so each set is logged once, not per replica. */
  private warnedNotLocal = '';

  constructor(
    private readonly deps: WorkloadDeps,
    fn: KfnFunction,
  ) {
    this.fn = fn;
    this.launch = launchSpec(fn);
    if (!this.launch.ok) this.failure = this.launch.failure;
    this.warnNotLocal(fn);
    this.publish();
  }

  private warnNotLocal(fn: KfnFunction): void {
    const fields = notAppliedLocally(fn);
    const id = fields.join('\n');
    if (id === this.warnedNotLocal) return;
    this.warnedNotLocal = id;
    if (fields.length === 0) return;
    this.deps.log.warn(
      { fields },
      `cannot apply on a local process, ignored (they work on a cluster): ${fields.join('; ')}`,
    );
  }

  /** Takes a new spec; rolls the replicas only if what they run changed. */
  update(fn: KfnFunction): void {
    const next = launchSpec(fn);
    this.fn = fn;
    this.warnNotLocal(fn);
    if (fingerprint(next) === fingerprint(this.launch)) return;
    this.deps.log.info({ revision: this.revision + 1 }, 'spec changed: rolling replicas');
    this.launch = next;
    this.revision++;
    // A new spec deserves a fresh start, not the old one's backoff.
    this.failure = next.ok ? undefined : next.failure;
    this.startFailuresInARow = 0;
    this.backoffAttempt = 0;
    this.nextStartAt = 0;
    this.clearRetry();
    this.reconcile();
  }

  setScale(n: number): void {
    const desired = Math.max(0, Math.floor(n));
    if (desired === this.desired) return;
    this.deps.log.debug({ from: this.desired, to: desired }, 'scale');
    if (this.desired === 0 && this.failure?.reason === 'ExitedAtStart') {
      // Demand for a function that failed and went back to zero: its code may have been
      // fixed since, and only an attempt can tell. The request that asked waits for it
      // rather than for what is left of the old backoff; the crash loop this allows is
      // one attempt per scale-to-zero cycle of the autoscaler.
      this.nextStartAt = 0;
      this.clearRetry();
    }
    this.desired = desired;
    this.reconcile();
  }

  get scale(): number {
    return this.desired;
  }

  status(): WorkloadStatus {
    const status: WorkloadStatus = {
      desiredReplicas: this.desired,
      replicas: this.replicas.size + this.pending.size,
      readyReplicas: this.ready().length,
      restarts: this.restarts,
    };
    if (this.failure) status.failure = { ...this.failure };
    if (this.capped) status.replicaCap = { ...this.capped };
    return status;
  }

  /** Replicas that count against the machine's cap: starting or serving, of the current revision. */
  get cappedReplicas(): number {
    let n = this.pending.size;
    for (const r of this.replicas.values()) if (r.live && r.revision === this.revision) n++;
    return n;
  }

  /** Whether the cap holds it below its scale: the platform calls reconcile() when room frees. */
  get heldByCap(): boolean {
    return this.capped !== undefined;
  }

  endpoints(): EndpointsUpdate {
    const update: EndpointsUpdate = {
      key: this.deps.key,
      endpoints: this.ready().map((r): ReadyEndpoint => ({ id: r.id, host: r.host, port: r.port })),
    };
    const failure = this.failFast() ?? capActivationFailure(this.capped);
    if (failure) update.failure = { ...failure };
    return update;
  }

  /**
   * The failure the activator answers 503 with instead of queueing. A start failure
   * holds only while nothing is being tried: during an attempt a request waits for its
   * outcome (it may be the fix), and at zero the next request must be able to ask for
   * one. Status keeps the reason either way, until a replica is ready or the spec changes.
   */
  private failFast(): ActivationFailure | undefined {
    const failure = this.failure;
    if (failure?.reason !== 'ExitedAtStart') return failure;
    if (this.desired === 0 || this.attemptUnderWay()) return undefined;
    return failure;
  }

  private attemptUnderWay(): boolean {
    for (const p of this.pending.values()) if (p.revision === this.revision) return true;
    for (const r of this.replicas.values()) if (r.revision === this.revision && r.state === 'starting') return true;
    return false;
  }

  info(): LocalWorkloadInfo {
    const info: LocalWorkloadInfo = {
      revision: this.revision,
      replicas: [...this.replicas.values()].map((r) => ({ id: r.id, pid: r.pid, port: r.port, state: r.state, revision: r.revision })),
    };
    if (this.lastTermination) info.lastTermination = { ...this.lastTermination };
    return info;
  }

  /** Drains every replica and waits until every process is gone. */
  async close(): Promise<void> {
    this.closed = true;
    this.clearRetry();
    for (const p of this.pending.values()) p.cancelled = true;
    const replicas = [...this.replicas.values()];
    for (const r of replicas) r.retire();
    this.publish();
    for (const r of replicas) this.track(r.stop(this.graceMs()));
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
  }

  /** Synchronous last resort for the platform's exit hook. */
  killNow(): void {
    for (const r of this.replicas.values()) r.killNow();
  }

  private reconcile(): void {
    if (this.closed) return;
    const live: PlannedReplica[] = [...this.pending.values()];
    for (const r of this.replicas.values()) {
      if (r.live) live.push({ id: r.id, seq: r.seq, revision: r.revision, ready: r.state === 'ready' });
    }
    const plan = planReplicas(this.desired, this.revision, live);
    const retiring: ReplicaProcess[] = [];
    for (const id of plan.drain) {
      const pending = this.pending.get(id);
      if (pending) {
        pending.cancelled = true;
        this.pending.delete(id);
      }
      const r = this.replicas.get(id);
      if (r) {
        r.retire();
        retiring.push(r);
      }
    }
    // Started before publishing, so the update that goes out already counts the attempt
    // (a start failure does not fail fast while one is under way).
    const { start, shortfall } = capStart(this.desired, plan.start, this.deps.replicasLeft?.() ?? plan.start, this.deps.options.maxReplicas);
    if (shortfall && this.capped?.allowed !== shortfall.allowed) this.deps.log.warn(shortfall, 'replica cap reached: starting fewer replicas than the scale asks for');
    this.capped = shortfall;
    if (start > 0) this.start(start);
    // Out of the endpoints first, then SIGTERM: nobody sends it new work while it drains.
    this.publish();
    for (const r of retiring) {
      this.deps.log.info({ replica: r.id }, 'draining replica');
      this.track(r.stop(this.graceMs()));
    }
  }

  /** Tries again for the replicas the cap held back, when another function freed room. */
  retryCapped(): void {
    if (this.capped) this.reconcile();
  }

  private start(n: number): void {
    if (!this.launch.ok) {
      this.failure = this.launch.failure;
      return;
    }
    const wait = this.nextStartAt - performance.now();
    if (wait > 0) {
      this.retryTimer ??= setTimeout(() => {
        this.retryTimer = undefined;
        this.reconcile();
      }, wait);
      return;
    }
    for (let i = 0; i < n; i++) {
      const seq = ++this.seq;
      const pending: PendingReplica = {
        id: `${this.deps.key.name}-${String(this.revision).padStart(5, '0')}-${seq}`,
        seq,
        revision: this.revision,
        ready: false,
        scheduledAt: preciseNow(),
        cancelled: false,
      };
      this.pending.set(pending.id, pending);
      this.track(this.spawn(pending));
    }
  }

  private async spawn(p: PendingReplica): Promise<void> {
    const { options, log } = this.deps;
    // A warm runtime brings the port it listens on; only a fresh process needs one picked.
    // With a warm runtime nothing below awaits, so it is used in the turn it was taken.
    const warm = this.takeWarm();
    let port: number;
    if (warm) {
      port = warm.port;
    } else {
      try {
        port = await freePort(options.host);
      } catch (err) {
        this.pending.delete(p.id);
        log.error({ err }, 'cannot pick a free port for a replica');
        this.startFailed(p.id, { code: null, signal: null, spawnError: String(err), wasReady: false, wasStopped: false, addressInUse: false });
        return;
      }
    }
    this.pending.delete(p.id);
    if (p.cancelled || this.closed || !this.launch.ok || p.revision !== this.revision) return;
    const launch = this.launch.launch;
    let replica: ReplicaProcess;
    try {
      replica = this.newReplica(p, port, launch, warm);
    } catch (err) {
      this.startFailed(p.id, { code: null, signal: null, spawnError: String(err), wasReady: false, wasStopped: false, addressInUse: false });
      return;
    }
    this.scheduled.set(p.seq, p.scheduledAt);
    this.replicas.set(replica.id, replica);
    log.debug({ replica: replica.id, pid: replica.pid, port }, 'replica started');
    this.publish();
  }

  /** A warm runtime to become a replica of the current launch, when it can be one and the pool has one. */
  private takeWarm(): WarmRuntime | undefined {
    const { warmPool } = this.deps;
    if (!warmPool || !this.launch.ok) return undefined;
    const launch = this.launch.launch;
    // A missing folder is left to spawn(), whose error says so.
    return fitsWarmRuntime(launch) && existsSync(launch.cwd) ? warmPool.take() : undefined;
  }

  private newReplica(p: PendingReplica, port: number, launch: LaunchSpec, warm: WarmRuntime | undefined): ReplicaProcess {
    const { options, log } = this.deps;
    return new ReplicaProcess({
      ...(warm ? { warm } : {}),
      id: p.id,
      seq: p.seq,
      revision: p.revision,
      host: options.host,
      port,
      launch,
      env: {
        ...this.deps.baseEnv,
        ...launch.env,
        // Knative's names, so functions written for it find them.
        K_SERVICE: this.deps.key.name,
        K_REVISION: `${this.deps.key.name}-${String(p.revision).padStart(5, '0')}`,
        KFN_HOST: options.host,
        // kfn-node-runtime leaves Ctrl-C to us and exits if its parent, the launcher, dies
        // without cleaning up (the launcher sets its own pid on a process it starts; a warm
        // runtime's assignment needs it here).
        KFN_PARENT_PID: String(this.deps.launcher.pid ?? process.pid),
        KFN_DRAIN_TIMEOUT_MS: String(this.graceMs()),
        PORT: String(port),
      },
      log: log.child({ replica: p.id }),
      spawn: (o) => this.deps.launcher.spawn(o),
      probe: {
        startIntervalMs: options.startProbeIntervalMs,
        startFastMs: options.startProbeFastMs,
        startMaxIntervalMs: options.startProbeMaxIntervalMs,
      },
      events: {
        onReady: (r) => this.onReady(r),
        onUnready: () => this.publish(),
        onExit: (r, exit) => this.onExit(r, exit),
        onTimes: (r) => this.onTimes(r),
      },
    });
  }

  private onReady(r: ReplicaProcess): void {
    if (this.replicas.get(r.id) !== r) return;
    this.startFailuresInARow = 0;
    this.addressInUseRetries = 0;
    this.nextStartAt = 0;
    if (this.failure?.reason === 'ExitedAtStart') this.failure = undefined;
    this.deps.log.info({ replica: r.id, pid: r.pid, port: r.port, spawnToReadyMs: round((r.times.readyAt ?? 0) - r.times.spawnedAt) }, 'replica ready');
    // A new ready replica may let an old revision's replica go.
    this.reconcile();
  }

  private onTimes(r: ReplicaProcess): void {
    const { spawnedAt, spawnCallMs, readyAt, listeningSeenAt, listeningAfterMs, processStartedAt, listeningAt } = r.times;
    if (readyAt === undefined) return;
    const timing: ReplicaTiming = {
      key: this.deps.key,
      replica: r.id,
      pid: r.pid,
      scheduledAt: this.scheduled.get(r.seq) ?? spawnedAt,
      spawnedAt,
      spawnCallMs,
      warm: r.times.warm,
      readyAt,
    };
    if (listeningSeenAt !== undefined) timing.listeningSeenAt = listeningSeenAt;
    if (listeningAfterMs !== undefined) timing.listeningAfterMs = listeningAfterMs;
    if (processStartedAt !== undefined) timing.processStartedAt = processStartedAt;
    if (listeningAt !== undefined) timing.listeningAt = listeningAt;
    this.deps.onTiming(timing);
  }

  private onExit(r: ReplicaProcess, exit: ReplicaExit): void {
    if (this.replicas.get(r.id) !== r) return;
    this.replicas.delete(r.id);
    this.scheduled.delete(r.seq);
    if (exit.wasStopped) {
      this.deps.log.debug({ replica: r.id, code: exit.code, signal: exit.signal }, 'replica stopped');
      this.publish();
      return;
    }
    if (!exit.wasReady) {
      this.startFailed(r.id, exit);
      return;
    }
    const upMs = r.times.readyAt === undefined ? 0 : preciseNow() - r.times.readyAt;
    if (upMs >= this.deps.options.backoffResetAfterMs) this.backoffAttempt = 0;
    this.restarts++;
    this.backoffAttempt++;
    const delay = backoffDelay(this.deps.options.restartBackoff, this.backoffAttempt);
    this.nextStartAt = performance.now() + delay;
    const reason = exit.signal ? 'Killed' : exit.code === 0 ? 'Completed' : 'Error';
    this.lastTermination = termination(r.id, exit, reason, this.deps.clock.now());
    this.deps.log.warn(
      { replica: r.id, code: exit.code, signal: exit.signal, restartInMs: delay, lastOutput: exit.lastOutput },
      'replica exited; replacing it',
    );
    this.reconcile();
  }

  private startFailed(id: string, exit: ReplicaExit): void {
    this.lastTermination = termination(id, exit, 'ExitedAtStart', this.deps.clock.now());
    if (this.closed) return;
    if (exit.addressInUse && this.addressInUseRetries < ADDRESS_IN_USE_RETRIES) {
      // Another process took the port between our pick and its bind: try another one.
      this.addressInUseRetries++;
      this.deps.log.info({ replica: id }, 'replica found its port taken; retrying on another port');
      this.reconcile();
      return;
    }
    this.restarts++;
    this.startFailuresInARow++;
    this.backoffAttempt++;
    const delay = backoffDelay(this.deps.options.restartBackoff, this.backoffAttempt);
    this.nextStartAt = performance.now() + delay;
    const times = this.startFailuresInARow;
    if (times >= this.deps.options.startFailureThreshold) {
      this.failure = {
        reason: 'ExitedAtStart',
        message:
          exit.spawnError !== undefined
            ? `replica could not be started, ${times} times: ${exit.spawnError}`
            : `replica ${howItEnded(exit)} before becoming ready, ${times} times; last output: ${exit.lastOutput ?? '(none)'}`,
      };
    }
    this.deps.log.warn(
      { replica: id, code: exit.code, signal: exit.signal, times, retryInMs: delay, lastOutput: exit.lastOutput },
      `replica ${howItEnded(exit)} before becoming ready`,
    );
    this.reconcile();
  }

  private ready(): ReplicaProcess[] {
    return [...this.replicas.values()].filter((r) => r.state === 'ready').sort((a, b) => a.seq - b.seq);
  }

  private graceMs(): number {
    return this.deps.options.drainTimeoutMs ?? (this.fn.spec.timeoutSeconds ?? 300) * 1000;
  }

  /** Tells listeners about endpoints and status, each only when it changed. */
  private publish(): void {
    const update = this.endpoints();
    const endpoints = JSON.stringify(update);
    if (endpoints !== this.publishedEndpoints) {
      this.publishedEndpoints = endpoints;
      this.deps.onEndpoints(update);
    }
    const status = JSON.stringify(this.status());
    if (status !== this.publishedStatus) {
      this.publishedStatus = status;
      this.deps.onStatus();
    }
  }

  private track(p: Promise<void>): void {
    const task = p.finally(() => this.tasks.delete(task));
    this.tasks.add(task);
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

}

function fingerprint(l: LaunchResult): string {
  return l.ok ? l.launch.fingerprint : `failed:${l.failure.reason}`;
}

function howItEnded(exit: ReplicaExit): string {
  if (exit.spawnError !== undefined) return 'could not be started';
  if (exit.signal) return `was killed by ${exit.signal}`;
  return `exited with code ${exit.code}`;
}

function termination(replica: string, exit: ReplicaExit, reason: string, at: number): TerminationInfo {
  const t: TerminationInfo = { replica, reason, exitCode: exit.code, signal: exit.signal, at };
  if (exit.lastOutput !== undefined) t.lastOutput = exit.lastOutput;
  return t;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
