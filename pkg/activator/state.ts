// Everything the activator keeps for one function that has seen traffic or endpoints:
// its throttler, its concurrency window and its response counts. Created on first use,
// so 10,000 routed but idle functions cost a route entry each and nothing more.
import type { FunctionKey } from '../apis/meta.js';
import type { FunctionMetricsView } from './metrics.js';
import { ConcurrencyWindow } from './stats.js';
import { Throttler, type ThrottlerHooks, type ThrottlerLimits } from './throttler.js';

export class FunctionState implements FunctionMetricsView {
  readonly throttler: Throttler;
  readonly window: ConcurrencyWindow;
  readonly responses = new Map<number, number>();
  /** The activation failure last logged, so repeated endpoint updates log it once. */
  reportedFailure: string | undefined;

  constructor(
    readonly key: FunctionKey,
    readonly id: string,
    /** Longest a request may wait plus run. */
    public timeoutMs: number,
    containerConcurrency: number,
    limits: ThrottlerLimits,
    hooks: ThrottlerHooks,
  ) {
    this.throttler = new Throttler(id, containerConcurrency, limits, hooks);
    this.window = new ConcurrencyWindow(key, hooks.now());
  }

  get queueDepth(): number {
    return this.throttler.queueDepth;
  }

  count(status: number): void {
    this.responses.set(status, (this.responses.get(status) ?? 0) + 1);
  }
}
