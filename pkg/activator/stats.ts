// Concurrency as the autoscaler wants it: per function, the time-weighted average of
// requests in flight (queued + proxied) over each one-second period, and how many
// arrived (also as a rate per second, for functions that scale on rps). Every change of the in-flight count closes a slice of area (count × time), so
// a request that lasts 250 ms of a second adds 0.25 to that second's average, however
// the arrivals fall. One ConcurrencyStat per active function per period goes to the sink;
// a function whose traffic stopped reports one zero and then goes quiet.
//
// Between reports, a function whose requests queue while its demand at least doubles
// over what the autoscaler last heard is reported at once, with a poke (see surge()).
import type { FunctionKey } from '../apis/meta.js';
import type { ConcurrencyStat, DemandNow, StatSink } from '../autoscaler/stats.js';
import type { Clock } from '../shared/clock.js';

/**
 * Fewest ms between two demand reports (pokes) for one function: at most 10 a second,
 * and only while its demand grows. What a surge's later requests add is sent when the
 * interval ends, with the demand then: a step from 0 to 50 requests over 30 ms is told
 * as 2 at once and as 50 a tenth of a second later; clients that connect over 800 ms
 * are told every tenth of a second until an interval passes without growth.
 */
export const SURGE_INTERVAL_MS = 100;

export class ConcurrencyWindow {
  inFlight = 0;
  requests = 0;
  /** Whether the reporter is reporting this function. */
  reporting = false;
  /** The demand the autoscaler last heard: the last period's average, or a surge report since. */
  told = 0;
  /** When the last surge report went out; -Infinity before one. */
  surgeAt = -Infinity;
  /** The surge report waiting for the end of SURGE_INTERVAL_MS, if one is. */
  surgeTimer: NodeJS.Timeout | undefined;
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

  /** Arrivals per second in the period so far, taken over at least `minSpanMs`. */
  rateSoFar(now: number, minSpanMs: number): number {
    return (this.requests * 1000) / Math.max(now - this.periodStart, minSpanMs);
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
    clearTimeout(w.surgeTimer);
    w.surgeTimer = undefined;
    this.active.delete(w);
  }

  /**
   * A request of `w`'s function is waiting for a free slot (the throttler's queue). If
   * its demand (in flight, the queued included) is at least twice what the autoscaler
   * last heard, poke it with the demand now rather than leave it to the next report
   * and the tick after (2.9 s for a step from 0 to 50 clients, measured). Twice:
   * below the default panic threshold (200% of capacity) a surge would not change the
   * decision before the next report does, and a busy function whose queue comes and
   * goes around a steady level never doubles, so it is never poked. Once surging, any
   * growth is reported, at most once per SURGE_INTERVAL_MS, until an interval passes
   * without any: the rest of a ramp is below the doubling but is demand all the same.
   */
  surge(w: ConcurrencyWindow): void {
    // A pending check reads the demand when it fires.
    if (w.surgeTimer !== undefined || !w.reporting || w.inFlight < 2 * Math.max(1, w.told)) return;
    const now = this.opts.clock.now();
    const wait = w.surgeAt + SURGE_INTERVAL_MS - now;
    if (wait <= 0) this.reportSurge(w, now);
    else this.checkSurgeIn(w, wait);
  }

  /** Reports `w`'s demand in `ms` if it has grown over what the autoscaler heard by then. */
  private checkSurgeIn(w: ConcurrencyWindow, ms: number): void {
    w.surgeTimer = setTimeout(() => {
      w.surgeTimer = undefined;
      if (w.reporting && w.inFlight > w.told) this.reportSurge(w, this.opts.clock.now());
    }, ms);
    w.surgeTimer.unref();
  }

  /** Reports one period for every active function. */
  tick(): void {
    const now = this.opts.clock.now();
    for (const w of this.active) {
      const { averageConcurrency, requestCount, periodMs } = w.sample(now);
      w.told = averageConcurrency;
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

  private reportSurge(w: ConcurrencyWindow, now: number): void {
    w.told = w.inFlight;
    w.surgeAt = now;
    const demand: DemandNow = { source: this.opts.source, concurrency: w.inFlight, requestsPerSecond: w.rateSoFar(now, this.intervalMs), time: now };
    try {
      this.opts.sink.poke(w.key, demand);
    } catch (err) {
      this.opts.onError?.(err);
    }
    this.checkSurgeIn(w, SURGE_INTERVAL_MS);
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
          for (const w of this.active) {
            clearTimeout(w.surgeTimer);
            w.surgeTimer = undefined;
          }
          resolve();
        },
        { once: true },
      );
    });
  }
}
