// The autoscaler's flags, each with a KFN_<FLAG> env fallback (readFlags). Bad values fail
// start-up with the flag's name; autoscalerConfig() checks the combination.
import { flagReader } from '../../pkg/shared/flags.js';
import { hostname } from 'node:os';
import { readFlags } from '../../pkg/shared/startup.js';
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
  const { str, num, bool, duration: durationOf } = flagReader<keyof typeof options>(values);
  const duration = (name: keyof typeof options): number | undefined => durationOf(name, { allowZero: true, example: '60s' });
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
