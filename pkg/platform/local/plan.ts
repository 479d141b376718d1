// Which replicas to start and which to drain, as a pure function of what exists and
// what is wanted. Scale-down takes replicas that serve nothing first, then the newest;
// a new revision replaces the old one ready-for-ready, so capacity never drops during
// a roll.

export interface PlannedReplica {
  id: string;
  /** Creation order within the function. */
  seq: number;
  revision: number;
  ready: boolean;
}

export interface ReplicaPlan {
  drain: string[];
  start: number;
}

export function planReplicas(desired: number, revision: number, live: readonly PlannedReplica[]): ReplicaPlan {
  const drain: string[] = [];
  const current = live.filter((r) => r.revision === revision);
  const old = live.filter((r) => r.revision !== revision);

  // Worst first: not ready, then newest.
  const byDrainOrder = (a: PlannedReplica, b: PlannedReplica): number => Number(a.ready) - Number(b.ready) || b.seq - a.seq;

  const excess = current.length - desired;
  const keptCurrent = [...current].sort(byDrainOrder);
  if (excess > 0) drain.push(...keptCurrent.splice(0, excess).map((r) => r.id));

  // Old replicas that serve nothing go at once; ready ones only as replacements are
  // ready to take over ("3 wanted, 1 new ready → keep 2 old").
  const oldReady = old.filter((r) => r.ready).sort(byDrainOrder);
  drain.push(...old.filter((r) => !r.ready).map((r) => r.id));
  const readyCurrent = keptCurrent.filter((r) => r.ready).length;
  const keepOld = Math.max(0, desired - readyCurrent);
  if (oldReady.length > keepOld) drain.push(...oldReady.slice(0, oldReady.length - keepOld).map((r) => r.id));

  return { drain, start: Math.max(0, desired - keptCurrent.length) };
}
