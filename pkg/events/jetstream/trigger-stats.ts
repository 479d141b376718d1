// The trigger counts bucket, as both sides see it: dispatchers write their cumulative
// counts per trigger under `<namespace>.<trigger>.<instance>`
// (pkg/events/dispatcher/stats-kv.ts), and the controller sums every instance's into the
// Trigger's status (pkg/reconciler/trigger). The layout, the counts and their readers live
// here, below both, so the reconciler does not import the dispatcher.
import type { JetStreamClient, KV } from 'nats';

export const TRIGGER_STATS_BUCKET = 'kfn-trigger-stats';

export interface TriggerKey {
  namespace: string;
  name: string;
}

/** What happened to a trigger's events: the numbers behind Trigger status and the dispatcher's metrics. */
export interface TriggerCounters {
  delivered: number;
  retried: number;
  /** Published to the dead-letter subject after failing for good. */
  deadLettered: number;
  /** Failed for good with no dead-letter subject to go to: terminated and logged with its id. */
  dropped: number;
  filtered: number;
}

export function emptyCounters(): TriggerCounters {
  return { delivered: 0, retried: 0, deadLettered: 0, dropped: 0, filtered: 0 };
}

export const COUNTER_FIELDS = ['delivered', 'retried', 'deadLettered', 'dropped', 'filtered'] as const satisfies readonly (keyof TriggerCounters)[];

/** One instance's counts for one trigger, as stored. */
export interface StoredTriggerStats extends TriggerCounters {
  /** ISO time of the write. */
  updatedAt: string;
}

/**
 * Opens the bucket, creating it on first use. The dispatcher and the controller both call
 * this with the same settings, so whichever starts first creates it. One value per key is
 * kept: only the latest count matters. `replicas` (as the streams' replicas) applies when
 * the bucket is created; an existing bucket keeps its count.
 */
export function openTriggerStats(js: JetStreamClient, replicas = 1): Promise<KV> {
  return js.views.kv(TRIGGER_STATS_BUCKET, { history: 1, replicas });
}

/**
 * A KV key token: NATS keys allow letters, digits and `-_=/`, with `.` separating tokens.
 * Kubernetes names never hold `_`, so `.` → `_` cannot make two names collide.
 */
export function keyToken(s: string): string {
  const out = s.replace(/[^-\w=/]/g, '_');
  return out === '' ? '_' : out;
}

/** `<namespace>.<trigger>.<instance>`. */
export function statsKey(trigger: TriggerKey, instance: string): string {
  return `${keyToken(trigger.namespace)}.${keyToken(trigger.name)}.${keyToken(instance)}`;
}

/** Every instance's key of one trigger. */
export function statsFilter(trigger: TriggerKey): string {
  return `${keyToken(trigger.namespace)}.${keyToken(trigger.name)}.*`;
}

/** The sum over every instance's counts of one trigger; zeros when none wrote any. */
export async function readTriggerStats(kv: KV, trigger: TriggerKey): Promise<TriggerCounters> {
  const total = emptyCounters();
  const keys: string[] = [];
  for await (const k of await kv.keys(statsFilter(trigger))) keys.push(k);
  for (const k of keys) {
    const entry = await kv.get(k);
    if (!entry || entry.operation !== 'PUT') continue;
    const c = parseCounters(entry.string());
    for (const f of COUNTER_FIELDS) total[f] += c[f];
  }
  return total;
}

/** Removes every instance's counts of a trigger, when the trigger is deleted. */
export async function purgeTriggerStats(kv: KV, trigger: TriggerKey): Promise<void> {
  const keys: string[] = [];
  for await (const k of await kv.keys(statsFilter(trigger))) keys.push(k);
  for (const k of keys) await kv.purge(k);
}

/** A stored value as counters; a field that is missing or not a count is 0, so one bad write costs nothing else. */
export function parseCounters(text: string): TriggerCounters {
  const out = emptyCounters();
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return out;
  }
  if (typeof v !== 'object' || v === null) return out;
  for (const f of COUNTER_FIELDS) {
    const n = (v as Record<string, unknown>)[f];
    if (typeof n === 'number' && Number.isFinite(n) && n >= 0) out[f] = Math.floor(n);
  }
  return out;
}
