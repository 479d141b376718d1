// Trigger counts shared through a JetStream KV bucket: every dispatcher replica writes its
// own cumulative counts per trigger under `<namespace>.<trigger>.<instance>`, and the
// controller sums the instances into the Trigger's status. Counts of a pod that is gone
// stay in the bucket and keep counting toward the total, which is what a total is.
//
// The bucket's layout and its readers are in pkg/events/jetstream/trigger-stats.ts, below
// both the dispatcher (this writer) and the Trigger reconciler (the reader).
import type { KV } from 'nats';
import { sleep } from '../../shared/abort.js';
import type { Logger } from '../../shared/log.js';
import {
  COUNTER_FIELDS,
  emptyCounters,
  parseCounters,
  statsKey,
  type StoredTriggerStats,
  type TriggerCounters,
  type TriggerKey,
} from '../jetstream/trigger-stats.js';
import type { TriggerState } from './dispatcher.js';

export {
  keyToken,
  openTriggerStats,
  parseCounters,
  purgeTriggerStats,
  readTriggerStats,
  statsFilter,
  statsKey,
  TRIGGER_STATS_BUCKET,
  type StoredTriggerStats,
} from '../jetstream/trigger-stats.js';

export const DEFAULT_STATS_INTERVAL_MS = 5000;

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

function addCounters(a: TriggerCounters, b: TriggerCounters): TriggerCounters {
  const out = emptyCounters();
  for (const f of COUNTER_FIELDS) out[f] = a[f] + b[f];
  return out;
}
