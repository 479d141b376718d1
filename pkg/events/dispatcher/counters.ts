// What happened to a trigger's events: the numbers behind Trigger status and the
// dispatcher's Prometheus metrics.
import { Counter, type Registry } from 'prom-client';

export type Outcome = 'delivered' | 'retried' | 'deadLettered' | 'dropped' | 'filtered';

/** `kfn_dispatcher_events_total{namespace, trigger, outcome}` in the given registry. */
export function eventsCounter(registry: Registry): Counter<'namespace' | 'trigger' | 'outcome'> {
  return new Counter({
    name: 'kfn_dispatcher_events_total',
    help: 'Events handled per trigger: delivered (2xx), retried, deadLettered, dropped (failed for good with no dead-letter subject), filtered (did not match, or a redrive for another trigger)',
    labelNames: ['namespace', 'trigger', 'outcome'],
    registers: [registry],
  });
}
