// Trigger counts shared through a JetStream KV bucket: every dispatcher replica writes its
// own cumulative counts per trigger under `<namespace>.<trigger>.<instance>`, and the
// controller sums the instances into the Trigger's status. Counts of a pod that is gone
// stay in the bucket and keep counting toward the total, which is what a total is.
import type { JetStreamClient, KV } from 'nats';
import { sleep } from '../../shared/abort.js';
import type { Logger } from '../../shared/log.js';
import { emptyCounters, type TriggerCounters } from './counters.js';
import type { TriggerKey, TriggerState } from './dispatcher.js';

export const TRIGGER_STATS_BUCKET = 'kfn-trigger-stats';
export const DEFAULT_STATS_INTERVAL_MS = 5000;

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

/** What the writer reads of the dispatcher. */
export interface TriggerStatsSource {
  triggers(): TriggerKey[];
  status(key: TriggerKey): Pick<TriggerState, 'counters'> | undefined;
}

export interface StatsWriterOptions {
  kv: KV;
  source: TriggerStatsSource;
  /** This dispatcher: POD_NAME, or the hostname. */
  instance: string;
  log: Logger;
  intervalMs?: number;
  now?: () => Date;
}

/**
 * Writes the dispatcher's counts into the bucket every interval, for each trigger whose
 * counts changed since the last write. A process restarted under the same instance name
 * (a container restart keeps the pod's name) starts from the stored counts, so its
 * totals carry on rather than start again at zero.
 */
export class TriggerStatsWriter {
  private readonly intervalMs: number;
  private readonly now: () => Date;
  /** What was stored for each trigger before this process counted anything. */
  private readonly base = new Map<string, TriggerCounters>();
  private readonly written = new Map<string, string>();

  constructor(private readonly opts: StatsWriterOptions) {
    this.intervalMs = opts.intervalMs ?? DEFAULT_STATS_INTERVAL_MS;
    this.now = opts.now ?? (() => new Date());
  }

  /** Writes what changed; a failed write is logged and tried again at the next flush. */
  async flush(): Promise<void> {
    const live = new Set<string>();
    for (const trigger of this.opts.source.triggers()) {
      const state = this.opts.source.status(trigger);
      if (!state) continue;
      const key = statsKey(trigger, this.opts.instance);
      live.add(key);
      try {
        const base = await this.baseOf(key);
        const counts = addCounters(base, state.counters);
        const fingerprint = JSON.stringify(counts);
        if (this.written.get(key) === fingerprint) continue;
        const value: StoredTriggerStats = { ...counts, updatedAt: this.now().toISOString() };
        await this.opts.kv.put(key, JSON.stringify(value));
        this.written.set(key, fingerprint);
      } catch (err) {
        this.opts.log.warn({ err, trigger: `${trigger.namespace}/${trigger.name}` }, 'writing trigger counts failed; trying again later');
      }
    }
    // A trigger the dispatcher let go: if it comes back, its counts are read again first.
    for (const key of [...this.base.keys()]) {
      if (live.has(key)) continue;
      this.base.delete(key);
      this.written.delete(key);
    }
  }

  /** Flushes every interval until `signal` aborts; the owner flushes once more when deliveries have stopped. */
  async run(signal: AbortSignal): Promise<void> {
    for (;;) {
      await sleep(this.intervalMs, signal);
      if (signal.aborted) return;
      await this.flush();
    }
  }

  private async baseOf(key: string): Promise<TriggerCounters> {
    let base = this.base.get(key);
    if (!base) {
      const entry = await this.opts.kv.get(key);
      base = entry && entry.operation === 'PUT' ? parseCounters(entry.string()) : emptyCounters();
      this.base.set(key, base);
    }
    return base;
  }
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

const COUNTER_FIELDS = ['delivered', 'retried', 'deadLettered', 'dropped', 'filtered'] as const satisfies readonly (keyof TriggerCounters)[];

function addCounters(a: TriggerCounters, b: TriggerCounters): TriggerCounters {
  const out = emptyCounters();
  for (const f of COUNTER_FIELDS) out[f] = a[f] + b[f];
  return out;
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
