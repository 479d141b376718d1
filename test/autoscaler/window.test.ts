import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConcurrencyBuckets } from '../../pkg/autoscaler/window.js';

const S = 1000;

/** A 60 s window in 1 s buckets, panic window 6 s. */
function averagesAt(w: ConcurrencyBuckets, now: number): { stable: number; panic: number; hasData: boolean } {
  return w.averages(now, 60 * S, 6 * S);
}

describe('ConcurrencyBuckets', () => {
  test('one sample: both averages are that sample', () => {
    const w = new ConcurrencyBuckets(60 * S);
    w.record(10_500, 'a', 3);
    assert.deepEqual(averagesAt(w, 10_900), { stable: 3, panic: 3, hasData: true });
  });

  test('two activators in one bucket are summed: 3 + 4 = 7', () => {
    const w = new ConcurrencyBuckets(60 * S);
    w.record(10_100, 'a', 3);
    w.record(10_200, 'b', 4);
    assert.equal(averagesAt(w, 10_500).stable, 7);
  });

  test('one activator twice in one bucket (jitter) is averaged, not summed: 3 and 5 → 4', () => {
    const w = new ConcurrencyBuckets(60 * S);
    w.record(10_001, 'a', 3);
    w.record(10_999, 'a', 5);
    assert.equal(averagesAt(w, 10_999).stable, 4);
  });

  test('per-source averaging also holds for second and third sources: a 2, b 4 and 6, c 1 → 2 + 5 + 1 = 8', () => {
    const w = new ConcurrencyBuckets(60 * S);
    w.record(10_000, 'a', 2);
    w.record(10_100, 'b', 4);
    w.record(10_200, 'b', 6);
    w.record(10_300, 'c', 1);
    assert.equal(averagesAt(w, 10_500).stable, 8);
  });

  test('a bucket nobody reported into counts as 0: 10 at 1 s, nothing at 2 s, 20 at 3 s → 30 / 3 = 10', () => {
    // Was 15 (averaged over the buckets with data), which kept an idle function's
    // replicas for a whole window: issue 12, item 1.
    const w = new ConcurrencyBuckets(60 * S);
    w.record(1 * S, 'a', 10);
    w.record(3 * S, 'a', 20);
    assert.equal(averagesAt(w, 3 * S).stable, 10);
    // Bucket 4 is in progress and bucket 3 has data: 4 is not read yet.
    assert.equal(averagesAt(w, 4 * S + 500).stable, 10);
    // Nobody reported for 4 either: it counts, and so does 5. (10 + 0 + 20 + 0 + 0) / 5.
    assert.equal(averagesAt(w, 5 * S + 500).stable, 6);
  });

  test('a window that began less than its width ago is averaged over what has begun: 10 for 5 s reads 10, not 10 × 5 / 60', () => {
    const w = new ConcurrencyBuckets(60 * S);
    for (let t = 100; t < 105; t++) w.record(t * S, 'a', 10);
    assert.deepEqual(averagesAt(w, 104 * S), { stable: 10, panic: 10, hasData: true });
    // It began at 100 s; 10 s later the 5 s of 10 are averaged over 11 buckets (100..110).
    assert.equal(averagesAt(w, 110 * S).stable, 50 / 11);
  });

  test('the panic window begins again after a panic window of quiet, as Knative resets its panic buckets: a burst after 10 s reads at once', () => {
    const w = new ConcurrencyBuckets(60 * S);
    for (let t = 0; t < 30; t++) w.record(t * S, 'a', 4);
    w.record(30 * S, 'a', 0);
    // Quiet from 31 s to 40 s, then 50 at 41 s: the panic window (36..41) began at 41,
    // so it reads 50, not 50 / 6; the stable window keeps its zeros: (30 × 4 + 50) / 42.
    w.record(41 * S, 'a', 50);
    const avg = averagesAt(w, 41 * S);
    assert.equal(avg.panic, 50);
    assert.ok(Math.abs(avg.stable - 170 / 42) < 1e-9, `stable ${avg.stable}`);
    // A gap shorter than a panic window does not begin it again: with 0 at 42 s and 60
    // at 44 s it still began at 41, so (50 + 0 + 0 + 60) / 4.
    w.record(42 * S, 'a', 0);
    w.record(44 * S, 'a', 60);
    assert.equal(averagesAt(w, 44 * S).panic, 110 / 4);
  });

  test('panic window reads only its last buckets: 54 s at 10 then 6 s at 40 → stable 13, panic 40', () => {
    const w = new ConcurrencyBuckets(60 * S);
    for (let t = 0; t < 60; t++) w.record(t * S + 500, 'a', t < 54 ? 10 : 40);
    const avg = averagesAt(w, 59 * S + 900);
    assert.equal(avg.stable, 13);
    assert.equal(avg.panic, 40);
  });

  test('zeros reported for an idle function do count: 6 s at 12 then 54 s at 0 → stable 1.2, panic 0', () => {
    const w = new ConcurrencyBuckets(60 * S);
    for (let t = 0; t < 60; t++) w.record(t * S, 'a', t < 6 ? 12 : 0);
    const avg = averagesAt(w, 59 * S);
    assert.ok(Math.abs(avg.stable - 1.2) < 1e-9, `stable ${avg.stable}`);
    assert.equal(avg.panic, 0);
    assert.equal(avg.hasData, true);
  });

  test('a lone sample decays as the window empties and is gone a window later: 5 at 0 s', () => {
    const w = new ConcurrencyBuckets(60 * S);
    w.record(0, 'a', 5);
    assert.equal(averagesAt(w, 500).stable, 5);
    // 1.5 s: bucket 1 is in progress and bucket 0 has data, so 0 is still the last read.
    assert.equal(averagesAt(w, 1500).stable, 5);
    // 2.5 s: nobody reported for 1 or 2; the window began at 0: 5 / 3.
    assert.equal(averagesAt(w, 2500).stable, 5 / 3);
    assert.equal(averagesAt(w, 2500).panic, 5 / 3);
    assert.equal(averagesAt(w, 59_999).stable, 5 / 60);
    assert.equal(averagesAt(w, 59_999).panic, 0);
    assert.deepEqual(averagesAt(w, 60 * S), { stable: 0, panic: 0, hasData: false });
  });

  test('while the current bucket has no sample yet, the window ends at the one before', () => {
    const w = new ConcurrencyBuckets(6 * S);
    for (let t = 0; t < 10; t++) w.record(t * S + 900, 'a', t);
    // At 10.2 s bucket 10 is still empty: a 1-bucket panic window reads bucket 9, not nothing.
    assert.deepEqual(w.averages(10_200, 6 * S, 1 * S), { stable: 6.5, panic: 9, hasData: true });
    w.record(10_300, 'a', 20);
    // Now it has one: the window is buckets 5..10, (5 + 6 + 7 + 8 + 9 + 20) / 6.
    assert.deepEqual(w.averages(10_300, 6 * S, 1 * S), { stable: 55 / 6, panic: 20, hasData: true });
  });

  test('the ring reuses a slot: 5 at 0 s then 7 at 60 s → only 7', () => {
    const w = new ConcurrencyBuckets(60 * S);
    w.record(0, 'a', 5);
    w.record(60 * S, 'a', 7);
    assert.equal(averagesAt(w, 60 * S).stable, 7);
  });

  test('a late sample inside the window counts; one older than the ring is dropped', () => {
    const w = new ConcurrencyBuckets(60 * S);
    w.record(100 * S, 'a', 10);
    w.record(98 * S, 'b', 20); // two seconds late: its bucket is still in the ring
    w.record(40 * S, 'c', 1000); // its slot holds 100 s now
    // The window began at 98 s: (20 + 0 + 10) / 3.
    assert.equal(averagesAt(w, 100 * S).stable, 10);
  });

  test('a sample stamped after now is not read until its bucket comes', () => {
    const w = new ConcurrencyBuckets(60 * S);
    w.record(10 * S, 'a', 4);
    w.record(11 * S, 'a', 8);
    assert.equal(averagesAt(w, 10 * S).stable, 4);
    assert.equal(averagesAt(w, 11 * S).stable, 6);
  });

  test('bucket width is configurable: a 2 s window in 100 ms buckets has a 200 ms panic window', () => {
    const w = new ConcurrencyBuckets(2 * S, 100);
    assert.equal(w.capacity, 20);
    w.record(1000, 'a', 2);
    w.record(1850, 'a', 10);
    w.record(1950, 'a', 20);
    const avg = w.averages(1999, 2 * S, 200);
    // Buckets 10..19 (the window began at 1 s): 32 / 10.
    assert.ok(Math.abs(avg.stable - 3.2) < 1e-9);
    assert.equal(avg.panic, 15);
  });

  test('memory is fixed by window / bucket: an hour of samples still holds 60 buckets', () => {
    const w = new ConcurrencyBuckets(60 * S);
    for (let t = 0; t < 3600; t++) w.record(t * S, t % 2 === 0 ? 'a' : 'b', t);
    assert.equal(w.capacity, 60);
    // Bucket 3600 is empty, so the window is 3540..3599, all with data.
    assert.equal(averagesAt(w, 3600 * S).stable, 3569.5);
  });

  test('ignores negative, NaN and infinite samples', () => {
    const w = new ConcurrencyBuckets(60 * S);
    w.record(0, 'a', -1);
    w.record(0, 'a', Number.NaN);
    w.record(Number.NaN, 'a', 3);
    w.record(0, 'a', Number.POSITIVE_INFINITY);
    assert.equal(averagesAt(w, 0).hasData, false);
  });

  test('resized keeps the buckets a narrower or wider window can hold', () => {
    const w = new ConcurrencyBuckets(60 * S);
    for (let t = 0; t < 60; t++) w.record(t * S, 'a', t);
    const narrow = w.resized(10 * S);
    assert.equal(narrow.capacity, 10);
    assert.equal(narrow.averages(59 * S, 10 * S, 1 * S).stable, 54.5);
    const wide = narrow.resized(120 * S);
    assert.equal(wide.capacity, 120);
    assert.equal(wide.averages(59 * S, 120 * S, 1 * S).stable, 54.5);
    assert.equal(w.resized(60 * S), w);
  });

  test('running sums agree with a naive average over 5,000 random samples and reads', () => {
    // Three activators, each reporting in time order but lagging each other by up to
    // 3 s, several samples per bucket now and then; reads at random times, also ones
    // before the newest sample (skewed clocks).
    let seed = 7;
    const rand = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const windowMs = 10 * S;
    const w = new ConcurrencyBuckets(windowMs);
    const samples = new Map<number, Map<string, number[]>>();
    const clocks = [0, 0, 0];
    for (let i = 0; i < 5000; i++) {
      const src = Math.floor(rand() * 3);
      clocks[src] = Math.max(clocks[src]! + rand() * 700, Math.max(...clocks) - 3 * S);
      const time = clocks[src];
      const value = rand() < 0.2 ? 0 : Math.round(rand() * 1000) / 10;
      w.record(time, `activator-${src}`, value);
      const bucket = Math.floor(time / S);
      const bySource = samples.get(bucket) ?? new Map<string, number[]>();
      samples.set(bucket, bySource);
      bySource.set(`activator-${src}`, [...(bySource.get(`activator-${src}`) ?? []), value]);
      if (i % 7 !== 0) continue;
      const newest = Math.max(...clocks);
      const now = newest + (rand() - 0.3) * 4 * S;
      const got = w.averages(now, windowMs, 3 * S);
      const want = naive(samples, now, 10, 3, Math.floor(newest / S));
      assert.ok(Math.abs(got.stable - want.stable) < 1e-6, `stable at ${now}: ${got.stable} vs ${want.stable}`);
      assert.ok(Math.abs(got.panic - want.panic) < 1e-6, `panic at ${now}: ${got.panic} vs ${want.panic}`);
    }

    // The ring holds the 10 buckets up to the newest sample, so a read from before the
    // newest sample (a skewed clock) cannot see further back than that. The clocks
    // never pause for a window, so the window began at the first sample, in bucket 0.
    // The rules, from the top of window.ts, written out the slow way.
    function naive(all: Map<number, Map<string, number[]>>, now: number, stableBuckets: number, panicBuckets: number, newestBucket: number) {
      const first = 0;
      const held = (b: number): boolean => b > newestBucket - 10 && all.has(b);
      const total = (b: number): number => {
        let t = 0;
        for (const vs of all.get(b)!.values()) t += vs.reduce((x, y) => x + y, 0) / vs.length;
        return t;
      };
      const nowBucket = Math.floor(now / S);
      const current = !held(nowBucket) && held(nowBucket - 1) ? nowBucket - 1 : nowBucket;
      if (current - newestBucket >= stableBuckets) return { stable: 0, panic: 0 };
      let stableSum = 0;
      for (let b = current - stableBuckets + 1; b <= current; b++) if (held(b)) stableSum += total(b);
      let panicSum = 0;
      let oldest: number | undefined;
      for (let b = current - panicBuckets + 1; b <= current; b++) {
        if (!held(b)) continue;
        panicSum += total(b);
        oldest ??= b;
      }
      let panicWidth = panicBuckets;
      if (oldest !== undefined) {
        let earlier = false;
        for (let b = Math.max(first, oldest - panicBuckets + 1); b < oldest; b++) earlier ||= held(b);
        if (!earlier) panicWidth = Math.min(panicBuckets, current - oldest + 1);
      }
      return { stable: stableSum / Math.min(stableBuckets, current - first + 1), panic: oldest === undefined ? 0 : panicSum / panicWidth };
    }
  });

  test('averages into a given object: the same numbers as a fresh read, from every kind of read', () => {
    const w = new ConcurrencyBuckets(10 * S);
    const out = { stable: -1, panic: -1, hasData: true };
    // No data yet.
    assert.equal(w.averages(0, 10 * S, 2 * S, out), out);
    assert.deepEqual(out, { stable: 0, panic: 0, hasData: false });
    for (let t = 0; t < 30; t++) w.record(t * S, 'a', t);
    // Running sums (the whole ring), a narrower window (a scan), and a read from before
    // the newest sample (a scan).
    for (const [now, stableMs] of [
      [30 * S, 10 * S],
      [30 * S, 4 * S],
      [25 * S, 10 * S],
    ] as const) {
      assert.equal(w.averages(now, stableMs, 2 * S, out), out);
      assert.deepEqual(out, w.averages(now, stableMs, 2 * S), `at ${now} over ${stableMs}`);
    }
  });

  test('rejects a window or bucket that is not positive', () => {
    assert.throws(() => new ConcurrencyBuckets(0), /must be positive/);
    assert.throws(() => new ConcurrencyBuckets(1000, 0), /must be positive/);
  });
});
