// The autoscaler's global settings (Knative's config-autoscaler, in ms and plain numbers)
// and how one Function's `scale` block resolves against them into ScalingParams.
import type { FunctionSpec } from '../apis/function/types.js';
import { parseDuration } from '../shared/duration.js';

export interface AutoscalerConfig {
  /** Averaging window for the stable decision (Knative `stable-window`). */
  stableWindowMs: number;
  /** Panic window as a percent of the stable window. */
  panicWindowPercentage: number;
  /** Panic when panic-window demand reaches this percent of ready capacity. */
  panicThresholdPercentage: number;
  /** Concurrent requests per replica aimed at (`container-concurrency-target-default`). */
  targetConcurrency: number;
  /** Requests per second per replica aimed at, for `scale.metric: rps` (`requests-per-second-target-default`). */
  targetRequestsPerSecond: number;
  /** Percent of the target actually aimed at (`container-concurrency-target-percentage`). */
  targetUtilizationPercentage: number;
  /** How long the last replica stays after the decision to go to zero. */
  scaleToZeroGracePeriodMs: number;
  /** Hold the highest recommendation this long before scaling down. */
  scaleDownDelayMs: number;
  /** At most this many times the ready replicas per decision. */
  maxScaleUpRate: number;
  /** At most ready / this many removed per decision. */
  maxScaleDownRate: number;
  /** Replicas on create, before any traffic. */
  initialScale: number;
  /** How often every function is decided. */
  tickIntervalMs: number;
  /** Off: never below one replica, whatever `scale.min` says. */
  enableScaleToZero: boolean;
  /**
   * Width of one concurrency bucket. Knative uses 1 s, matching the activators' 1 s
   * samples; tests and `kfn dev` with windows of a second or two need smaller buckets
   * or the panic window would be narrower than one bucket.
   */
  bucketMs: number;
}

export const defaultAutoscalerConfig: Readonly<AutoscalerConfig> = Object.freeze({
  stableWindowMs: 60_000,
  panicWindowPercentage: 10,
  panicThresholdPercentage: 200,
  targetConcurrency: 100,
  // Knative's default; with the 70% utilization below, 140 requests/s per replica.
  targetRequestsPerSecond: 200,
  targetUtilizationPercentage: 70,
  scaleToZeroGracePeriodMs: 30_000,
  scaleDownDelayMs: 0,
  maxScaleUpRate: 1000,
  maxScaleDownRate: 2,
  initialScale: 1,
  tickIntervalMs: 2000,
  enableScaleToZero: true,
  bucketMs: 1000,
});

/**
 * The defaults with `overrides` applied, checked. Throws one error naming every bad
 * field, so a wrong flag or env value fails start-up instead of scaling oddly.
 */
export function autoscalerConfig(overrides: Partial<AutoscalerConfig> = {}): AutoscalerConfig {
  const cfg: AutoscalerConfig = { ...defaultAutoscalerConfig };
  for (const [k, v] of Object.entries(overrides) as [keyof AutoscalerConfig, unknown][]) {
    if (v !== undefined) (cfg as unknown as Record<string, unknown>)[k] = v;
  }
  const problems = configProblems(cfg);
  if (problems.length > 0) throw new Error(`invalid autoscaler config: ${problems.join('; ')}`);
  return cfg;
}

export function configProblems(cfg: AutoscalerConfig): string[] {
  const problems: string[] = [];
  const need = (field: keyof AutoscalerConfig, ok: boolean, what: string): void => {
    if (!ok) problems.push(`${field} must be ${what}, got ${String(cfg[field])}`);
  };
  const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  need('stableWindowMs', num(cfg.stableWindowMs) && cfg.stableWindowMs > 0, 'a positive number');
  need('panicWindowPercentage', num(cfg.panicWindowPercentage) && cfg.panicWindowPercentage > 0 && cfg.panicWindowPercentage <= 100, 'in (0, 100]');
  need('panicThresholdPercentage', num(cfg.panicThresholdPercentage) && cfg.panicThresholdPercentage > 100, 'above 100');
  need('targetConcurrency', num(cfg.targetConcurrency) && cfg.targetConcurrency > 0, 'a positive number');
  need('targetRequestsPerSecond', num(cfg.targetRequestsPerSecond) && cfg.targetRequestsPerSecond >= 0.01, 'at least 0.01');
  need('targetUtilizationPercentage', num(cfg.targetUtilizationPercentage) && cfg.targetUtilizationPercentage > 0 && cfg.targetUtilizationPercentage <= 100, 'in (0, 100]');
  need('scaleToZeroGracePeriodMs', num(cfg.scaleToZeroGracePeriodMs) && cfg.scaleToZeroGracePeriodMs >= 0, 'zero or more');
  need('scaleDownDelayMs', num(cfg.scaleDownDelayMs) && cfg.scaleDownDelayMs >= 0, 'zero or more');
  need('maxScaleUpRate', num(cfg.maxScaleUpRate) && cfg.maxScaleUpRate > 1, 'above 1');
  need('maxScaleDownRate', num(cfg.maxScaleDownRate) && cfg.maxScaleDownRate > 1, 'above 1');
  need('initialScale', Number.isInteger(cfg.initialScale) && cfg.initialScale >= 0, 'a whole number, zero or more');
  need('tickIntervalMs', num(cfg.tickIntervalMs) && cfg.tickIntervalMs > 0, 'a positive number');
  need('enableScaleToZero', typeof cfg.enableScaleToZero === 'boolean', 'true or false');
  need('bucketMs', num(cfg.bucketMs) && cfg.bucketMs > 0 && cfg.bucketMs <= cfg.stableWindowMs, 'positive and at most stableWindowMs');
  return problems;
}

/** What a function scales on: requests in flight, or requests arriving per second. */
export type ScaleMetric = 'concurrency' | 'rps';

/** One function's scaling rules, resolved to numbers. Everything `decide` needs. */
export interface ScalingParams {
  /** Which of the activators' numbers the windows average, and `target` is in. */
  metric: ScaleMetric;
  /**
   * Per replica, before utilization: concurrency after the containerConcurrency cap,
   * or requests per second.
   */
  target: number;
  /** Percent of `target` aimed at. */
  targetUtilization: number;
  /** target × utilization: what one replica is expected to carry. Never below 0.01. */
  targetPerReplica: number;
  stableWindowMs: number;
  /** Never narrower than one bucket. */
  panicWindowMs: number;
  /** Percent, e.g. 200 = panic when demand is twice the ready capacity. */
  panicThreshold: number;
  scaleToZeroGracePeriodMs: number;
  scaleDownDelayMs: number;
  maxScaleUpRate: number;
  maxScaleDownRate: number;
  min: number;
  /** 0 = unbounded. */
  max: number;
  initial: number;
  enableScaleToZero: boolean;
}

/**
 * Resolves `spec.scale` over the global config. Pure. The validator in pkg/apis rejects
 * bad manifests; here a value that would break the arithmetic (NaN, a negative window,
 * a rate of 0) falls back to the global setting rather than producing Infinity replicas.
 */
export function scalingParams(spec: FunctionSpec, cfg: AutoscalerConfig): ScalingParams {
  const s = spec.scale ?? {};
  const metric: ScaleMetric = s.metric === 'rps' ? 'rps' : 'concurrency';
  let target: number;
  if (metric === 'rps') {
    // containerConcurrency bounds requests in flight, not their rate: a replica at cc 1
    // serving 10 ms requests takes 100 a second. So, as in Knative, no cap here.
    target = positive(s.target) ?? cfg.targetRequestsPerSecond;
  } else {
    target = positive(s.target) ?? cfg.targetConcurrency;
    const cc = spec.containerConcurrency ?? 0;
    // A replica never takes more than cc at once, so aiming above it could not be met:
    // cc 10 with the default target 100 aims at 10 (then 7 with 70% utilization).
    if (cc > 0) target = Math.min(target, cc);
  }
  // Utilization applies to both metrics, as in Knative (rps: 200 × 70% = 140 per replica).
  const targetUtilization = percent(s.targetUtilization) ?? cfg.targetUtilizationPercentage;
  // A window narrower than one bucket could not be averaged over.
  const stableWindowMs = Math.max(cfg.bucketMs, durationMs(s.window, true) ?? cfg.stableWindowMs);
  const panicPct = percent(s.panicWindowPercentage) ?? cfg.panicWindowPercentage;
  const max = wholeOrZero(s.max) ?? 0;
  return {
    metric,
    target,
    targetUtilization,
    // Knative floors the target at 0.01 so the division below never explodes.
    targetPerReplica: Math.max(0.01, (target * targetUtilization) / 100),
    stableWindowMs,
    panicWindowMs: Math.min(stableWindowMs, Math.max(cfg.bucketMs, (stableWindowMs * panicPct) / 100)),
    panicThreshold: aboveHundred(s.panicThreshold) ?? cfg.panicThresholdPercentage,
    scaleToZeroGracePeriodMs: durationMs(s.scaleToZeroGracePeriod, false) ?? cfg.scaleToZeroGracePeriodMs,
    scaleDownDelayMs: durationMs(s.scaleDownDelay, false) ?? cfg.scaleDownDelayMs,
    maxScaleUpRate: aboveOne(s.maxScaleUpRate) ?? cfg.maxScaleUpRate,
    maxScaleDownRate: aboveOne(s.maxScaleDownRate) ?? cfg.maxScaleDownRate,
    min: wholeOrZero(s.min) ?? 0,
    max,
    initial: wholeOrZero(s.initial) ?? cfg.initialScale,
    enableScaleToZero: cfg.enableScaleToZero,
  };
}

function finite(v: number | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}
function positive(v: number | undefined): number | undefined {
  return finite(v) && v > 0 ? v : undefined;
}
function percent(v: number | undefined): number | undefined {
  return finite(v) && v > 0 && v <= 100 ? v : undefined;
}
function aboveOne(v: number | undefined): number | undefined {
  return finite(v) && v > 1 ? v : undefined;
}
function aboveHundred(v: number | undefined): number | undefined {
  return finite(v) && v > 100 ? v : undefined;
}
function wholeOrZero(v: number | undefined): number | undefined {
  return finite(v) && v >= 0 ? Math.floor(v) : undefined;
}
function durationMs(s: string | undefined, mustBePositive: boolean): number | undefined {
  if (s === undefined) return undefined;
  const ms = parseDuration(s);
  if (ms === undefined) return undefined;
  return mustBePositive && ms <= 0 ? undefined : ms;
}
