// The autoscaler's flags: one table that the parser and --help both read, each flag with
// a KFN_<FLAG> env fallback. Bad values, alone or in combination, stop start-up with the
// flag's name.
import { hostname } from 'node:os';
import type { LeaseSettings } from '../../pkg/controller/leader.js';
import { configProblems, defaultAutoscalerConfig, type AutoscalerConfig } from '../../pkg/autoscaler/config.js';
import { formatDuration } from '../../pkg/shared/duration.js';
import { flagReader, given, parseFlags, UsageError, type FlagTable } from '../../pkg/shared/flags.js';

export const AUTOSCALER_SUMMARY =
  "Takes the activators' concurrency stats and writes each Function's replicas (the Deployment's scale). Of several replicas only the one holding the Lease scales.";

const d = defaultAutoscalerConfig;

/**
 * The autoscaler's Lease timing, shorter than the controllers' (15 s / 10 s / 2 s): it is on
 * every cold start's path. A crashed leader is replaced within lease duration + retry
 * period (about 6 s), a released Lease within one retry period. Expiry is judged against
 * the local clock (lease.ts), so node clocks must agree within duration − deadline, 2 s.
 */
export const AUTOSCALER_LEASE = { leaseDurationMs: 5000, renewDeadlineMs: 3000, retryPeriodMs: 1000 } as const;

export const autoscalerFlags = {
  host: { help: 'Address the stats and metrics ports listen on (:: for IPv6).', default: '0.0.0.0' },
  port: { help: "Port taking the activators' stats and cold-start pokes.", default: '8080' },
  'metrics-port': { help: 'Port of /metrics and /healthz.', default: '9090' },
  namespace: { help: 'Namespace of the leader-election Lease (the autoscaler\'s own).', default: 'kfn-system' },
  'lease-name': { help: 'Name of the leader-election Lease.', default: 'kfn-autoscaler' },
  'stable-window': { help: 'Averaging window of the stable decision.', default: formatDuration(d.stableWindowMs) },
  'panic-window-percentage': { help: 'Panic window as a percent of the stable window.', default: String(d.panicWindowPercentage) },
  'panic-threshold-percentage': { help: 'Panic when demand reaches this percent of ready capacity.', default: String(d.panicThresholdPercentage) },
  'target-concurrency': { help: 'Concurrent requests per replica aimed at, when a Function sets none.', default: String(d.targetConcurrency) },
  'target-requests-per-second': { help: 'Requests per second per replica aimed at, for a Function with scale.metric rps that sets no target.', default: String(d.targetRequestsPerSecond) },
  'target-utilization-percentage': { help: 'Percent of the target actually aimed at.', default: String(d.targetUtilizationPercentage) },
  'scale-to-zero-grace': { help: 'How long the last replica stays after the decision to go to zero.', default: formatDuration(d.scaleToZeroGracePeriodMs) },
  'scale-down-delay': { help: 'Hold the highest recommendation this long before scaling down.', default: formatDuration(d.scaleDownDelayMs) },
  'initial-scale': { help: 'Replicas of a new Function before any traffic, when it sets none.', default: String(d.initialScale) },
  tick: { help: 'How often every Function is decided.', default: formatDuration(d.tickIntervalMs) },
  'enable-scale-to-zero': { help: 'false: never below one replica, whatever scale.min says.', default: String(d.enableScaleToZero) },
} as const satisfies FlagTable;

type AutoscalerFlag = keyof typeof autoscalerFlags;

/** The flag of each config field, to name it when the combination is refused. */
const FLAG_OF: Partial<Record<keyof AutoscalerConfig, AutoscalerFlag>> = {
  stableWindowMs: 'stable-window',
  panicWindowPercentage: 'panic-window-percentage',
  panicThresholdPercentage: 'panic-threshold-percentage',
  targetConcurrency: 'target-concurrency',
  targetRequestsPerSecond: 'target-requests-per-second',
  targetUtilizationPercentage: 'target-utilization-percentage',
  scaleToZeroGracePeriodMs: 'scale-to-zero-grace',
  scaleDownDelayMs: 'scale-down-delay',
  initialScale: 'initial-scale',
  tickIntervalMs: 'tick',
  enableScaleToZero: 'enable-scale-to-zero',
};

export interface AutoscalerSettings extends LeaseSettings {
  host: string;
  port: number;
  metricsPort: number;
  /** This pod's IP (POD_IP, downward API): the leader points the Service `service` at it. */
  podIP: string | undefined;
  /** The selector-less Service the activators post stats to. */
  service: string;
  config: Partial<AutoscalerConfig>;
}

export function autoscalerSettings(argv: string[], env: NodeJS.ProcessEnv = process.env): AutoscalerSettings {
  const { values } = parseFlags(argv, autoscalerFlags, env);
  const { str, num, bool, port, address, duration: durationOf } = flagReader<AutoscalerFlag>(values);
  const duration = (name: AutoscalerFlag): number | undefined => durationOf(name, { allowZero: true, example: '60s' });
  const config: Partial<AutoscalerConfig> = {
    stableWindowMs: duration('stable-window'),
    panicWindowPercentage: num('panic-window-percentage'),
    panicThresholdPercentage: num('panic-threshold-percentage'),
    targetConcurrency: num('target-concurrency'),
    targetRequestsPerSecond: num('target-requests-per-second'),
    targetUtilizationPercentage: num('target-utilization-percentage'),
    scaleToZeroGracePeriodMs: duration('scale-to-zero-grace'),
    scaleDownDelayMs: duration('scale-down-delay'),
    initialScale: num('initial-scale'),
    tickIntervalMs: duration('tick'),
    enableScaleToZero: bool('enable-scale-to-zero'),
  };
  // Checked here, not when the first leadership term builds the autoscaler: `--tick 0`
  // must stop start-up with the flag's name, not fail every term.
  const merged = { ...defaultAutoscalerConfig };
  for (const [k, v] of Object.entries(config)) if (v !== undefined) (merged as Record<string, unknown>)[k] = v;
  if (merged.bucketMs > merged.stableWindowMs) throw new UsageError(`--stable-window: want at least ${formatDuration(merged.bucketMs)} (one concurrency bucket), got "${String(values['stable-window'])}"`);
  for (const problem of configProblems(merged)) {
    const field = problem.split(' ')[0] as keyof AutoscalerConfig;
    const flag = FLAG_OF[field];
    if (flag) throw new UsageError(`--${flag}: ${problem.slice(field.length + 1).replace(/, got .*$/, '')}, got "${String(values[flag])}"`);
    throw new UsageError(problem);
  }
  return {
    host: given('host', address('host')),
    port: given('port', port('port')),
    metricsPort: given('metrics-port', port('metrics-port')),
    namespace: given('namespace', str('namespace')),
    leaseName: given('lease-name', str('lease-name')),
    identity: env.POD_NAME || hostname(),
    podIP: env.POD_IP || undefined,
    service: 'kfn-autoscaler',
    ...AUTOSCALER_LEASE,
    config,
  };
}
