// Prometheus metrics of the activator. Request counts and queue depths are plain numbers
// kept by the function states and read at scrape time (`collect`), because prom-client's
// labelled `inc()` hashes and validates the label set on every call, which is too much for
// the hot path. Cold starts are rare, so the histogram is observed directly.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { FunctionKey } from '../apis/meta.js';

/** What a function state exposes for scraping. */
export interface FunctionMetricsView {
  readonly key: FunctionKey;
  readonly queueDepth: number;
  /** Responses by HTTP status (499 = the client went away first). */
  readonly responses: ReadonlyMap<number, number>;
}

export class ActivatorMetrics {
  private readonly coldStarts: Histogram<'namespace' | 'name'>;
  /** Requests that matched no function, by status, without labels a client could invent. */
  private readonly unrouted = new Map<number, number>();

  constructor(registry: Registry, functions: () => Iterable<FunctionMetricsView>) {
    const unrouted = this.unrouted;
    new Counter({
      name: 'kfn_activator_requests_total',
      help: 'Requests answered by the activator, by function and HTTP status (499: client closed first). Unrouted requests have empty namespace and name.',
      labelNames: ['namespace', 'name', 'code'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const fn of functions()) {
          for (const [code, n] of fn.responses) this.inc({ namespace: fn.key.namespace, name: fn.key.name, code: String(code) }, n);
        }
        for (const [code, n] of unrouted) this.inc({ namespace: '', name: '', code: String(code) }, n);
      },
    });
    new Gauge({
      name: 'kfn_activator_queue_depth',
      help: 'Requests waiting in the activator for a free replica slot, by function.',
      labelNames: ['namespace', 'name'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const fn of functions()) this.set({ namespace: fn.key.namespace, name: fn.key.name }, fn.queueDepth);
      },
    });
    this.coldStarts = new Histogram({
      name: 'kfn_activator_cold_start_seconds',
      help: 'From the first request arriving for a function with no ready replica until it is forwarded.',
      labelNames: ['namespace', 'name'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
      registers: [registry],
    });
  }

  coldStart(key: FunctionKey, seconds: number): void {
    this.coldStarts.observe({ namespace: key.namespace, name: key.name }, seconds);
  }

  countUnrouted(status: number): void {
    this.unrouted.set(status, (this.unrouted.get(status) ?? 0) + 1);
  }

  /** Drops the cold-start series of a removed function. */
  forget(key: FunctionKey): void {
    this.coldStarts.remove({ namespace: key.namespace, name: key.name });
  }
}
