// The autoscaler component: takes activators' stats, runs the decision for every
// function each tick (and at once on a poke: a cold start, or demand surging) and
// writes the scale when it changes. The arithmetic is in decide.ts; this file is state, timing and I/O.
import { performance } from 'node:perf_hooks';
import type { Registry } from 'prom-client';
import type { FunctionSpec } from '../apis/function/types.js';
import { keyOf, type FunctionKey } from '../apis/meta.js';
import { sleep } from '../shared/abort.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import { WorkloadNotFoundError } from '../platform/types.js';
import { configProblems, scalingParams, type AutoscalerConfig, type ScaleMetric, type ScalingParams } from './config.js';
import { decide, decideInto, initialScalerState, modeOf, type DecideInput, type ScaleMode, type ScalerStateBuffer } from './decide.js';
import { registerAutoscalerMetrics, type AutoscalerMetrics, type FunctionScaleSample } from './metrics.js';
import type { ConcurrencyStat, DemandNow, StatSink } from './stats.js';
import { ConcurrencyBuckets, type WindowAverages } from './window.js';

/** Where the scale goes: the platform's setScale. Idempotent. */
export interface ScaleWriter {
  setScale(key: FunctionKey, n: number): Promise<void>;
}

/**
 * How long a function may have no workload before the autoscaler says so at warn. A new
 * Function has none until the controller creates its Deployment: milliseconds usually,
 * up to a controller failover (a 15 s Lease) plus its resync. Longer means the
 * controller is not making it (down, refused by the API server, RBAC): worth one line.
 */
export const MISSING_WORKLOAD_WARN_MS = 60_000;

/**
 * How long a demand sent with a poke counts: until its activator's next report covers
 * the same moment, or this long (that report's interval) if none does.
 */
export const DEMAND_FRESH_MS = 1000;

export interface AutoscalerDeps {
  config: AutoscalerConfig;
  scaleWriter: ScaleWriter;
  /** Replicas passing readiness right now. Must be cheap: called per function per tick. */
  readyReplicas: (key: FunctionKey) => number;
  clock: Clock;
  log: Logger;
  /** One autoscaler per registry: the metric names are fixed. */
  metrics?: Registry;
  /** Default MISSING_WORKLOAD_WARN_MS. */
  missingWorkloadWarnMs?: number;
}

export interface ScaleStatus {
  desiredReplicas: number;
  mode: ScaleMode;
  reason: string;
  /** When a scale was last written successfully, epoch ms. */
  lastScaleTime?: number;
  /** What the averages are of: requests in flight, or requests per second. */
  metric: ScaleMetric;
  /** The metric's average over the stable window. */
  stableAverage: number;
  /** Same over the panic window. */
  panicAverage: number;
}

export type DecisionListener = (key: FunctionKey, status: ScaleStatus) => void;

interface FunctionScaler {
  readonly key: FunctionKey;
  /** Position in the table's list; kept by ByKey. */
  slot: number;
  readonly id: string;
  readonly log: Logger;
  params: ScalingParams;
  window: ConcurrencyBuckets;
  state: ScalerStateBuffer;
  desired: number;
  mode: ScaleMode;
  /**
   * What the last decision was made from: the state it started with and its inputs.
   * Its reason is rebuilt from these on demand by deciding again (decide is pure), so
   * no reason is formatted per function per tick. The next decision writes its state
   * into this object: `state` and `before` are two buffers that take turns, so a
   * decision allocates no state object.
   */
  before: ScalerStateBuffer;
  stable: number;
  panic: number;
  ready: number;
  current: number;
  decidedAt: number;
  poked: boolean;
  /** Demands sent with pokes, one per activator, until their reports take over; undefined without any. */
  demands: DemandNow[] | undefined;
  decided: boolean;
  /** Last value the writer accepted; undefined until the first write succeeds. */
  written: number | undefined;
  lastScaleTime: number | undefined;
  /** Since when writes have found no workload; undefined once one succeeds. */
  missingSince: number | undefined;
  /** The one warn line about a workload that is still missing has been logged. */
  missingWarned: boolean;
}

export class Autoscaler implements StatSink {
  private readonly cfg: AutoscalerConfig;
  private readonly log: Logger;
  private readonly scalers = new ByKey<FunctionScaler>();
  /**
   * The write in flight per function id: never two writes at once for one function.
   * A write removes itself when it ends, so no `finally` callback and promise are made
   * per write.
   */
  private readonly writing = new Map<string, Promise<void>>();
  private readonly pokes = new Set<FunctionScaler>();
  private pokeScheduled = false;
  private readonly listeners = new Set<DecisionListener>();
  private readonly metrics: AutoscalerMetrics | undefined;
  private running = false;
  /**
   * Scratch for one decision, reused for every function: the tick allocates nothing
   * per function that is not kept. Nothing reads them once decideInto has returned, so
   * a listener that re-enters (upsert, poke) may overwrite them.
   */
  private readonly averages: WindowAverages = { stable: 0, panic: 0, hasData: false };
  private readonly input: DecideInput = { stableAverage: 0, panicAverage: 0, readyReplicas: 0, currentScale: 0, now: 0, poked: false };

  constructor(private readonly deps: AutoscalerDeps) {
    const problems = configProblems(deps.config);
    if (problems.length > 0) throw new Error(`invalid autoscaler config: ${problems.join('; ')}`);
    this.cfg = deps.config;
    this.log = deps.log;
    this.metrics = deps.metrics ? registerAutoscalerMetrics(deps.metrics, () => this.samples()) : undefined;
  }

  /**
   * Starts scaling a function, or applies a changed spec to one already known; decides at once.
   * `adopt.scale` is the scale its workload already has, for a function this autoscaler takes
   * over rather than sees created (a new leader's first sync, a restart): see adoptedState.
   */
  upsert(key: FunctionKey, spec: FunctionSpec, adopt?: { scale: number }): void {
    const id = keyOf(key);
    const params = scalingParams(spec, this.cfg);
    const now = this.deps.clock.now();
    const known = this.scalers.get(key);
    if (known) {
      // Averages of one metric say nothing about the other: a function switched to rps
      // starts its window afresh (in panic if it has replicas serving, as on a restart).
      if (params.metric !== known.params.metric) {
        known.window = new ConcurrencyBuckets(params.stableWindowMs, this.cfg.bucketMs);
        known.state = adoptedState(now, Math.max(known.ready, known.desired));
      } else {
        known.window = known.window.resized(params.stableWindowMs);
      }
      known.params = params;
      this.decideSafely(known, now, false);
      return;
    }
    let ready = 0;
    try {
      ready = this.readyOf(key);
    } catch {
      // The decision below runs into the same error and logs it.
    }
    const adopted = adopt && Number.isFinite(adopt.scale) && adopt.scale >= 0 ? Math.floor(adopt.scale) : undefined;
    const held = adopted === undefined ? ready : Math.max(ready, adopted);
    const state = adopted === undefined ? initialScalerState(now, ready) : adoptedState(now, held);
    const s: FunctionScaler = {
      key: { namespace: key.namespace, name: key.name },
      slot: -1,
      id,
      log: this.log.child({ fn: id }),
      params,
      window: new ConcurrencyBuckets(params.stableWindowMs, this.cfg.bucketMs),
      state,
      // What exists is the scale before the first decision: a restarted autoscaler must
      // not snap a serving function to zero before its grace period.
      desired: held,
      mode: 'stable',
      before: initialScalerState(now, held),
      stable: 0,
      panic: 0,
      ready,
      current: ready,
      decidedAt: now,
      poked: false,
      demands: undefined,
      decided: false,
      // An adopted scale is already written: deciding the same again writes nothing.
      written: adopted,
      lastScaleTime: undefined,
      missingSince: undefined,
      missingWarned: false,
    };
    this.scalers.add(s.key, s);
    this.decideSafely(s, now, false);
  }

  /** Stops scaling a function. A write already in flight completes; nothing follows it. */
  remove(key: FunctionKey): void {
    const s = this.scalers.get(key);
    if (!s) return;
    this.scalers.delete(key);
    this.pokes.delete(s);
  }

  record(stat: ConcurrencyStat): void {
    const s = this.scalers.get(stat.key);
    if (!s) return;
    // An activator whose clock runs ahead would put samples into buckets the window
    // does not read yet; count them now instead.
    const now = this.deps.clock.now();
    const value = s.params.metric === 'rps' ? (stat.requestsPerSecond ?? stat.requestCount) : stat.averageConcurrency;
    s.window.record(stat.time > now ? now : stat.time, stat.source, value);
    if (s.demands !== undefined) supersede(s, stat);
  }

  /**
   * A request waits for a function with no ready replica, or requests queue with the
   * activator's `demand` (see DemandNow). Decides on the next microtask, not the next
   * tick; every poke that arrives before then (a burst of cold requests, several
   * activators' demands) shares that one decision.
   */
  poke(key: FunctionKey, demand?: DemandNow): void {
    const s = this.scalers.get(key);
    if (!s) {
      this.log.debug({ fn: keyOf(key) }, 'poke for a function the autoscaler does not know');
      return;
    }
    if (demand !== undefined) noteDemand(s, demand, this.deps.clock.now());
    this.pokes.add(s);
    if (this.pokeScheduled) return;
    this.pokeScheduled = true;
    queueMicrotask(() => this.flushPokes());
  }

  status(key: FunctionKey): ScaleStatus | undefined {
    const s = this.scalers.get(key);
    return s?.decided ? statusOf(s) : undefined;
  }

  /** Called whenever a function's desired replicas or mode change (and on its first decision). Returns unsubscribe. */
  onDecision(listener: DecisionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Decides every function once. `run` calls it every tick; tests and the benchmark call it directly. */
  tick(): void {
    const started = performance.now();
    const now = this.deps.clock.now();
    this.scalers.forEach((s) => this.decideSafely(s, now, false));
    this.metrics?.tickSeconds.observe((performance.now() - started) / 1000);
  }

  /** Ticks every `tickIntervalMs` until `signal` aborts, then waits for writes in flight. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.running) throw new Error('autoscaler: run() is already running');
    this.running = true;
    try {
      while (!signal.aborted) {
        const started = performance.now();
        this.tick();
        // Fixed rate, not fixed gap: a slow tick does not push every later one back.
        await sleep(Math.max(0, this.cfg.tickIntervalMs - (performance.now() - started)), signal);
      }
      // A write that ends to find the decision moved on starts the next one: wait for those too.
      while (this.writing.size > 0) await Promise.allSettled([...this.writing.values()]);
    } finally {
      this.running = false;
    }
  }

  private flushPokes(): void {
    this.pokeScheduled = false;
    const now = this.deps.clock.now();
    const batch = [...this.pokes];
    this.pokes.clear();
    for (const s of batch) this.decideSafely(s, now, true);
  }

  /** One function's failure (a throwing readyReplicas, a throwing listener) must not stop the others. */
  private decideSafely(s: FunctionScaler, now: number, poked: boolean): void {
    try {
      this.decideFor(s, now, poked);
    } catch (err) {
      s.log.error({ err }, 'scaling decision failed');
    }
  }

  private decideFor(s: FunctionScaler, now: number, poked: boolean): void {
    const avg = s.window.averages(now, s.params.stableWindowMs, s.params.panicWindowMs, this.averages);
    const ready = this.readyOf(s.key);
    const input = this.input;
    input.stableAverage = avg.stable;
    // What activators see right now is demand the panic window has not been told yet:
    // it can only raise the panic average (so surge, never shrink), and leaves the
    // stable one to the reports.
    input.panicAverage = s.demands === undefined ? avg.panic : Math.max(avg.panic, demandNow(s, now));
    input.readyReplicas = ready;
    input.currentScale = s.desired;
    input.now = now;
    input.poked = poked;
    const next = s.before;
    const desired = decideInto(s.params, s.state, input, next);
    const mode = modeOf(next);
    const changed = !s.decided || desired !== s.desired || mode !== s.mode;
    const modeChanged = s.decided && mode !== s.mode;
    s.before = s.state;
    s.state = next;
    s.stable = input.stableAverage;
    s.panic = input.panicAverage;
    s.ready = ready;
    s.current = s.desired;
    s.decidedAt = now;
    s.poked = poked;
    s.desired = desired;
    s.mode = mode;
    s.decided = true;
    if (modeChanged && s.log.isLevelEnabled('info')) {
      s.log.info({ mode, desired, reason: reasonOf(s) }, mode === 'panic' ? 'entering panic mode' : 'leaving panic mode');
    }
    if (changed) this.emit(s);
    this.maybeWrite(s);
  }

  private maybeWrite(s: FunctionScaler): void {
    if (s.desired !== s.written && !this.writing.has(s.id)) this.write(s, s.desired);
  }

  /**
   * Starts writing `n`. Kept out of maybeWrite, which runs for every function every
   * tick: a function that creates closures allocates their scope on every call, even
   * one that returns before reaching them.
   */
  private write(s: FunctionScaler, n: number): void {
    let setting: Promise<void>;
    try {
      setting = this.deps.scaleWriter.setScale(s.key, n);
    } catch (err) {
      this.wrote(s, n, false, err);
      return;
    }
    // Two callbacks rather than an async function and `finally`: a tick can start
    // hundreds of writes, and this measured a fifth of the garbage per write.
    this.writing.set(
      s.id,
      setting.then(
        () => this.wrote(s, n, true),
        (err: unknown) => this.wrote(s, n, false, err),
      ),
    );
  }

  private wrote(s: FunctionScaler, n: number, ok: boolean, err?: unknown): void {
    // Left unwritten on failure: the next tick (or poke) sees desired ≠ written and tries again.
    if (!ok) this.writeFailed(s, n, err);
    else {
      s.missingSince = undefined;
      s.missingWarned = false;
    }
    this.writing.delete(s.id);
    this.metrics?.scaleWrites.inc({ result: ok ? 'ok' : 'error' });
    const current = this.scalers.get(s.key);
    if (!ok || !current) return;
    if (current === s) {
      // The reason is rebuilt by deciding again: only when the line is really logged.
      if (s.log.isLevelEnabled('info')) s.log.info({ from: s.written ?? null, to: n, mode: s.mode, reason: reasonOf(s) }, 'scaled');
      s.written = n;
      s.lastScaleTime = this.deps.clock.now();
    }
    // The decision may have moved while we wrote (a poke, a tick), or the function was
    // removed and added again: write the newer value now rather than a tick later.
    this.maybeWrite(current);
  }

  /**
   * A function without its workload is, for a while, what every new Function looks like
   * (see MISSING_WORKLOAD_WARN_MS): debug, and one warn line if it lasts; anything else
   * is a failure every time.
   */
  private writeFailed(s: FunctionScaler, n: number, err: unknown): void {
    if (!(err instanceof WorkloadNotFoundError)) {
      s.log.warn({ err, replicas: n }, 'writing the scale failed; retrying on the next tick');
      return;
    }
    const now = this.deps.clock.now();
    s.missingSince ??= now;
    const missingMs = now - s.missingSince;
    if (!s.missingWarned && missingMs >= (this.deps.missingWorkloadWarnMs ?? MISSING_WORKLOAD_WARN_MS)) {
      s.missingWarned = true;
      s.log.warn({ err, replicas: n, missingMs }, 'the function still has no workload to scale; is the controller creating it?');
      return;
    }
    s.log.debug({ err, replicas: n, missingMs }, 'no workload to scale yet (the controller creates it); writing again on the next tick');
  }

  private readyOf(key: FunctionKey): number {
    const n = this.deps.readyReplicas(key);
    return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
  }

  private emit(s: FunctionScaler): void {
    if (this.listeners.size === 0) return;
    const st = statusOf(s);
    for (const l of this.listeners) {
      try {
        l(s.key, st);
      } catch (err) {
        s.log.error({ err }, 'decision listener failed');
      }
    }
  }

  private *samples(): Iterable<FunctionScaleSample> {
    for (const s of this.scalers.values()) {
      if (!s.decided) continue;
      yield { key: s.key, desiredReplicas: s.desired, mode: s.mode, metric: s.params.metric, stableAverage: s.stable, panicAverage: s.panic };
    }
  }
}

/**
 * Functions by namespace, then name, plus a flat list for the tick. Stats arrive about
 * once a second per function per activator; looking them up this way builds no
 * "ns/name" string per stat. The tick walks the list, which is several times cheaper
 * than iterating nested Maps over 10,000 entries.
 */
class ByKey<T extends { slot: number }> {
  private readonly byNamespace = new Map<string, Map<string, T>>();
  private readonly list: T[] = [];

  get(key: FunctionKey): T | undefined {
    return this.byNamespace.get(key.namespace)?.get(key.name);
  }

  /** Adds a value for a key that has none. */
  add(key: FunctionKey, value: T): void {
    let names = this.byNamespace.get(key.namespace);
    if (!names) {
      names = new Map();
      this.byNamespace.set(key.namespace, names);
    }
    names.set(key.name, value);
    value.slot = this.list.length;
    this.list.push(value);
  }

  delete(key: FunctionKey): void {
    const names = this.byNamespace.get(key.namespace);
    const value = names?.get(key.name);
    if (!names || !value) return;
    names.delete(key.name);
    if (names.size === 0) this.byNamespace.delete(key.namespace);
    // Swap-remove: the last entry takes the removed one's place.
    const last = this.list.pop()!;
    if (last !== value) {
      last.slot = value.slot;
      this.list[value.slot] = last;
    }
    value.slot = -1;
  }

  /**
   * Calls `fn` for every value. One removed by `fn` itself (a listener removing a
   * function mid-tick) lets the last entry take its place, which is then skipped once.
   */
  forEach(fn: (value: T) => void): void {
    const list = this.list;
    for (let i = 0; i < list.length; i++) fn(list[i]!);
  }

  values(): Iterable<T> {
    return this.list;
  }
}

/**
 * Keeps `d` as its activator's latest demand, if it is sane and fresh (pokes come over
 * the network too). A time ahead of ours (a skewed activator clock) counts as now.
 */
function noteDemand(s: FunctionScaler, d: DemandNow, now: number): void {
  if (!(d.concurrency >= 0) || !(d.requestsPerSecond >= 0) || !Number.isFinite(d.concurrency + d.requestsPerSecond + d.time)) return;
  if (now - d.time >= DEMAND_FRESH_MS) return;
  const kept: DemandNow = { source: d.source, concurrency: d.concurrency, requestsPerSecond: d.requestsPerSecond, time: Math.min(d.time, now) };
  const demands = (s.demands ??= []);
  const i = demands.findIndex((x) => x.source === d.source);
  if (i >= 0) {
    if (demands[i]!.time <= kept.time) demands[i] = kept;
    return;
  }
  // As many activators as a window remembers sources; one more replaces the first kept.
  if (demands.length >= 16) demands.shift();
  demands.push(kept);
}

/** A report from the same activator covering the demand's moment takes over from it. */
function supersede(s: FunctionScaler, stat: ConcurrencyStat): void {
  const demands = s.demands!;
  const i = demands.findIndex((d) => d.source === stat.source && d.time <= stat.time);
  if (i < 0) return;
  demands.splice(i, 1);
  if (demands.length === 0) s.demands = undefined;
}

/** The summed fresh demand of all activators, in the function's metric; forgets the stale. */
function demandNow(s: FunctionScaler, now: number): number {
  const demands = s.demands!;
  let total = 0;
  for (let i = demands.length - 1; i >= 0; i--) {
    const d = demands[i]!;
    if (now - d.time >= DEMAND_FRESH_MS) demands.splice(i, 1);
    else total += s.params.metric === 'rps' ? d.requestsPerSecond : d.concurrency;
  }
  if (demands.length === 0) s.demands = undefined;
  return total;
}

/**
 * The state of a function taken over with `held` replicas asked for or ready. Its history
 * is gone, so for one stable window nothing is shed on the strength of empty windows:
 * more than one is held in panic (as initialScalerState does), one stays for window +
 * grace, as after a last request at the takeover. And the initial-scale phase is over:
 * it was the previous autoscaler's to run, and a function found at zero stays there
 * rather than being woken to its initial scale by every failover.
 */
function adoptedState(now: number, held: number): ScalerStateBuffer {
  const state = initialScalerState(now, held);
  state.lastTrafficAt = now;
  return state;
}

/** The last decision's reason, by deciding again from what it was decided from. */
function reasonOf(s: FunctionScaler): string {
  return decide(s.params, s.before, {
    stableAverage: s.stable,
    panicAverage: s.panic,
    readyReplicas: s.ready,
    currentScale: s.current,
    now: s.decidedAt,
    poked: s.poked,
  }).reason;
}

function statusOf(s: FunctionScaler): ScaleStatus {
  const st: ScaleStatus = {
    desiredReplicas: s.desired,
    mode: s.mode,
    reason: reasonOf(s),
    metric: s.params.metric,
    stableAverage: s.stable,
    panicAverage: s.panic,
  };
  if (s.lastScaleTime !== undefined) st.lastScaleTime = s.lastScaleTime;
  return st;
}
