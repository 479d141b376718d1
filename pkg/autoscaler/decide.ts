// The scaling decision (Knative's KPA): a pure function of the function's rules, its
// previous state, the window averages, the ready replicas and the time. No clock, no
// I/O; the tick loop in autoscaler.ts feeds it and writes what it returns.
import type { ScalingParams } from './config.js';

export type ScaleMode = 'stable' | 'panic';

/** What one function's decider remembers between decisions. Never mutated: `decide` returns a new one when anything in it changes. */
export interface ScalerState {
  /** When the function was registered: the initial-scale phase, and the idle clock until traffic is seen, start here. */
  readonly createdAt: number;
  /** Last decision that saw traffic (a non-zero panic-window average, or a cold-start poke). */
  readonly lastTrafficAt: number | undefined;
  /** Last time panic-window demand crossed the threshold; undefined in stable mode. */
  readonly panicAt: number | undefined;
  /** Highest count asked for since panic began; panic never asks for less. */
  readonly maxPanicReplicas: number;
  /**
   * Recommendations within the scale-down delay, oldest first, each larger than every
   * later one (a monotonic queue), so the first is the maximum over the delay.
   */
  readonly recent: readonly Recommendation[];
}

export interface Recommendation {
  readonly time: number;
  readonly desired: number;
}

export interface DecideInput {
  /** Average total concurrency over the stable window. */
  stableAverage: number;
  /** Same over the panic window. */
  panicAverage: number;
  readyReplicas: number;
  /** The scale asked for before this decision. */
  currentScale: number;
  now: number;
  /** A request is waiting for this function and there may be nothing to serve it. */
  poked?: boolean;
}

export interface Decision {
  desired: number;
  state: ScalerState;
  mode: ScaleMode;
  /** One line a person can read in `kfn status`: which rule set the number, with its inputs. Formatted when first read. */
  readonly reason: string;
}

/**
 * The state of a newly registered function. As in Knative, an autoscaler that comes up
 * to find more than one ready replica (it restarted and lost its history) starts in
 * panic holding that count, so an empty window does not shed replicas that are
 * serving traffic; it leaves panic a stable window later, once the window is full.
 */
export function initialScalerState(now: number, readyReplicas = 0): ScalerState {
  const panicking = readyReplicas > 1;
  return {
    createdAt: now,
    lastTrafficAt: undefined,
    panicAt: panicking ? now : undefined,
    maxPanicReplicas: panicking ? readyReplicas : 0,
    recent: [],
  };
}

export function decide(p: ScalingParams, state: ScalerState, input: DecideInput): Decision {
  const { stableAverage, panicAverage, readyReplicas, currentScale, now } = input;
  const poked = input.poked === true;
  // With nothing ready yet, rates and the panic ratio are taken against 1, as Knative
  // does: from 0 ready, a rate of 1000 still allows 1000 at once.
  const ready = Math.max(1, readyReplicas);

  // Traffic is judged on the panic window: it empties a few seconds after the last
  // request, so lastTrafficAt tracks the last request to within that width.
  const lastTrafficAt = panicAverage > 0 || poked ? now : state.lastTrafficAt;

  // 3 ready, target 10 at 70% utilization = 7 per replica, stable average 20 → ceil(20 / 7) = 3.
  const stableWant = replicasFor(stableAverage, p.targetPerReplica);
  const panicWant = replicasFor(panicAverage, p.targetPerReplica);
  // Rates bound the step relative to the READY count: replicas still starting have
  // not yet absorbed any load, so growth compounds only on what is serving. The
  // ceil/floor let a conservative rate still move by one: rate 1.1 × 2 ready = 2.2 →
  // up to 3; 3 ready / rate 2 = 1.5 → down to no fewer than 1.
  const maxUp = Math.ceil(p.maxScaleUpRate * ready);
  const maxDown = Math.floor(ready / p.maxScaleDownRate);
  const stableDesired = Math.min(Math.max(stableWant, maxDown), maxUp);
  const panicDesired = Math.min(Math.max(panicWant, maxDown), maxUp);

  // 3 ready, target 7, panic average 42 → 6 wanted ≥ 200% × 3, so panic. Compared
  // with the raw want, before the rate bounds: the bounds limit how fast we move, not
  // whether demand is surging.
  const overThreshold = panicWant / ready >= p.panicThreshold / 100;
  let panicAt = state.panicAt;
  let maxPanic = state.maxPanicReplicas;
  if (overThreshold) {
    panicAt = now;
  } else if (panicAt !== undefined && now - panicAt > p.stableWindowMs) {
    // A stable window after the last surge the surge is fully inside the stable
    // average, which can take over again.
    panicAt = undefined;
    maxPanic = 0;
  }

  let desired: number;
  // Reasons are built only when someone reads them (status, a listener, a log line):
  // formatting numbers for 10,000 functions every tick would cost more than deciding.
  let why: () => string;
  if (panicAt === undefined) {
    desired = stableDesired;
    why = stableWhy(stableAverage, p.targetPerReplica, stableWant, desired, maxUp, maxDown);
  } else {
    // Panic provisions for the higher of the two windows and only ever grows: a burst
    // that just ended is likely to come back, and shedding replicas mid-surge is what
    // panic mode exists to prevent.
    const want = Math.max(stableDesired, panicDesired);
    const held = want < maxPanic;
    maxPanic = Math.max(maxPanic, want);
    desired = maxPanic;
    why = panicWhy(panicAverage, panicWant, readyReplicas, held, Math.max(stableWant, panicWant), desired, maxUp, maxDown, p.stableWindowMs);
  }

  // Scale-down delay: use the highest recommendation of the last `scaleDownDelay`, so a
  // dip shorter than the delay does not cost replicas that must then cold-start again.
  let recent: readonly Recommendation[] = state.recent;
  if (p.scaleDownDelayMs > 0) {
    recent = pushRecommendation(recent, now, desired, p.scaleDownDelayMs);
    const delayed = recent[0]?.desired ?? desired;
    if (delayed > desired) {
      why = delayWhy(delayed, p.scaleDownDelayMs, desired);
      desired = delayed;
    }
  } else if (recent.length > 0) {
    recent = [];
  }

  // Initial scale, until traffic shows up or a window passes without any. With no
  // traffic the window averages are 0, so this is what keeps a new function up.
  const initialPhase = lastTrafficAt === undefined && now - state.createdAt < p.stableWindowMs;
  if (initialPhase && desired < p.initial) {
    desired = p.initial;
    why = initialWhy(p.initial, p.stableWindowMs);
  }

  // Scale to zero: the stable window must have emptied (which it does a window after
  // the last request) and then the grace period must pass, so the last replica goes
  // stableWindow + grace after the last request (60 s + 30 s by default). Until then
  // the last replica stays. Only held, never started: at zero already, 0 stays 0.
  if (desired === 0 && p.enableScaleToZero) {
    const idleSince = lastTrafficAt ?? state.createdAt;
    const idleMs = now - idleSince;
    const zeroAfter = p.stableWindowMs + p.scaleToZeroGracePeriodMs;
    if (idleMs < zeroAfter && currentScale > 0) {
      desired = 1;
      why = graceWhy(idleMs, zeroAfter);
    } else if (currentScale > 0) {
      why = zeroWhy(idleMs);
    } else {
      why = initialPhase ? initialWhy(p.initial, p.stableWindowMs) : IDLE_AT_ZERO;
    }
  }

  // Cold start: a request is waiting and nothing is ready. Don't wait for the averages
  // to catch up (they will, from the queued request's concurrency).
  if (poked && readyReplicas === 0 && desired < 1) {
    desired = 1;
    why = COLD_START;
  }

  const lower = p.enableScaleToZero ? p.min : Math.max(1, p.min);
  if (desired < lower) {
    desired = lower;
    why = bounded('min', lower, why);
  }
  if (p.max > 0 && desired > p.max) {
    desired = p.max;
    why = bounded('max', p.max, why);
  }

  // An idle or steady function's state often does not change: hand the same object
  // back rather than a copy every tick (the autoscaler keeps one per function).
  const unchanged =
    lastTrafficAt === state.lastTrafficAt && panicAt === state.panicAt && maxPanic === state.maxPanicReplicas && recent === state.recent;
  return new ScaleDecision(
    desired,
    unchanged ? state : { createdAt: state.createdAt, lastTrafficAt, panicAt, maxPanicReplicas: maxPanic, recent },
    panicAt === undefined ? 'stable' : 'panic',
    why,
  );
}

class ScaleDecision implements Decision {
  private text: string | undefined;
  constructor(
    readonly desired: number,
    readonly state: ScalerState,
    readonly mode: ScaleMode,
    private readonly why: () => string,
  ) {}
  get reason(): string {
    return (this.text ??= this.why());
  }
}

// Reason builders take every value as an argument: a closure over decide's `let`s would
// read their final values, not the ones the rule saw; and with no closure inside it,
// decide allocates no scope object per call.
function stableWhy(avg: number, perReplica: number, want: number, got: number, maxUp: number, maxDown: number): () => string {
  return () => `stable: average concurrency ${fmt(avg)} / ${fmt(perReplica)} per replica wants ${want}${rateNote(want, got, maxUp, maxDown)}`;
}

function panicWhy(
  avg: number,
  panicWant: number,
  ready: number,
  held: boolean,
  want: number,
  got: number,
  maxUp: number,
  maxDown: number,
  windowMs: number,
): () => string {
  return () =>
    `panic: panic-window concurrency ${fmt(avg)} wants ${panicWant} for ${ready} ready` +
    (held ? `; holding ${got}, no scale-down while panicking` : rateNote(want, got, maxUp, maxDown)) +
    ` (until ${fmtMs(windowMs)} after the last surge)`;
}

const IDLE_AT_ZERO = (): string => 'idle at zero';
const COLD_START = (): string => 'cold start: a request is waiting and no replica is ready';

function delayWhy(held: number, delayMs: number, instead: number): () => string {
  return () => `scale-down delay: holding ${held} (the highest in the last ${fmtMs(delayMs)}) instead of ${instead}`;
}

function initialWhy(initial: number, windowMs: number): () => string {
  return () => `initial scale ${initial} until traffic is seen or ${fmtMs(windowMs)} pass without any`;
}

function graceWhy(idleMs: number, zeroAfterMs: number): () => string {
  return () => `no traffic for ${fmtMs(idleMs)}; keeping the last replica until ${fmtMs(zeroAfterMs)} (window + grace period)`;
}

function zeroWhy(idleMs: number): () => string {
  return () => `scaled to zero: no traffic for ${fmtMs(idleMs)}`;
}

function bounded(bound: 'min' | 'max', n: number, inner: () => string): () => string {
  return () => `at ${bound} scale ${n} (${inner()})`;
}

/**
 * ceil(average / perReplica), ignoring float noise: an average of 140.0000000001 at 70
 * per replica is 2 replicas, not 3 (Knative rounds averages to 6 digits for the same
 * reason). Any positive demand wants at least one.
 */
export function replicasFor(average: number, perReplica: number): number {
  if (!(average > 0)) return 0;
  return Math.max(1, Math.ceil(average / perReplica - 1e-6));
}

/** Appends `desired` at `now` and drops what the delay no longer covers or a larger, later value dominates. */
function pushRecommendation(recent: readonly Recommendation[], now: number, desired: number, delayMs: number): Recommendation[] {
  let end = recent.length;
  while (end > 0 && recent[end - 1]!.desired <= desired) end--;
  let start = 0;
  while (start < end && now - recent[start]!.time >= delayMs) start++;
  const next = recent.slice(start, end);
  next.push({ time: now, desired });
  return next;
}

function rateNote(want: number, got: number, maxUp: number, maxDown: number): string {
  if (got < want) return `, limited to ${maxUp} by the max scale-up rate`;
  if (got > want) return `, no fewer than ${maxDown} by the max scale-down rate`;
  return '';
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

function fmtMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}
