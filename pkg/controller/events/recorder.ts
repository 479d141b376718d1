// The EventRecorder behind types.ts: events.k8s.io/v1 Events, aggregated and rate limited
// as client-go's recorders do (the rules are in decide.ts). `record` returns at once and
// never throws: the write happens in the background and a failure is logged, because an
// Event is a courtesy to the operator and must never fail or slow a reconcile.
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { Counter, type Registry } from 'prom-client';
import { systemClock, type Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import {
  decideOccurrence,
  eventName,
  FIELD_LIMIT,
  isFinished,
  MAX_KEYS,
  microTime,
  newBucket,
  NOTE_LIMIT_BYTES,
  seriesKey,
  shouldFlush,
  spamKey,
  takeToken,
  truncateUtf8,
  type Occurrence,
  type SeriesState,
  type TokenBucket,
} from './decide.js';
import { kubernetesEventSink, type EventBody, type EventSink } from './sink.js';
import type { EventRecorder, EventSubject, EventType } from './types.js';

export interface RecorderOptions {
  sink: EventSink;
  /** `kfn.dev/<component>`: a qualified name, as the API server requires. */
  reportingController: string;
  /** The pod's name; see reportingInstanceOf. */
  reportingInstance: string;
  log: Logger;
  clock?: Clock;
  /** Where `kfn_events_dropped_total` goes. */
  metrics?: Registry;
  /** How often due series are written; 0 = never by itself (tests call flushDue). Default 5 s. */
  checkIntervalMs?: number;
}

/** POD_NAME (set from the downward API in config/), else the host name: what `kubectl describe` shows as "From". */
export function reportingInstanceOf(env: NodeJS.ProcessEnv = process.env): string {
  return truncateUtf8(env.POD_NAME || hostname() || 'unknown', FIELD_LIMIT);
}

export class KubernetesEventRecorder implements EventRecorder {
  private readonly clock: Clock;
  private readonly log: Logger;
  /** Insertion order is recency order: a touched key is deleted and set again. */
  private readonly series = new Map<string, SeriesState>();
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly dropped: Counter | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private seq = 0n;
  private closed = false;

  constructor(private readonly opts: RecorderOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log.child({ component: 'events' });
    if (opts.metrics) {
      const name = 'kfn_events_dropped_total';
      this.dropped =
        (opts.metrics.getSingleMetric(name) as Counter | undefined) ??
        new Counter({ name, help: 'Kubernetes Events not written: rate_limited (a flood from one object) or error (the API server refused or was unreachable).', labelNames: ['reason'], registers: [opts.metrics] });
    }
    const every = opts.checkIntervalMs ?? 5_000;
    if (every > 0) {
      this.timer = setInterval(() => this.flushDue(), every);
      this.timer.unref();
    }
  }

  record(regarding: EventSubject, type: EventType, reason: string, action: string, note: string): void {
    if (this.closed) return;
    try {
      this.observe({ regarding, type, reason: truncateUtf8(reason, FIELD_LIMIT), action: truncateUtf8(action, FIELD_LIMIT), note: truncateUtf8(note, NOTE_LIMIT_BYTES) });
    } catch (err) {
      this.log.warn({ err, reason }, 'recording an event failed');
    }
  }

  /** Writes every series whose count is due (and ends those past their window). The timer calls it; so can tests. */
  flushDue(): void {
    const now = this.clock.now();
    for (const [key, s] of this.series) {
      const finished = isFinished(s, now);
      if (shouldFlush(s, now, finished)) this.track(this.writeSeries(key, s, now));
      if (finished && s.name !== undefined) this.series.delete(key);
    }
  }

  /** Stops recording, writes pending series counts and waits for every write in flight. */
  async close(): Promise<void> {
    if (this.closed) return this.settled();
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.settled();
    const now = this.clock.now();
    for (const [key, s] of this.series) if (shouldFlush(s, now, true)) this.track(this.writeSeries(key, s, now));
    await this.settled();
  }

  /** Resolves when the writes started so far have ended (for tests and close). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private observe(o: Occurrence): void {
    const now = this.clock.now();
    const controller = this.opts.reportingController;
    const key = seriesKey(o, controller);
    const known = this.series.get(key);
    if (known && decideOccurrence(known, now) === 'increment') {
      known.count++;
      known.lastObservedMs = now;
      this.touch(this.series, key, known);
      return;
    }
    if (!this.allowed(o, now)) return;
    const s: SeriesState = { name: undefined, namespace: o.regarding.namespace, count: 1, written: 0, firstMs: now, lastObservedMs: now, lastWriteMs: now };
    this.touch(this.series, key, s);
    this.track(this.create(key, s, o, now));
  }

  private allowed(o: Occurrence, now: number): boolean {
    const key = spamKey(o.regarding, this.opts.reportingController);
    const b = this.buckets.get(key) ?? newBucket(now);
    this.touch(this.buckets, key, b);
    if (takeToken(b, now)) {
      if (b.dropped > 0) this.log.info({ regarding: describe(o.regarding), dropped: b.dropped }, 'events for this object are written again after a flood');
      b.dropped = 0;
      return true;
    }
    if (b.dropped === 0) this.log.warn({ regarding: describe(o.regarding), reason: o.reason }, 'too many events for one object: dropping them until its rate falls (client-go spam filter: burst 25, then 1 per 5 min)');
    b.dropped++;
    this.dropped?.inc({ reason: 'rate_limited' });
    return false;
  }

  private async create(key: string, s: SeriesState, o: Occurrence, now: number): Promise<void> {
    const body = this.body(o, now);
    try {
      await this.opts.sink.create(body);
      s.name = body.metadata.name;
      s.written = 1;
    } catch (err) {
      // Forgotten, so the next occurrence tries a new Event (subject to the spam filter).
      if (this.series.get(key) === s) this.series.delete(key);
      this.dropped?.inc({ reason: 'error' });
      this.log.warn({ err, regarding: describe(o.regarding), reason: o.reason }, 'writing an event failed');
    }
  }

  private async writeSeries(key: string, s: SeriesState, now: number): Promise<void> {
    const name = s.name;
    if (name === undefined) return;
    const count = s.count;
    const series = { count, lastObservedTime: microTime(s.lastObservedMs) };
    // Taken before the write, so a tick during it does not write the same count again.
    s.lastWriteMs = now;
    const previous = s.written;
    s.written = count;
    try {
      const result = await this.opts.sink.patchSeries(s.namespace, name, series);
      if (result === 'gone') {
        // Its TTL passed (or someone deleted it): the next occurrence makes a new Event.
        if (this.series.get(key) === s) this.series.delete(key);
        this.log.debug({ event: `${s.namespace}/${name}` }, 'event gone before its series was written; the next occurrence makes a new one');
      }
    } catch (err) {
      s.written = previous;
      this.dropped?.inc({ reason: 'error' });
      this.log.warn({ err, event: `${s.namespace}/${name}` }, 'writing an event series failed');
    }
  }

  private body(o: Occurrence, now: number): EventBody {
    // Unix nanoseconds, made unique per recorder: two Events for one object in the same
    // millisecond must not collide on name.
    const nanos = BigInt(now) * 1_000_000n + (this.seq++ % 1_000_000n);
    const r = o.regarding;
    return {
      metadata: { name: eventName(r.name, nanos), namespace: r.namespace },
      eventTime: microTime(now),
      reportingController: this.opts.reportingController,
      reportingInstance: this.opts.reportingInstance,
      action: o.action,
      reason: o.reason,
      type: o.type,
      note: o.note,
      regarding: { apiVersion: r.apiVersion, kind: r.kind, namespace: r.namespace, name: r.name, ...(r.uid ? { uid: r.uid } : {}) },
    };
  }

  private touch<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    map.set(key, value);
    if (map.size <= MAX_KEYS) return;
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }
}

function describe(r: EventSubject): string {
  return `${r.kind} ${r.namespace}/${r.name}`;
}

/** The recorder of one kfn component (`controller`, `autoscaler`, `activator`) on a cluster. */
export function componentRecorder(component: string, deps: { kubeConfig: KubeConfig; log: Logger; metrics?: Registry }): KubernetesEventRecorder {
  return new KubernetesEventRecorder({
    sink: kubernetesEventSink(deps.kubeConfig),
    reportingController: `kfn.dev/${component}`,
    reportingInstance: reportingInstanceOf(),
    log: deps.log,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  });
}
