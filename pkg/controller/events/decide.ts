// The recorder's decisions, pure and clock-free: which Event an occurrence belongs to,
// whether it makes a new Event or counts into a series, when a series is written, and
// the per-object token bucket that keeps a loop from flooding the API server.
//
// Modelled on client-go: tools/events (events.k8s.io/v1: an occurrence isomorphic to a
// cached Event becomes `series.count++`, a series ends 6 minutes after its last
// occurrence) and tools/record's EventCorrelator spam filter (a token bucket per source
// and object, burst 25, one token back every 5 minutes, an LRU of 4096 keys). Two choices
// differ, on purpose:
// - the key includes `type` and `note` (client-go's isomorphic key has neither): a
//   different note is a different thing to tell an operator, e.g. a second reason for an
//   activation failure gets its own Event rather than vanishing into the first one's count;
// - only a new Event takes a token. A repeat costs no write of its own (the series is
//   written at most every 30 s), so limiting it would only make the count wrong.
import type { EventSubject, EventType } from './types.js';

/** A series ends when nothing isomorphic was seen for this long (client-go's finishTime). */
export const SERIES_WINDOW_MS = 6 * 60_000;
/** A series' count is written at most this often. */
export const SERIES_FLUSH_MS = 30_000;
export const SPAM_BURST = 25;
/** One token back per this many ms (client-go's qps 1/300). */
export const SPAM_REFILL_MS = 5 * 60_000;
export const MAX_KEYS = 4096;
/** events.k8s.io validation: note ≤ 1024, reason/action/reportingInstance ≤ 128. */
export const NOTE_LIMIT_BYTES = 1024;
export const FIELD_LIMIT = 128;

export interface Occurrence {
  regarding: EventSubject;
  type: EventType;
  reason: string;
  action: string;
  note: string;
}

/** What the recorder keeps per isomorphic key. */
export interface SeriesState {
  /** The Event's name once created; undefined while its create is in flight. */
  name: string | undefined;
  namespace: string;
  /** Occurrences seen, the first included. */
  count: number;
  /** The count the API server has. */
  written: number;
  firstMs: number;
  lastObservedMs: number;
  /** When the Event or its series was last written (or its create started). */
  lastWriteMs: number;
}

export interface TokenBucket {
  tokens: number;
  /** When `tokens` was last brought up to date. */
  updatedMs: number;
  /** Occurrences dropped since the bucket last had a token; logged once per burst. */
  dropped: number;
}

/** The isomorphic key: same object, controller, type, reason, action and note. */
export function seriesKey(o: Occurrence, reportingController: string): string {
  const r = o.regarding;
  return JSON.stringify([reportingController, r.apiVersion, r.kind, r.namespace, r.name, r.uid ?? '', o.type, o.reason, o.action, o.note]);
}

/** The spam key: one bucket per source and object, whatever it says. */
export function spamKey(regarding: EventSubject, reportingController: string): string {
  return JSON.stringify([reportingController, regarding.apiVersion, regarding.kind, regarding.namespace, regarding.name, regarding.uid ?? '']);
}

/** A repeat within the window counts into the series; anything else starts a new Event. */
export function decideOccurrence(series: SeriesState | undefined, nowMs: number): 'create' | 'increment' {
  if (!series) return 'create';
  return nowMs - series.lastObservedMs <= SERIES_WINDOW_MS ? 'increment' : 'create';
}

/**
 * Whether a series' count should be written now: the Event exists, the count moved, and
 * the last write is SERIES_FLUSH_MS old (`final`: at shutdown or the end of the series,
 * whatever the time).
 */
export function shouldFlush(series: SeriesState, nowMs: number, final = false): boolean {
  if (series.name === undefined || series.count <= series.written || series.count < 2) return false;
  return final || nowMs - series.lastWriteMs >= SERIES_FLUSH_MS;
}

/** Past its window: written for the last time if needed, then forgotten. */
export function isFinished(series: SeriesState, nowMs: number): boolean {
  return nowMs - series.lastObservedMs > SERIES_WINDOW_MS;
}

/** Takes a token if there is one, refilling first. Returns whether one was taken; mutates `b`. */
export function takeToken(b: TokenBucket, nowMs: number): boolean {
  const elapsed = Math.max(0, nowMs - b.updatedMs);
  const refilled = Math.floor(elapsed / SPAM_REFILL_MS);
  if (refilled > 0) {
    b.tokens = Math.min(SPAM_BURST, b.tokens + refilled);
    b.updatedMs += refilled * SPAM_REFILL_MS;
  }
  if (b.tokens >= SPAM_BURST) b.updatedMs = nowMs;
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

export function newBucket(nowMs: number): TokenBucket {
  return { tokens: SPAM_BURST, updatedMs: nowMs, dropped: 0 };
}

/** At most `limit` UTF-8 bytes, cut at a character boundary, with an ellipsis when cut. */
export function truncateUtf8(s: string, limit: number): string {
  if (Buffer.byteLength(s, 'utf8') <= limit) return s;
  const ellipsis = '…';
  let out = '';
  let bytes = Buffer.byteLength(ellipsis, 'utf8');
  for (const ch of s) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > limit) break;
    out += ch;
    bytes += n;
  }
  return out + ellipsis;
}

/**
 * `<regarding name>.<hex nanoseconds>`, as client-go names Events; the name part is cut
 * so the whole stays a valid object name (≤ 253).
 */
export function eventName(regardingName: string, unixNanos: bigint): string {
  const suffix = `.${unixNanos.toString(16)}`;
  return `${regardingName.slice(0, 253 - suffix.length)}${suffix}`;
}

/** RFC3339 with microseconds, as metav1.MicroTime marshals: 2006-01-02T15:04:05.000000Z. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}
