// Prometheus metrics: one registry per component, injected, so several components (or
// several test instances) can live in one process without name clashes.
import { Registry, collectDefaultMetrics } from 'prom-client';

export function newRegistry(opts: { processMetrics?: boolean; labels?: Record<string, string> } = {}): Registry {
  const registry = new Registry();
  if (opts.labels) registry.setDefaultLabels(opts.labels);
  if (opts.processMetrics) collectDefaultMetrics({ register: registry });
  return registry;
}
