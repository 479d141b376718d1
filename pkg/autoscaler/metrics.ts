// Prometheus metrics of the autoscaler. Per-function gauges are filled at scrape time
// from the autoscaler's own state rather than set on every tick: a tick over 10,000
// functions then costs nothing for metrics, and a removed function's series vanish
// with it. Labels are namespace and name only (one series per function per gauge);
// nothing per activator, per replica or per reason.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { FunctionKey } from '../apis/meta.js';
import type { ScaleMetric } from './config.js';
import type { ScaleMode } from './decide.js';

export interface FunctionScaleSample {
  key: FunctionKey;
  desiredReplicas: number;
  mode: ScaleMode;
  metric: ScaleMetric;
  stableAverage: number;
  panicAverage: number;
}

export interface AutoscalerMetrics {
  scaleWrites: Counter<'result'>;
  tickSeconds: Histogram;
}

const LABELS = ['namespace', 'name'] as const;

export function registerAutoscalerMetrics(registry: Registry, samples: () => Iterable<FunctionScaleSample>): AutoscalerMetrics {
  /** `value` undefined: no series for that function (a gauge of the metric it does not scale on). */
  const perFunction = (name: string, help: string, value: (s: FunctionScaleSample) => number | undefined): void => {
    new Gauge({
      name,
      help,
      labelNames: LABELS,
      registers: [registry],
      collect() {
        this.reset();
        for (const s of samples()) {
          const v = value(s);
          if (v !== undefined) this.set({ namespace: s.key.namespace, name: s.key.name }, v);
        }
      },
    });
  };
  perFunction('kfn_autoscaler_desired_replicas', 'Replicas the autoscaler asks for, per function.', (s) => s.desiredReplicas);
  perFunction('kfn_autoscaler_panic_mode', '1 while the function is in panic mode, else 0.', (s) => (s.mode === 'panic' ? 1 : 0));
  // As Knative's autoscaler: the concurrency gauges for functions that scale on it, the
  // requests-per-second ones for those on rps.
  const of = (metric: ScaleMetric, v: (s: FunctionScaleSample) => number) => (s: FunctionScaleSample) => (s.metric === metric ? v(s) : undefined);
  perFunction('kfn_autoscaler_stable_request_concurrency', 'Average concurrency over the stable window, per function scaling on concurrency.', of('concurrency', (s) => s.stableAverage));
  perFunction('kfn_autoscaler_panic_request_concurrency', 'Average concurrency over the panic window, per function scaling on concurrency.', of('concurrency', (s) => s.panicAverage));
  perFunction('kfn_autoscaler_stable_requests_per_second', 'Average requests per second over the stable window, per function scaling on rps.', of('rps', (s) => s.stableAverage));
  perFunction('kfn_autoscaler_panic_requests_per_second', 'Average requests per second over the panic window, per function scaling on rps.', of('rps', (s) => s.panicAverage));
  return {
    scaleWrites: new Counter({
      name: 'kfn_autoscaler_scale_writes_total',
      help: 'Scale writes by result (ok, error).',
      labelNames: ['result'],
      registers: [registry],
    }),
    tickSeconds: new Histogram({
      name: 'kfn_autoscaler_tick_seconds',
      help: 'Time to decide every function once.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
  };
}
