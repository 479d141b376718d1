// Setting a condition on any kfn status. Every resource's lifecycle file wraps this with
// its own condition types, so the transition-time rule lives in one place.
import type { Condition } from './meta.js';

export function findCondition(status: { conditions?: Condition[] } | undefined, type: string): Condition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/**
 * `status` with `cond` set, as a new object. lastTransitionTime moves to `now` only when
 * the condition's status flips, so it tells when the resource last became (not) ready.
 */
export function withCondition<S extends { conditions?: Condition[] }>(status: S, cond: Condition, now: Date): S {
  const previous = findCondition(status, cond.type);
  const lastTransitionTime =
    previous?.status === cond.status && previous.lastTransitionTime ? previous.lastTransitionTime : now.toISOString();
  const next: Condition = { type: cond.type, status: cond.status, lastTransitionTime };
  if (cond.reason) next.reason = cond.reason;
  if (cond.message) next.message = cond.message;
  const others = (status.conditions ?? []).filter((c) => c.type !== cond.type);
  // Sorted by type so the same conditions always serialize the same way.
  const conditions = [...others, next].sort((a, b) => a.type.localeCompare(b.type));
  return { ...status, conditions };
}
