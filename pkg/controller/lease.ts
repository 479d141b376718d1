// Pure decisions of leader election over a coordination.k8s.io/v1 Lease: who holds it,
// whether it has expired at `now`, and what a candidate should do about it.
//
// Expiry is judged from the Lease's renewTime against the local clock, so clocks must
// agree to within (leaseDuration − renewDeadline), 5 s with the defaults; client-go
// avoids that by timing from when it saw the record change, which makes a fresh
// candidate wait a full lease duration even for a long-dead leader. A released Lease
// (no holder) is free at once, which is what makes a clean hand-over immediate.
import type { V1Lease } from '@kubernetes/client-node';

export interface LeaseRecord {
  holder: string | undefined;
  /** Epoch ms of the last renewal; undefined when never renewed. */
  renewTimeMs: number | undefined;
  acquireTimeMs: number | undefined;
  leaseDurationMs: number;
  transitions: number;
}

export type LeaseAction =
  /** No Lease object yet: create it naming us. */
  | 'create'
  /** Free or expired: take it over (a new transition). */
  | 'acquire'
  /** Ours: renew it. */
  | 'renew'
  /** Someone else holds a live lease. */
  | 'wait';

/** client-node types MicroTime as a Date but hands back the JSON string; accept both. */
function timeMs(t: Date | string | undefined): number | undefined {
  if (t === undefined || t === null) return undefined;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isFinite(ms) ? ms : undefined;
}

export function leaseRecordOf(lease: V1Lease): LeaseRecord {
  const spec = lease.spec ?? {};
  return {
    holder: spec.holderIdentity || undefined,
    renewTimeMs: timeMs(spec.renewTime),
    acquireTimeMs: timeMs(spec.acquireTime),
    leaseDurationMs: (spec.leaseDurationSeconds ?? 0) * 1000,
    transitions: spec.leaseTransitions ?? 0,
  };
}

/** True when nobody holds the lease, or its holder has not renewed within the duration. */
export function isLeaseExpired(rec: LeaseRecord, now: number): boolean {
  if (!rec.holder) return true;
  if (rec.renewTimeMs === undefined) return true;
  return rec.renewTimeMs + rec.leaseDurationMs <= now;
}

export function leaseHolder(rec: LeaseRecord | undefined, now: number): string | undefined {
  if (!rec || isLeaseExpired(rec, now)) return undefined;
  return rec.holder;
}

export function leaseAction(rec: LeaseRecord | undefined, identity: string, now: number): LeaseAction {
  if (!rec) return 'create';
  if (rec.holder === identity) return 'renew';
  return isLeaseExpired(rec, now) ? 'acquire' : 'wait';
}

/** The spec to write for `action` ('create' | 'acquire' | 'renew'), from the record read. */
export function nextLeaseSpec(
  rec: LeaseRecord | undefined,
  action: Exclude<LeaseAction, 'wait'>,
  identity: string,
  leaseDurationMs: number,
  now: number,
): { holder: string; renewTimeMs: number; acquireTimeMs: number; leaseDurationSeconds: number; transitions: number } {
  const leaseDurationSeconds = Math.max(1, Math.ceil(leaseDurationMs / 1000));
  if (action === 'renew' && rec) {
    return { holder: identity, renewTimeMs: now, acquireTimeMs: rec.acquireTimeMs ?? now, leaseDurationSeconds, transitions: rec.transitions };
  }
  // A takeover from another holder is a transition; re-taking our own free lease is too,
  // as client-go counts it.
  const transitions = action === 'create' ? 0 : (rec?.transitions ?? 0) + 1;
  return { holder: identity, renewTimeMs: now, acquireTimeMs: now, leaseDurationSeconds, transitions };
}
