// The autoscaler's flags, each with a KFN_<FLAG> env fallback (readFlags). Bad values fail
// start-up with the flag's name; autoscalerConfig() checks the combination.
import { flagReader } from '../../pkg/shared/flags.js';
import { hostname } from 'node:os';
import { readFlags } from '../../pkg/shared/startup.js';
import type { AutoscalerConfig } from '../../pkg/autoscaler/config.js';

/**
 * The autoscaler's Lease timing, shorter than the controllers' (15 s / 10 s / 2 s): it is on
 * every cold start's path. A crashed leader is replaced within lease duration + retry
 * period (about 6 s), a released Lease within one retry period. Expiry is judged against
 * the local clock (lease.ts), so node clocks must agree within duration − deadline, 2 s.
 */
export const AUTOSCALER_LEASE = { leaseDurationMs: 5000, renewDeadlineMs: 3000, retryPeriodMs: 1000 } as const;

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
  /** This pod's IP (POD_IP, downward API): the leader points the Service `service` at it. */
  podIP: string | undefined;
  /** The selector-less Service the activators post stats to. */
  service: string;
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
    podIP: env.POD_IP || undefined,
    service: 'kfn-autoscaler',
    ...AUTOSCALER_LEASE,
    config,
  };
}
