// One function's recent concurrency: a ring of time buckets that activators' samples
// fall into, read back as the stable- and panic-window averages.
//
// Within a bucket, samples are first averaged per source and then summed across
// sources (as Knative's aggregation does): two activators each seeing 3 in-flight
// requests is 6, but one activator whose 1 s samples jitter so that two land in the
// same bucket (3 and 5) is 4, not 8.
//
// Across buckets, the average is over the buckets that HAVE data inside the window,
// not over the window's full width. Why:
// - Sampling jitter: activators sample on their own timers, so now and then a bucket
//   gets two samples and its neighbour none. Counting that empty neighbour as 0 would
//   drop a 6-bucket panic average by a sixth and shed a replica for no reason.
// - The current bucket is often still empty when the tick reads it (its sample has
//   not arrived yet); counting it as 0 biases every decision down.
// - A function seen for 5 s is averaged over those 5 s, not diluted over 60 s.
// This relies on activators reporting idle functions as 0 (the StatSink contract:
// record() every second per function); "no data" means "nobody reported", and the
// average then reflects the reports that exist, falling to 0 (no data) only when a
// whole window has passed without any. Knative's newer ring buffer counts gaps between
// the first and last write as zeros instead; we prefer robustness to jitter.
//
// Time is always passed in; memory is fixed by the window and bucket width.
//
// Cost: the benchmark reads 10,000 windows per tick, so reads must not scan the ring
// (60 buckets × 10,000 is 19 MB of memory per tick). The ring keeps a running sum and
// count of its buckets; a read subtracts the few buckets that have aged out since the
// last write and adds up the panic window's handful.

export interface WindowAverages {
  /** Average total concurrency over the stable window; 0 without data. */
  stable: number;
  /** Same over the panic window. */
  panic: number;
  /** Whether any bucket inside the stable window had a sample. */
  hasData: boolean;
}

/** Where one source's latest samples went: enough to average its repeats in that bucket. */
interface SourceCursor {
  name: string;
  bucket: number;
  sum: number;
  count: number;
}

/** Sources remembered per window; past this, the one silent longest is forgotten. */
const MAX_SOURCES = 16;

/** Averages this close to 0 are float residue of adding and removing buckets, not load. */
const NOISE = 1e-9;

/**
 * The ring of buckets (Knative's TimedFloat64Buckets). Not the activator's
 * ConcurrencyWindow, which measures one function's in-flight requests over a sample
 * period and reports the samples that land here.
 */
export class ConcurrencyBuckets {
  readonly bucketMs: number;
  /** Buckets held: ceil(windowMs / bucketMs). */
  readonly capacity: number;
  /**
   * Two numbers per slot, side by side so a read touches one cache line: the bucket
   * number (floor(time / bucketMs)) the slot holds, -Infinity when empty; and the
   * bucket's total, the sum over sources of each source's average in it.
   */
  private readonly slots: number[];
  /**
   * Newest bucket written. Invariant: every stamped slot holds a bucket in
   * (newest - capacity, newest], so a slot is either empty or holds the one bucket
   * of that range that maps to it.
   */
  private newest = -Infinity;
  /** Running sum and count of the totals of every stamped slot. */
  private sum = 0;
  private count = 0;
  private readonly sources: SourceCursor[] = [];

  constructor(windowMs: number, bucketMs = 1000) {
    if (!(bucketMs > 0) || !(windowMs > 0)) throw new Error(`window ${windowMs} ms / bucket ${bucketMs} ms must be positive`);
    this.bucketMs = bucketMs;
    this.capacity = Math.max(1, Math.ceil(windowMs / bucketMs));
    // A plain array of doubles rather than a Float64Array: its elements live in the JS
    // heap, one indirection fewer than a typed array's external buffer, which measured
    // faster when reading 10,000 windows a tick.
    this.slots = [];
    for (let i = 0; i < this.capacity * 2; i++) this.slots.push(-Infinity);
    this.clear();
  }

  /** Adds one source's sample for the period ending at `time` (epoch ms). */
  record(time: number, source: string, value: number): void {
    if (!(time >= 0) || !Number.isFinite(time) || !(value >= 0) || !Number.isFinite(value)) return;
    const bucket = Math.floor(time / this.bucketMs);
    if (bucket > this.newest) this.advance(bucket);
    else if (bucket <= this.newest - this.capacity) return; // older than the ring holds
    const slot = bucket % this.capacity;
    if (this.slots[2 * slot] !== bucket) {
      this.slots[2 * slot] = bucket;
      this.slots[2 * slot + 1] = 0;
      this.count++;
    }
    const cur = this.cursor(source);
    let delta: number;
    if (cur.bucket === bucket) {
      const before = cur.sum / cur.count;
      cur.sum += value;
      cur.count++;
      delta = cur.sum / cur.count - before;
    } else if (cur.bucket < bucket) {
      cur.bucket = bucket;
      cur.sum = value;
      cur.count = 1;
      delta = value;
    } else {
      // Late for a bucket this source has already moved past: sources report in time
      // order, so this is rare; count it as it is.
      delta = value;
    }
    this.slots[2 * slot + 1] = this.slots[2 * slot + 1]! + delta;
    this.sum += delta;
  }

  /**
   * Both averages. The stable window is the last ceil(stableMs / bucketMs) buckets (never
   * more than the ring holds), the panic window the last ceil(panicMs / bucketMs), both
   * ending at the bucket `now` falls in, or, while that bucket has no sample yet, at
   * the one before: the current bucket is still filling when a tick reads it, and a
   * one-bucket window (a 1 s window in `kfn dev`) must read the last second rather
   * than nothing. Buckets stamped after `now` (a skewed activator clock) are not
   * counted yet, and such a read from before the newest sample sees only as far back
   * as the ring still reaches.
   *
   * Written into `out` when given, and returned: the tick passes the same object for
   * every function, so reading 10,000 windows allocates nothing.
   */
  averages(now: number, stableMs: number, panicMs: number, out: WindowAverages = { stable: 0, panic: 0, hasData: false }): WindowAverages {
    const cap = this.capacity;
    const nowBucket = Math.floor(now / this.bucketMs);
    const current = this.slots[2 * (nowBucket % cap)] === nowBucket ? nowBucket : nowBucket - 1;
    const stableBuckets = Math.min(cap, Math.max(1, Math.ceil(stableMs / this.bucketMs)));
    const panicBuckets = Math.min(stableBuckets, Math.max(1, Math.ceil(panicMs / this.bucketMs)));
    if (this.count === 0 || current - this.newest >= stableBuckets) {
      out.stable = 0;
      out.panic = 0;
      out.hasData = false;
      return out;
    }
    if (this.newest > current || stableBuckets < cap) return this.scan(current, stableBuckets, panicBuckets, out);

    // The ring holds (newest - cap, newest]; the window is (current - cap, current].
    // Buckets in (newest - cap, current - cap] have aged out since the last write.
    // Slot indexes step by one with a wrap instead of a float modulo per bucket: this
    // loop runs for every function on every tick.
    const s = this.slots;
    let sum = this.sum;
    let count = this.count;
    let b = Math.max(0, this.newest - cap + 1);
    for (let slot = b % cap; b <= current - cap; b++) {
      if (s[2 * slot] === b) {
        sum -= s[2 * slot + 1]!;
        count--;
      }
      if (++slot === cap) slot = 0;
    }
    let panicSum = 0;
    let panicCount = 0;
    b = Math.max(0, current - panicBuckets + 1);
    for (let slot = b % cap; b <= current; b++) {
      if (s[2 * slot] === b) {
        panicSum += s[2 * slot + 1]!;
        panicCount++;
      }
      if (++slot === cap) slot = 0;
    }
    // Written here rather than by a shared helper: passing the sums to a call that is
    // not inlined would box each into a new heap number, for every function every tick.
    out.stable = count > 0 ? clean(sum / count) : 0;
    out.panic = panicCount > 0 ? clean(panicSum / panicCount) : 0;
    out.hasData = count > 0;
    return out;
  }

  /** A window of another width holding the same bucket totals (which source gave what is dropped). */
  resized(windowMs: number): ConcurrencyBuckets {
    const next = new ConcurrencyBuckets(windowMs, this.bucketMs);
    if (next.capacity === this.capacity) return this;
    const buckets: number[] = [];
    for (let slot = 0; slot < this.capacity; slot++) if (this.slots[2 * slot] !== -Infinity) buckets.push(slot);
    buckets.sort((a, b) => this.slots[2 * a]! - this.slots[2 * b]!);
    // Replayed oldest first as one nameless source. A later sample for the newest bucket
    // (the only one still getting any) is then counted on top of it, overstating that
    // one bucket once: acceptable for a rare change of the window.
    for (const slot of buckets) next.record(this.slots[2 * slot]! * this.bucketMs, '', this.slots[2 * slot + 1]!);
    return next;
  }

  /** Moves the ring forward to `bucket`, emptying the slots it will reuse. */
  private advance(bucket: number): void {
    const cap = this.capacity;
    if (this.newest === -Infinity || bucket - this.newest >= cap) {
      this.clear();
    } else {
      const s = this.slots;
      for (let b = this.newest + 1, slot = b % cap; b <= bucket; b++) {
        if (s[2 * slot] !== -Infinity) {
          this.sum -= s[2 * slot + 1]!;
          this.count--;
          s[2 * slot] = -Infinity;
          s[2 * slot + 1] = 0;
        }
        if (++slot === cap) slot = 0;
      }
      // Once per turn of the ring, re-add the running sum from scratch so the float
      // error of many += and -= cannot accumulate past one turn's worth.
      if (Math.floor(bucket / cap) !== Math.floor(this.newest / cap)) {
        let sum = 0;
        for (let slot = 0; slot < cap; slot++) sum += s[2 * slot + 1]!;
        this.sum = sum;
      }
    }
    this.newest = bucket;
  }

  private clear(): void {
    for (let slot = 0; slot < this.capacity; slot++) {
      this.slots[2 * slot] = -Infinity;
      this.slots[2 * slot + 1] = 0;
    }
    this.sum = 0;
    this.count = 0;
  }

  private cursor(name: string): SourceCursor {
    const sources = this.sources;
    for (let i = 0; i < sources.length; i++) if (sources[i]!.name === name) return sources[i]!;
    const fresh: SourceCursor = { name, bucket: -Infinity, sum: 0, count: 0 };
    if (sources.length < MAX_SOURCES) {
      sources.push(fresh);
      return fresh;
    }
    // Activator pods come and go; the one silent longest is most likely gone.
    let stalest = 0;
    for (let i = 1; i < sources.length; i++) if (sources[i]!.bucket < sources[stalest]!.bucket) stalest = i;
    sources[stalest] = fresh;
    return fresh;
  }

  /** Exact averages by looking at every slot: for reads the running sums do not cover. */
  private scan(current: number, stableBuckets: number, panicBuckets: number, out: WindowAverages): WindowAverages {
    let stableSum = 0;
    let stableCount = 0;
    let panicSum = 0;
    let panicCount = 0;
    for (let slot = 0; slot < this.capacity; slot++) {
      const age = current - this.slots[2 * slot]!;
      if (age < 0 || age >= stableBuckets) continue;
      const total = this.slots[2 * slot + 1]!;
      stableSum += total;
      stableCount++;
      if (age < panicBuckets) {
        panicSum += total;
        panicCount++;
      }
    }
    out.stable = stableCount > 0 ? clean(stableSum / stableCount) : 0;
    out.panic = panicCount > 0 ? clean(panicSum / panicCount) : 0;
    out.hasData = stableCount > 0;
    return out;
  }
}

function clean(avg: number): number {
  return avg < NOISE ? 0 : avg;
}
