// The work queue every controller runs its reconciles through, as client-go's
// rate-limited workqueue does: keys (`kind/ns/name`) rather than objects, so a burst of
// events for one object is one reconcile of its latest state; one reconcile per key at a
// time; a key added while it runs is run once more afterwards; a failed key is retried
// after a per-key exponential delay that success resets ("forget").
import { backoffDelay, type BackoffPolicy } from '../shared/backoff.js';
import { deferred } from '../shared/abort.js';

/** Cancels a scheduled callback. */
export type CancelTimer = () => void;

/** Time and timers, injected so tests move them by hand. */
export interface Scheduler {
  now(): number;
  setTimeout(fn: () => void, ms: number): CancelTimer;
}

export const realScheduler: Scheduler = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

/** client-go's per-item limiter: 5 ms, doubling per consecutive failure, capped at 1000 s. */
export const DEFAULT_RETRY_BACKOFF: BackoffPolicy = { kind: 'exponential', baseMs: 5, maxMs: 1_000_000 };

export interface WorkQueueOptions {
  /** Reconciles of different keys that may run at once. Default 4. */
  workers?: number;
  retry?: BackoffPolicy;
  scheduler?: Scheduler;
  /** Told about every failure, with the delay before the retry. */
  onError?: (key: string, err: unknown, retryInMs: number) => void;
}

export type Reconcile = (key: string, signal: AbortSignal) => Promise<void>;

/** `Function/default/hello`: the kind keeps keys of different resources apart in one queue. */
export function objectKey(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}

export function parseObjectKey(key: string): { kind: string; namespace: string; name: string } {
  const parts = key.split('/');
  const [kind, namespace, name] = parts;
  if (parts.length !== 3 || !kind || namespace === undefined || !name) throw new Error(`invalid object key "${key}": want <kind>/<namespace>/<name>`);
  return { kind, namespace, name };
}

/** Delay before retry number `failures` (1-based) of one key. */
export function retryDelay(policy: BackoffPolicy, failures: number): number {
  return backoffDelay(policy, failures);
}

export class WorkQueue {
  private readonly workers: number;
  private readonly retry: BackoffPolicy;
  private readonly scheduler: Scheduler;
  /** FIFO of keys waiting for a worker; `queued` mirrors it for lookups. */
  private readonly order: string[] = [];
  private readonly queued = new Set<string>();
  private readonly running = new Set<string>();
  /** Added while running: run once more when the current run ends. */
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly retryTimers = new Map<string, CancelTimer>();
  private reconcile: Reconcile | undefined;
  private signal: AbortSignal | undefined;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly opts: WorkQueueOptions = {}) {
    this.workers = Math.max(1, opts.workers ?? 4);
    this.retry = opts.retry ?? DEFAULT_RETRY_BACKOFF;
    this.scheduler = opts.scheduler ?? realScheduler;
  }

  /** Queue `key` now. Keys added before run() wait for it. */
  add(key: string): void {
    if (this.stopped) return;
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    // An event beats a pending retry: run now; the failure count stays until a success.
    this.cancelRetry(key);
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.order.push(key);
    this.dispatch();
  }

  /** Failures of `key` since its last success; 0 when it has none. */
  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Keys waiting for a worker, running, or waiting for a retry. */
  get length(): number {
    return new Set([...this.queued, ...this.running, ...this.retryTimers.keys()]).size;
  }

  /** Resolves when no key is queued or running (retries pending on a timer do not count). */
  idle(): Promise<void> {
    if (this.queued.size === 0 && this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Runs reconciles until `signal` aborts; resolves once the running ones have finished.
   * `signal` is passed to every reconcile, and every retry timer is cleared on abort.
   */
  async run(reconcile: Reconcile, signal: AbortSignal): Promise<void> {
    if (this.reconcile) throw new Error('work queue is already running');
    this.reconcile = reconcile;
    this.signal = signal;
    const stopped = deferred<void>();
    const stop = (): void => {
      this.stopped = true;
      for (const cancel of this.retryTimers.values()) cancel();
      this.retryTimers.clear();
      this.order.length = 0;
      this.queued.clear();
      this.dirty.clear();
      stopped.resolve();
    };
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
    this.dispatch();
    await stopped.promise;
    await this.idle();
  }

  private dispatch(): void {
    const reconcile = this.reconcile;
    const signal = this.signal;
    if (!reconcile || !signal || this.stopped) return;
    while (this.running.size < this.workers) {
      const key = this.order.shift();
      if (key === undefined) break;
      this.queued.delete(key);
      this.running.add(key);
      void this.runOne(key, reconcile, signal);
    }
  }

  private async runOne(key: string, reconcile: Reconcile, signal: AbortSignal): Promise<void> {
    let failed = false;
    let error: unknown;
    try {
      await reconcile(key, signal);
    } catch (err) {
      failed = true;
      error = err;
    }
    this.running.delete(key);
    if (!this.stopped) {
      if (failed) {
        const n = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, n);
        const delay = retryDelay(this.retry, n);
        this.opts.onError?.(key, error, delay);
        if (this.dirty.delete(key)) this.add(key);
        else this.scheduleRetry(key, delay);
      } else {
        this.failures.delete(key);
        if (this.dirty.delete(key)) this.add(key);
      }
    }
    this.dispatch();
    if (this.queued.size === 0 && this.running.size === 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private scheduleRetry(key: string, delayMs: number): void {
    this.cancelRetry(key);
    const cancel = this.scheduler.setTimeout(() => {
      this.retryTimers.delete(key);
      this.add(key);
    }, delayMs);
    this.retryTimers.set(key, cancel);
  }

  private cancelRetry(key: string): void {
    const cancel = this.retryTimers.get(key);
    if (!cancel) return;
    cancel();
    this.retryTimers.delete(key);
  }
}
