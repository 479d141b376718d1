// The scaling decision (Knative's KPA): a pure function of the function's rules, its
// previous state, the window averages, the ready replicas and the time. No clock, no
// I/O; the tick loop in autoscaler.ts feeds it and writes what it returns.
import type { ScaleMetric, ScalingParams } from './config.js';

export type ScaleMode = 'stable' | 'panic';

/**
 * What one function's decider remembers between decisions. `decide` never changes the
 * one it is given; `decideInto` writes the next one into a separate, caller-owned
 * ScalerStateBuffer.
 *
 * A time that has not happened is -Infinity, not undefined: V8 keeps a field that only
 * ever holds numbers as a double and overwrites it in place, but boxes every new time
 * stored in a field that may hold undefined into a fresh heap number: 16 bytes per
 * function with traffic per tick, half of what a tick still allocated. The checks compare with
 * the literal -Infinity for the same reason: a module constant is not known to be a
 * number where it is read, so comparing with it boxes too.
 */
export interface ScalerState {
  /** When the function was registered: the initial-scale phase, and the idle clock until traffic is seen, start here. */
  readonly createdAt: number;
  /** Last decision that saw traffic (a non-zero panic-window average, or a poke); -Infinity before that. */
  readonly lastTrafficAt: number;
  /** Last time panic-window demand crossed the threshold; -Infinity in stable mode. */
  readonly panicAt: number;
  /** Highest count asked for since panic began; panic never asks for less. */
  readonly maxPanicReplicas: number;
  /**
   * Recommendations within the scale-down delay, oldest first, each larger than every
   * later one (a monotonic queue), so the first is the maximum over the delay.
   */
  readonly recent: readonly Recommendation[];
}

/** A ScalerState that `decideInto` may overwrite with the next state. */
export interface ScalerStateBuffer extends ScalerState {
  createdAt: number;
  lastTrafficAt: number;
  panicAt: number;
  maxPanicReplicas: number;
  /** Rewritten in place, entries too: a buffer's entries are its own, never another state's. */
  recent: { time: number; desired: number }[];
}

export interface Recommendation {
  readonly time: number;
  readonly desired: number;
}

export interface DecideInput {
  /** Average total of the function's metric (concurrency or requests/s) over the stable window. */
  stableAverage: number;
  /** Same over the panic window. */
  panicAverage: number;
  readyReplicas: number;
  /** The scale asked for before this decision. */
  currentScale: number;
  now: number;
  /** A request is waiting for this function (a cold start, or requests queuing): there is traffic. */
  poked?: boolean;
}

export interface Decision {
  desired: number;
  /** A new object, the caller's to keep or to hand to decideInto as `next`. */
  state: ScalerStateBuffer;
  mode: ScaleMode;
  /** One line a person can read in `kfn status`: which rule set the number, with its inputs. */
  reason: string;
}

/** Where `decideInto` puts the reason, when asked for one. */
export interface Explanation {
  reason: string;
}

/**
 * The state of a newly registered function. As in Knative, an autoscaler that comes up
 * to find more than one ready replica (it restarted and lost its history) starts in
 * panic holding that count, so an empty window does not shed replicas that are
 * serving traffic; it leaves panic a stable window later, once the window is full.
 */
export function initialScalerState(now: number, readyReplicas = 0): ScalerStateBuffer {
  const panicking = readyReplicas > 1;
  return {
    createdAt: now,
    lastTrafficAt: -Infinity,
    panicAt: panicking ? now : -Infinity,
    maxPanicReplicas: panicking ? readyReplicas : 0,
    recent: [],
  };
}

export function modeOf(state: ScalerState): ScaleMode {
  return state.panicAt === -Infinity ? 'stable' : 'panic';
}

/** The decision with its reason, in new objects. For status, logs and tests; the tick uses decideInto. */
export function decide(p: ScalingParams, state: ScalerState, input: DecideInput): Decision {
  const next = initialScalerState(state.createdAt);
  const why: Explanation = { reason: '' };
  const desired = decideInto(p, state, input, next, why);
  return { desired, state: next, mode: modeOf(next), reason: why.reason };
}

/**
 * The decision: returns the replicas wanted and writes the state that follows into
 * `next`, which must not be `state` nor share its `recent` array or entries. The tick
 * calls this for every function every few seconds, so it allocates nothing once the
 * buffers have grown, and formats the reason only when `explain` is given: formatting
 * numbers for 10,000 functions every tick would cost more than deciding.
 */
export function decideInto(p: ScalingParams, state: ScalerState, input: DecideInput, next: ScalerStateBuffer, explain?: Explanation): number {
  if (next === state || next.recent === state.recent) throw new Error('decideInto: next must not share state with the state it follows');
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
  } else if (panicAt !== -Infinity && now - panicAt > p.stableWindowMs) {
    // A stable window after the last surge the surge is fully inside the stable
    // average, which can take over again.
    panicAt = -Infinity;
    maxPanic = 0;
  }

  let desired: number;
  if (panicAt === -Infinity) {
    desired = stableDesired;
    if (explain) explain.reason = stableWhy(p.metric, stableAverage, p.targetPerReplica, stableWant, desired, maxUp, maxDown);
  } else {
    // Panic provisions for the higher of the two windows and only ever grows: a burst
    // that just ended is likely to come back, and shedding replicas mid-surge is what
    // panic mode exists to prevent.
    const want = Math.max(stableDesired, panicDesired);
    const held = want < maxPanic;
    maxPanic = Math.max(maxPanic, want);
    desired = maxPanic;
    if (explain) {
      explain.reason = panicWhy(p.metric, panicAverage, panicWant, readyReplicas, held, Math.max(stableWant, panicWant), desired, maxUp, maxDown, p.stableWindowMs);
    }
  }

  // Scale-down delay: use the highest recommendation of the last `scaleDownDelay`, so a
  // dip shorter than the delay does not cost replicas that must then cold-start again.
  if (p.scaleDownDelayMs > 0) {
    pushRecommendation(state.recent, now, desired, p.scaleDownDelayMs, next.recent);
    const delayed = next.recent[0]?.desired ?? desired;
    if (delayed > desired) {
      if (explain) explain.reason = delayWhy(delayed, p.scaleDownDelayMs, desired);
      desired = delayed;
    }
  } else if (next.recent.length > 0) {
    // Checked first: setting an array's length is a call into the runtime, not a store.
    next.recent.length = 0;
  }

  // Initial scale, until traffic shows up or a window passes without any. With no
  // traffic the window averages are 0, so this is what keeps a new function up.
  const initialPhase = lastTrafficAt === -Infinity && now - state.createdAt < p.stableWindowMs;
  if (initialPhase && desired < p.initial) {
    desired = p.initial;
    if (explain) explain.reason = initialWhy(p.initial, p.stableWindowMs);
  }

  // Scale to zero: the stable window must have emptied (which it does a window after
  // the last request) and then the grace period must pass, so the last replica goes
  // stableWindow + grace after the last request (60 s + 30 s by default). Until then
  // the last replica stays. Only held, never started: at zero already, 0 stays 0.
  if (desired === 0 && p.enableScaleToZero) {
    const idleSince = lastTrafficAt === -Infinity ? state.createdAt : lastTrafficAt;
    const idleMs = now - idleSince;
    const zeroAfter = p.stableWindowMs + p.scaleToZeroGracePeriodMs;
    if (idleMs < zeroAfter && currentScale > 0) {
      desired = 1;
      if (explain) explain.reason = graceWhy(idleMs, zeroAfter);
    } else if (explain) {
      explain.reason = currentScale > 0 ? zeroWhy(idleMs) : initialPhase ? initialWhy(p.initial, p.stableWindowMs) : 'idle at zero';
    }
  }

  // Cold start: a request is waiting and nothing is ready. Don't wait for the averages
  // to catch up (they will, from the queued request's concurrency).
  if (poked && readyReplicas === 0 && desired < 1) {
    desired = 1;
    if (explain) explain.reason = 'cold start: a request is waiting and no replica is ready';
  }

  const lower = p.enableScaleToZero ? p.min : Math.max(1, p.min);
  if (desired < lower) {
    desired = lower;
    if (explain) explain.reason = `at min scale ${lower} (${explain.reason})`;
  }
  if (p.max > 0 && desired > p.max) {
    desired = p.max;
    if (explain) explain.reason = `at max scale ${p.max} (${explain.reason})`;
  }

  next.createdAt = state.createdAt;
  next.lastTrafficAt = lastTrafficAt;
  next.panicAt = panicAt;
  next.maxPanicReplicas = maxPanic;
  return desired;
}

function stableWhy(metric: ScaleMetric, avg: number, perReplica: number, want: number, got: number, maxUp: number, maxDown: number): string {
  return `stable: average ${METRIC_WORDS[metric]} ${fmt(avg)} / ${fmt(perReplica)} per replica wants ${want}${rateNote(want, got, maxUp, maxDown)}`;
}

/** How a reason names each metric. */
const METRIC_WORDS: Record<ScaleMetric, string> = { concurrency: 'concurrency', rps: 'requests/s' };

function panicWhy(
  metric: ScaleMetric,
  avg: number,
  panicWant: number,
  ready: number,
  held: boolean,
  want: number,
  got: number,
  maxUp: number,
  maxDown: number,
  windowMs: number,
): string {
  return (
    `panic: panic-window ${METRIC_WORDS[metric]} ${fmt(avg)} wants ${panicWant} for ${ready} ready` +
    (held ? `; holding ${got}, no scale-down while panicking` : rateNote(want, got, maxUp, maxDown)) +
    ` (until ${fmtMs(windowMs)} after the last surge)`
  );
}

function delayWhy(held: number, delayMs: number, instead: number): string {
  return `scale-down delay: holding ${held} (the highest in the last ${fmtMs(delayMs)}) instead of ${instead}`;
}

function initialWhy(initial: number, windowMs: number): string {
  return `initial scale ${initial} until traffic is seen or ${fmtMs(windowMs)} pass without any`;
}

function graceWhy(idleMs: number, zeroAfterMs: number): string {
  return `no traffic for ${fmtMs(idleMs)}; keeping the last replica until ${fmtMs(zeroAfterMs)} (window + grace period)`;
}

function zeroWhy(idleMs: number): string {
  return `scaled to zero: no traffic for ${fmtMs(idleMs)}`;
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

/**
 * Writes into `out` the queue `recent` becomes once `desired` is appended at `now`:
 * without what the delay no longer covers or a larger, later value dominates.
 */
function pushRecommendation(
  recent: readonly Recommendation[],
  now: number,
  desired: number,
  delayMs: number,
  out: { time: number; desired: number }[],
): void {
  let end = recent.length;
  while (end > 0 && recent[end - 1]!.desired <= desired) end--;
  let start = 0;
  while (start < end && now - recent[start]!.time >= delayMs) start++;
  // Copied into the entries `out` already has, then the length set: emptying the
  // array first would drop its backing store, and new entries would be garbage a
  // decision later.
  const count = end - start + 1;
  for (let i = 0; i < count; i++) {
    const from = i < count - 1 ? recent[start + i]! : undefined;
    const time = from ? from.time : now;
    const want = from ? from.desired : desired;
    const entry = out[i];
    if (entry) {
      entry.time = time;
      entry.desired = want;
    } else {
      out[i] = { time, desired: want };
    }
  }
  if (out.length !== count) out.length = count;
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
