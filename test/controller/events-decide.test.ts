// The recorder's pure rules: what is one Event, when a series is written, the spam
// filter's token bucket, and the limits the API server puts on Event fields.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  decideOccurrence,
  eventName,
  isFinished,
  microTime,
  newBucket,
  seriesKey,
  SERIES_FLUSH_MS,
  SERIES_WINDOW_MS,
  shouldFlush,
  SPAM_BURST,
  SPAM_REFILL_MS,
  takeToken,
  truncateUtf8,
  type Occurrence,
  type SeriesState,
} from '../../pkg/controller/events/decide.js';

const fn = { apiVersion: 'kfn.dev/v1alpha1', kind: 'Function', namespace: 'default', name: 'hello', uid: 'u1' };
const occ = (o: Partial<Occurrence> = {}): Occurrence => ({ regarding: fn, type: 'Normal', reason: 'ScaledFromZero', action: 'Scale', note: 'a request arrived', ...o });
const series = (o: Partial<SeriesState> = {}): SeriesState => ({ name: 'hello.1', namespace: 'default', count: 1, written: 1, firstMs: 0, lastObservedMs: 0, lastWriteMs: 0, ...o });

describe('events: isomorphic key', () => {
  const base = seriesKey(occ(), 'kfn.dev/autoscaler');
  for (const [name, other] of [
    ['another object', seriesKey(occ({ regarding: { ...fn, name: 'other' } }), 'kfn.dev/autoscaler')],
    ['another uid (the object was recreated)', seriesKey(occ({ regarding: { ...fn, uid: 'u2' } }), 'kfn.dev/autoscaler')],
    ['another type', seriesKey(occ({ type: 'Warning' }), 'kfn.dev/autoscaler')],
    ['another reason', seriesKey(occ({ reason: 'ScaledToZero' }), 'kfn.dev/autoscaler')],
    ['another action', seriesKey(occ({ action: 'Other' }), 'kfn.dev/autoscaler')],
    ['another note', seriesKey(occ({ note: 'another reason' }), 'kfn.dev/autoscaler')],
    ['another controller', seriesKey(occ(), 'kfn.dev/controller')],
  ] as const) {
    it(`differs for ${name}`, () => assert.notEqual(other, base));
  }
  it('is the same for the same occurrence', () => assert.equal(seriesKey(occ(), 'kfn.dev/autoscaler'), base));
  it('cannot be forged by a name containing the separator', () => {
    const a = seriesKey(occ({ regarding: { ...fn, namespace: 'a","b', name: 'c' } }), 'x');
    const b = seriesKey(occ({ regarding: { ...fn, namespace: 'a', name: 'b","c' } }), 'x');
    assert.notEqual(a, b);
  });
});

describe('events: occurrence → create or increment', () => {
  const rows: [string, SeriesState | undefined, number, 'create' | 'increment'][] = [
    ['first occurrence', undefined, 0, 'create'],
    ['repeat at once', series({ lastObservedMs: 0 }), 1, 'increment'],
    ['repeat at the end of the window', series({ lastObservedMs: 0 }), SERIES_WINDOW_MS, 'increment'],
    ['repeat just past the window', series({ lastObservedMs: 0 }), SERIES_WINDOW_MS + 1, 'create'],
  ];
  for (const [name, s, now, want] of rows) it(name, () => assert.equal(decideOccurrence(s, now), want));
});

describe('events: when a series count is written', () => {
  const rows: [string, SeriesState, number, boolean, boolean][] = [
    ['a single occurrence is never patched', series({ count: 1, written: 1 }), SERIES_FLUSH_MS * 10, false, false],
    ['a repeat waits for 30 s after the last write', series({ count: 2, lastWriteMs: 0 }), SERIES_FLUSH_MS - 1, false, false],
    ['…and is written at 30 s', series({ count: 2, lastWriteMs: 0 }), SERIES_FLUSH_MS, false, true],
    ['nothing new since the last write', series({ count: 5, written: 5 }), SERIES_FLUSH_MS * 2, false, false],
    ['not before the create has answered', series({ name: undefined, count: 3, written: 0 }), SERIES_FLUSH_MS * 2, true, false],
    ['a final flush does not wait', series({ count: 3, lastWriteMs: 0 }), 1, true, true],
  ];
  for (const [name, s, now, final, want] of rows) it(name, () => assert.equal(shouldFlush(s, now, final), want));

  it('a series ends 6 minutes after its last occurrence', () => {
    assert.equal(isFinished(series({ lastObservedMs: 0 }), SERIES_WINDOW_MS), false);
    assert.equal(isFinished(series({ lastObservedMs: 0 }), SERIES_WINDOW_MS + 1), true);
  });
});

describe('events: spam filter token bucket (burst 25, 1 per 5 min)', () => {
  it('allows a burst of 25, then drops', () => {
    const b = newBucket(0);
    for (let i = 0; i < SPAM_BURST; i++) assert.equal(takeToken(b, i), true, `event ${i + 1}`);
    assert.equal(takeToken(b, SPAM_BURST), false);
  });
  it('gives one token back per 5 minutes, not more', () => {
    const b = newBucket(0);
    for (let i = 0; i < SPAM_BURST; i++) takeToken(b, 0);
    assert.equal(takeToken(b, SPAM_REFILL_MS - 1), false);
    assert.equal(takeToken(b, SPAM_REFILL_MS), true);
    assert.equal(takeToken(b, SPAM_REFILL_MS + 1), false);
    assert.equal(takeToken(b, 3 * SPAM_REFILL_MS), true);
    assert.equal(takeToken(b, 3 * SPAM_REFILL_MS), true);
    assert.equal(takeToken(b, 3 * SPAM_REFILL_MS), false);
  });
  it('never holds more than the burst after a long quiet time', () => {
    const b = newBucket(0);
    takeToken(b, 0);
    let n = 0;
    while (takeToken(b, 100 * SPAM_REFILL_MS)) n++;
    assert.equal(n, SPAM_BURST);
  });
  it('a clock that goes back does not mint tokens', () => {
    const b = newBucket(1_000_000);
    for (let i = 0; i < SPAM_BURST; i++) takeToken(b, 1_000_000);
    assert.equal(takeToken(b, 0), false);
  });
});

describe('events: field limits and formats', () => {
  it('cuts a note to 1024 UTF-8 bytes at a character boundary', () => {
    const long = 'é'.repeat(1000); // 2000 bytes
    const cut = truncateUtf8(long, 1024);
    assert.ok(Buffer.byteLength(cut) <= 1024);
    assert.ok(cut.endsWith('…'));
    assert.equal(truncateUtf8('short', 1024), 'short');
  });
  it('names an Event <regarding>.<hex nanoseconds>, ≤ 253 characters', () => {
    assert.equal(eventName('hello', 0x1234abcdn), 'hello.1234abcd');
    const long = eventName('a'.repeat(253), 1_700_000_000_000_000_000n);
    assert.equal(long.length, 253);
    assert.match(long, /^a+\.[0-9a-f]+$/);
  });
  it('writes MicroTime as RFC3339 with six fractional digits', () => {
    assert.equal(microTime(Date.UTC(2006, 0, 2, 15, 4, 5, 123)), '2006-01-02T15:04:05.123000Z');
  });
});
