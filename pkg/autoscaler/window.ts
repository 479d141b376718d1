// One function's recent demand (concurrency, or requests per second): a ring of time
// buckets that activators' samples fall into, read back as the stable- and panic-window
// averages.
//
// Within a bucket, samples are first averaged per source and then summed across
// sources (as Knative's aggregation does): two activators each seeing 3 in-flight
// requests is 6, but one activator whose 1 s samples jitter so that two land in the
// same bucket (3 and 5) is 4, not 8.
//
// Across buckets, a bucket nobody reported into counts as 0, and the average is over
// the window's full width (Knative's TimedFloat64Buckets). This is what makes scale-down
// follow the load: activators report an idle function once as 0 and then stop, so
// after 60 s at concurrency 35 the 60 s stable average reads 35 × 45 / 60 = 26.25
// fifteen seconds later, 17.5 at thirty, 0 at sixty. (Averaging only the buckets that
// held data, as this ring once did, kept it near 34 for the whole minute.)
// Two exceptions, both Knative's:
// - A window that began less than its width ago is averaged over the part that has
//   begun: a function first seen 5 s ago at 10 reads 10, not 10 × 5 / 60. It begins at
//   the first sample after a whole window without any (for the panic window: a whole
//   panic window without any, so a burst after 10 s of quiet panics at once).
// - The bucket `now` falls in is not read while it is empty and the one before it has
//   data: its sample is most likely on its way (activators sample on their own
//   timers), and counting it as 0 would bias every decision down. Once the bucket
//   before is empty too, nobody is reporting, and the current one counts as 0.
// The price: an activator whose timer drifts across a bucket boundary leaves one bucket
// empty now and then, which reads as 0 (1/60 off the stable average, 1/6 off the panic
// average, for a window's length); Knative's scraped buckets have the same gaps.
//
// Time is always passed in; memory is fixed by the window and bucket width.
//
// Cost: the benchmark reads 10,000 windows per tick, so reads must not scan the ring
// (60 buckets × 10,000 is 19 MB of memory per tick). The ring keeps a running sum and
// count of its buckets; a read subtracts the few buckets that have aged out since the
// last write and adds up the panic window's handful.

export interface WindowAverages {
  /** Average total over the stable window (missing buckets are 0); 0 without data. */
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
  /**
   * The first bucket written since the ring last went a whole window without a write
   * (Knative's firstWrite); +Infinity while empty. A window that began after it is
   * averaged over the buckets since, not its full width.
   */
  private first = Infinity;
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
    if (bucket < this.first) this.first = bucket;
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
   * ending at the bucket `now` falls in, or at the one before while the current one is
   * empty and the one before is not (see the top of this file). Buckets stamped after
   * `now` (a skewed activator clock) are not counted yet, and such a read from before
   * the newest sample sees only as far back as the ring still reaches.
   *
   * Written into `out` when given, and returned: the tick passes the same object for
   * every function, so reading 10,000 windows allocates nothing.
   */
  averages(now: number, stableMs: number, panicMs: number, out: WindowAverages = { stable: 0, panic: 0, hasData: false }): WindowAverages {
    const cap = this.capacity;
    const s = this.slots;
    const nowBucket = Math.floor(now / this.bucketMs);
    const previous = nowBucket - 1;
    const current = s[2 * (nowBucket % cap)] !== nowBucket && previous >= 0 && s[2 * (previous % cap)] === previous ? previous : nowBucket;
    const stableBuckets = Math.min(cap, Math.max(1, Math.ceil(stableMs / this.bucketMs)));
    const panicBuckets = Math.min(stableBuckets, Math.max(1, Math.ceil(panicMs / this.bucketMs)));
    if (this.count === 0 || current - this.newest >= stableBuckets || current < this.first) {
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
    // The oldest bucket with data in the panic window.
    let panicOldest = Infinity;
    b = Math.max(0, current - panicBuckets + 1);
    for (let slot = b % cap; b <= current; b++) {
      if (s[2 * slot] === b) {
        panicSum += s[2 * slot + 1]!;
        if (panicOldest === Infinity) panicOldest = b;
      }
      if (++slot === cap) slot = 0;
    }
    // Written here rather than by a shared helper: passing the sums to a call that is
    // not inlined would box each into a new heap number, for every function every tick.
    out.stable = count > 0 ? clean(sum / Math.min(stableBuckets, current - this.first + 1)) : 0;
    out.panic = panicOldest === Infinity ? 0 : clean(panicSum / this.panicWidth(current, panicBuckets, panicOldest));
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
    // The window began where it did, or, if that is further back than this ring
    // reached, where this ring began (as Knative's ResizeWindow does): its older
    // buckets are gone, and counting them as zeros would understate the average.
    if (next.count > 0) next.first = Math.max(this.first, this.newest - this.capacity + 1);
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
    this.first = Infinity;
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
    let panicOldest = Infinity;
    for (let slot = 0; slot < this.capacity; slot++) {
      const bucket = this.slots[2 * slot]!;
      const age = current - bucket;
      if (age < 0 || age >= stableBuckets) continue;
      const total = this.slots[2 * slot + 1]!;
      stableSum += total;
      stableCount++;
      if (age < panicBuckets) {
        panicSum += total;
        if (bucket < panicOldest) panicOldest = bucket;
      }
    }
    out.stable = stableCount > 0 ? clean(stableSum / Math.min(stableBuckets, current - this.first + 1)) : 0;
    out.panic = panicOldest === Infinity ? 0 : clean(panicSum / this.panicWidth(current, panicBuckets, panicOldest));
    out.hasData = stableCount > 0;
    return out;
  }

  /**
   * How many buckets the panic average is over: its full width, unless its oldest data
   * (`oldest`) is the first after a whole panic window without any, in which case the
   * window began there (Knative resets the panic buckets' first write the same way).
   * Buckets older than the ring holds count as without data.
   */
  private panicWidth(current: number, panicBuckets: number, oldest: number): number {
    const cap = this.capacity;
    const stop = Math.max(oldest - panicBuckets + 1, this.newest - cap + 1, this.first);
    for (let b = oldest - 1; b >= stop; b--) if (this.slots[2 * (b % cap)] === b) return panicBuckets;
    return Math.min(panicBuckets, current - oldest + 1);
  }
}

function clean(avg: number): number {
  return avg < NOISE ? 0 : avg;
}
