// Everything the activator keeps for one function that has seen traffic or endpoints:
// its throttler, its concurrency window and its response counts. Created on first use,
// so 10,000 routed functions with no endpoints cost a route entry each and nothing more.
// A function with endpoints but no traffic holds its throttler and replicas only: the
// window and the counts come with its first request, and the throttler's hooks are this
// object's methods over one FunctionEvents for all, not closures per function.
import type { FunctionKey } from '../apis/meta.js';
import type { FunctionMetricsView } from './metrics.js';
import { ConcurrencyWindow } from './stats.js';
import type { ActivationFailure } from '../platform/types.js';
import { Throttler, type ThrottlerHooks, type ThrottlerLimits } from './throttler.js';

/** What the functions' throttlers tell the activator, shared by all of them. */
export interface FunctionEvents {
  /** `fn` has a request waiting and no ready replica. */
  poke(fn: FunctionState): void;
  /** `fn` has a request waiting for a free slot. */
  queued?(fn: FunctionState): void;
  /** `fn`'s cold spell ended `ms` after its first request started waiting. */
  coldStartServed(fn: FunctionState, ms: number): void;
  now(): number;
  /** `requests` for `fn` were refused with 503 because it cannot start. */
  activationFailed?(fn: FunctionState, failure: ActivationFailure, requests: number): void;
}

const NO_RESPONSES: ReadonlyMap<number, number> = new Map();

/** Status counted for a request whose client went away before its response was complete. */
export const CLIENT_CLOSED = 499;

export class FunctionState implements FunctionMetricsView, ThrottlerHooks {
  readonly throttler: Throttler;
  /** spec.retries.idempotent: a broken idempotent request may go to another replica. */
  retryIdempotent = false;
  /** The activation failure last logged, so repeated endpoint updates log it once. */
  reportedFailure: string | undefined;
  private concurrency: ConcurrencyWindow | undefined;
  private counts: Map<number, number> | undefined;

  constructor(
    readonly key: FunctionKey,
    readonly id: string,
    /** Longest a request may wait plus run. */
    public timeoutMs: number,
    containerConcurrency: number,
    limits: ThrottlerLimits,
    private readonly events: FunctionEvents,
  ) {
    this.throttler = new Throttler(id, containerConcurrency, limits, this);
  }

  /** Its concurrency window, made on first use. */
  get window(): ConcurrencyWindow {
    return (this.concurrency ??= new ConcurrencyWindow(this.key, this.events.now()));
  }

  /** Requests waiting or proxied. */
  get inFlight(): number {
    return this.concurrency?.inFlight ?? 0;
  }

  /** The window, if a request ever made one. */
  get windowIfAny(): ConcurrencyWindow | undefined {
    return this.concurrency;
  }

  get queueDepth(): number {
    return this.throttler.queueDepth;
  }

  get responses(): ReadonlyMap<number, number> {
    return this.counts ?? NO_RESPONSES;
  }

  /**
   * What is left of the function's timeout (which covers waiting and running) for a
   * request that arrived at `arrivedAt`; at least 1 ms, so a timer still fires.
   */
  timeLeftMs(arrivedAt: number, now: number): number {
    return Math.max(1, this.timeoutMs - (now - arrivedAt));
  }

  count(status: number): void {
    const counts = (this.counts ??= new Map());
    counts.set(status, (counts.get(status) ?? 0) + 1);
  }

  poke(): void {
    this.events.poke(this);
  }

  queued(): void {
    this.events.queued?.(this);
  }

  coldStartServed(ms: number): void {
    this.events.coldStartServed(this, ms);
  }

  now(): number {
    return this.events.now();
  }

  activationFailed(failure: ActivationFailure, requests: number): void {
    this.events.activationFailed?.(this, failure, requests);
  }
}
