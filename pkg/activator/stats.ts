// Concurrency as the autoscaler wants it: per function, the time-weighted average of
// requests in flight (queued + proxied) over each one-second period, and how many
// arrived (also as a rate per second, for functions that scale on rps). Every change of the in-flight count closes a slice of area (count × time), so
// a request that lasts 250 ms of a second adds 0.25 to that second's average, however
// the arrivals fall. One ConcurrencyStat per active function per period goes to the sink;
// a function whose traffic stopped reports one zero and then goes quiet.
import type { FunctionKey } from '../apis/meta.js';
import type { ConcurrencyStat, StatSink } from '../autoscaler/stats.js';
import type { Clock } from '../shared/clock.js';

export class ConcurrencyWindow {
  inFlight = 0;
  requests = 0;
  /** Whether the reporter is reporting this function. */
  reporting = false;
  private area = 0;
  private lastChange: number;
  private periodStart: number;

  constructor(
    readonly key: FunctionKey,
    now: number,
  ) {
    this.lastChange = now;
    this.periodStart = now;
  }

  arrive(now: number): void {
    this.advance(now);
    this.inFlight++;
    this.requests++;
  }

  depart(now: number): void {
    this.advance(now);
    this.inFlight--;
  }

  /** Closes the period ending `now`: its length, average concurrency and arrivals. */
  sample(now: number): { averageConcurrency: number; requestCount: number; periodMs: number } {
    this.advance(now);
    const span = now - this.periodStart;
    const averageConcurrency = span > 0 ? this.area / span : this.inFlight;
    const requestCount = this.requests;
    this.area = 0;
    this.requests = 0;
    this.periodStart = now;
    return { averageConcurrency, requestCount, periodMs: Math.max(0, span) };
  }

  private advance(now: number): void {
    // A clock that steps back must not subtract area.
    if (now > this.lastChange) {
      this.area += this.inFlight * (now - this.lastChange);
      this.lastChange = now;
    }
  }
}

export interface StatReporterOptions {
  sink: StatSink;
  /** Which activator measured the stats. */
  source: string;
  clock: Clock;
  intervalMs?: number;
  /** A sink that throws must not stop the reporting of other functions. */
  onError?: (err: unknown) => void;
}

export class StatReporter {
  private readonly active = new Set<ConcurrencyWindow>();
  private readonly intervalMs: number;

  constructor(private readonly opts: StatReporterOptions) {
    this.intervalMs = opts.intervalMs ?? 1000;
  }

  /** Starts reporting `w` (call when a request arrives); cheap when it already is. */
  track(w: ConcurrencyWindow): void {
    if (w.reporting) return;
    // Start its period now: the time it sat idle and unreported is not part of it.
    w.sample(this.opts.clock.now());
    w.reporting = true;
    this.active.add(w);
  }

  /** Stops reporting `w` at once (its function was removed). */
  forget(w: ConcurrencyWindow): void {
    w.reporting = false;
    this.active.delete(w);
  }

  /** Reports one period for every active function. */
  tick(): void {
    const now = this.opts.clock.now();
    for (const w of this.active) {
      const { averageConcurrency, requestCount, periodMs } = w.sample(now);
      // Over at least one interval: the first period starts at the first request, so it
      // may be a few ms long, and 1 request in 3 ms is not 333 requests a second.
      const requestsPerSecond = (requestCount * 1000) / Math.max(periodMs, this.intervalMs);
      const stat: ConcurrencyStat = { key: w.key, source: this.opts.source, averageConcurrency, requestCount, requestsPerSecond, time: now };
      try {
        this.opts.sink.record(stat);
      } catch (err) {
        this.opts.onError?.(err);
      }
      if (averageConcurrency === 0 && requestCount === 0 && w.inFlight === 0) this.forget(w);
    }
  }

  /** Ticks every interval until `signal` aborts. */
  run(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setInterval(() => this.tick(), this.intervalMs);
      signal.addEventListener(
        'abort',
        () => {
          clearInterval(timer);
          resolve();
        },
        { once: true },
      );
    });
  }
}
