// Prometheus metrics of a controller: reconciles by outcome and duration, the work queue's
// depth, and whether this replica is the leader (exactly one should be).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface ControllerMetrics {
  reconciled(result: 'success' | 'error', seconds: number): void;
  setLeader(leading: boolean): void;
  /** Read at scrape time. */
  watchQueue(depth: () => number): void;
}

interface MetricFamilies {
  total: Counter<'controller' | 'result'>;
  duration: Histogram<'controller'>;
  leader: Gauge<'controller'>;
  depths: Map<string, () => number>;
}

/** One set of metric families per registry, shared by every controller of a process (labelled by `controller`). */
const families = new WeakMap<Registry, MetricFamilies>();

function familiesOf(registry: Registry): MetricFamilies {
  let f = families.get(registry);
  if (f) return f;
  const depths = new Map<string, () => number>();
  f = {
    total: new Counter({
      name: 'kfn_controller_reconcile_total',
      help: 'Reconciles run, by controller and result.',
      labelNames: ['controller', 'result'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'kfn_controller_reconcile_duration_seconds',
      help: 'How long one reconcile took, API calls included.',
      labelNames: ['controller'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    leader: new Gauge({
      name: 'kfn_controller_leader',
      help: '1 while this replica holds the leader Lease and acts.',
      labelNames: ['controller'] as const,
      registers: [registry],
    }),
    depths,
  };
  new Gauge({
    name: 'kfn_controller_queue_depth',
    help: 'Keys queued, running or waiting for a retry.',
    labelNames: ['controller'] as const,
    registers: [registry],
    collect() {
      for (const [controller, depth] of depths) this.set({ controller }, depth());
    },
  });
  families.set(registry, f);
  return f;
}

/** The metrics of one controller; several controllers may share a registry. */
export function controllerMetrics(registry: Registry, controller: string): ControllerMetrics {
  const { total, duration, leader, depths } = familiesOf(registry);
  depths.set(controller, () => 0);
  return {
    reconciled(result, seconds) {
      total.inc({ controller, result });
      duration.observe({ controller }, seconds);
    },
    setLeader(leading) {
      leader.set({ controller }, leading ? 1 : 0);
    },
    watchQueue(d) {
      depths.set(controller, d);
    },
  };
}
