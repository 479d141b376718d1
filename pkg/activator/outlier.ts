// Outlier ejection as Envoy's consecutive-5xx detection (and Knative's pod quarantine): a
// replica whose last `consecutive5xx` requests all failed (a 5xx answer, its own or ours
// for a failed connection or timeout) gets no new requests for a while. Pure decisions
// over a replica's counters; the throttler applies them.
//
// Worked numbers with the defaults (5 in a row, 30 s base, 300 s cap, 10 %): a replica
// failing its 5th request in a row is out for 30 s; back, and failing 5 in a row again,
// for 60 s, then 90 s, ... capped at 300 s from the 10th ejection on. With 20 replicas at
// most 2 are out at once (10 % of 20); with 4 replicas 10 % is 0.4, but one may always be
// out (as Envoy ejects at least one host whatever the percentage), and never the last one
// left: with 2 replicas, one at most; with 1, none.

export interface OutlierPolicy {
  /** Failures in a row that eject. */
  readonly consecutive5xx: number;
  readonly baseEjectionMs: number;
  /** Never below baseEjectionMs. */
  readonly maxEjectionMs: number;
  /** 0..100. */
  readonly maxEjectionPercent: number;
}

export const DEFAULT_OUTLIER = { consecutive5xx: 5, baseEjectionMs: 30_000, maxEjectionMs: 300_000, maxEjectionPercent: 10 } as const;

/** A replica's counters (kept on the Replica). */
export interface OutlierState {
  /** Failures since its last success or ejection. */
  consecutiveFailures: number;
  /** Times ejected so far. */
  ejections: number;
  /** Ejected until this time (ms); 0 when in service. */
  ejectedUntil: number;
}

/** Whether `status` counts against the replica: any 5xx, as Envoy's consecutive_5xx. */
export function isFailure(status: number): boolean {
  return status >= 500 && status <= 599;
}

/**
 * Counts one outcome into `s`; true when it completes a run of failures that calls for
 * ejection (the caller then asks mayEject and, if allowed, eject).
 */
export function countOutcome(s: OutlierState, failed: boolean, p: OutlierPolicy): boolean {
  if (!failed) {
    s.consecutiveFailures = 0;
    return false;
  }
  s.consecutiveFailures++;
  return s.consecutiveFailures >= p.consecutive5xx;
}

/**
 * How many of `total` replicas may be out at once: maxEjectionPercent of them (rounded
 * down, at least one), and never all of them.
 */
export function ejectionLimit(total: number, maxEjectionPercent: number): number {
  return Math.max(0, Math.min(total - 1, Math.max(1, Math.floor((total * maxEjectionPercent) / 100))));
}

/** Whether one more of `total` replicas may be ejected while `ejected` already are. */
export function mayEject(total: number, ejected: number, maxEjectionPercent: number): boolean {
  return ejected < ejectionLimit(total, maxEjectionPercent);
}

/** How long the `nth` ejection (1-based) lasts: base × n, capped. */
export function ejectionMs(nth: number, p: OutlierPolicy): number {
  return Math.min(p.baseEjectionMs * nth, Math.max(p.baseEjectionMs, p.maxEjectionMs));
}

/** Ejects: the run of failures starts again, and the replica is out until the returned time. */
export function eject(s: OutlierState, now: number, p: OutlierPolicy): number {
  s.ejections++;
  s.consecutiveFailures = 0;
  s.ejectedUntil = now + ejectionMs(s.ejections, p);
  return s.ejectedUntil;
}
