// The autoscaler's flags, each with a KFN_<FLAG> env fallback (readFlags). Bad values fail
// start-up with the flag's name; autoscalerConfig() checks the combination.
import { hostname } from 'node:os';
import { readFlags } from '../../pkg/shared/startup.js';
import { parseDuration } from '../../pkg/shared/duration.js';
import type { AutoscalerConfig } from '../../pkg/autoscaler/config.js';
import { DEFAULT_LEASE_DURATION_MS, DEFAULT_RENEW_DEADLINE_MS, DEFAULT_RETRY_PERIOD_MS } from '../../pkg/controller/leader.js';

const options = {
  port: { type: 'string' },
  'metrics-port': { type: 'string' },
  namespace: { type: 'string' },
  'lease-name': { type: 'string' },
  'stable-window': { type: 'string' },
  'panic-window-percentage': { type: 'string' },
  'panic-threshold-percentage': { type: 'string' },
  'target-concurrency': { type: 'string' },
  'target-utilization-percentage': { type: 'string' },
  'scale-to-zero-grace': { type: 'string' },
  'scale-down-delay': { type: 'string' },
  'initial-scale': { type: 'string' },
  tick: { type: 'string' },
  'enable-scale-to-zero': { type: 'string' },
} as const;

export interface AutoscalerSettings {
  port: number;
  metricsPort: number;
  /** Where the leader-election Lease lives: the autoscaler's own namespace. */
  namespace: string;
  leaseName: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  config: Partial<AutoscalerConfig>;
}

export function autoscalerSettings(argv: string[], env: NodeJS.ProcessEnv = process.env): AutoscalerSettings {
  const { values } = readFlags(argv, options);
  const str = (name: keyof typeof options): string | undefined => {
    const v = values[name];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const num = (name: keyof typeof options): number | undefined => {
    const v = str(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: want a number >= 0, got "${v}"`);
    return n;
  };
  const duration = (name: keyof typeof options): number | undefined => {
    const v = str(name);
    if (v === undefined) return undefined;
    const ms = parseDuration(v);
    if (ms === undefined) throw new Error(`--${name}: want a duration such as 60s, got "${v}"`);
    return ms;
  };
  const bool = (name: keyof typeof options): boolean | undefined => {
    const v = str(name);
    if (v === undefined) return undefined;
    if (v !== 'true' && v !== 'false') throw new Error(`--${name}: want true or false, got "${v}"`);
    return v === 'true';
  };
  const config: Partial<AutoscalerConfig> = {
    stableWindowMs: duration('stable-window'),
    panicWindowPercentage: num('panic-window-percentage'),
    panicThresholdPercentage: num('panic-threshold-percentage'),
    targetConcurrency: num('target-concurrency'),
    targetUtilizationPercentage: num('target-utilization-percentage'),
    scaleToZeroGracePeriodMs: duration('scale-to-zero-grace'),
    scaleDownDelayMs: duration('scale-down-delay'),
    initialScale: num('initial-scale'),
    tickIntervalMs: duration('tick'),
    enableScaleToZero: bool('enable-scale-to-zero'),
  };
  const port = (name: keyof typeof options): number | undefined => {
    const n = num(name);
    if (n !== undefined && (!Number.isInteger(n) || n > 65535)) throw new Error(`--${name}: want a port number, got "${n}"`);
    return n;
  };
  return {
    port: port('port') ?? 8080,
    metricsPort: port('metrics-port') ?? 9090,
    namespace: str('namespace') ?? 'kfn-system',
    leaseName: str('lease-name') ?? 'kfn-autoscaler',
    identity: env.POD_NAME || hostname(),
    leaseDurationMs: DEFAULT_LEASE_DURATION_MS,
    renewDeadlineMs: DEFAULT_RENEW_DEADLINE_MS,
    retryPeriodMs: DEFAULT_RETRY_PERIOD_MS,
    config,
  };
}
