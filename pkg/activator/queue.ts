// A FIFO of waiting requests bounded in count and in buffered bytes. Removal from the
// middle (a client that disconnected) is O(1): the entry's slot is emptied and skipped
// later. Slots, not entries, sit in the array, so an entry can leave and join again (a
// retried request) without a stale copy of it coming back to life.

export interface QueueSlot {
  entry: QueueEntry | undefined;
}

export interface QueueEntry {
  /** Body bytes held in memory for this entry; counted against the byte bound. */
  bytes: number;
  /** Set while the entry is in a queue. */
  queueSlot: QueueSlot | undefined;
}

export class WaitQueue<T extends QueueEntry> {
  private slots: (QueueSlot | undefined)[] = [];
  private head = 0;
  private liveCount = 0;
  private liveBytes = 0;

  constructor(
    readonly maxCount: number,
    readonly maxBytes: number,
  ) {}

  get count(): number {
    return this.liveCount;
  }

  get bytes(): number {
    return this.liveBytes;
  }

  /** Whether an entry of `bytes` would fit. */
  fits(bytes: number): boolean {
    return this.liveCount < this.maxCount && this.liveBytes + bytes <= this.maxBytes;
  }

  /** Appends `entry` if it fits; returns whether it did. */
  push(entry: T): boolean {
    if (entry.queueSlot || !this.fits(entry.bytes)) return false;
    const slot: QueueSlot = { entry };
    entry.queueSlot = slot;
    this.slots.push(slot);
    this.liveCount++;
    this.liveBytes += entry.bytes;
    return true;
  }

  /** Counts `n` more bytes for an entry; false (and nothing counted) past the byte bound. */
  grow(entry: T, n: number): boolean {
    if (!entry.queueSlot) {
      entry.bytes += n;
      return true;
    }
    if (this.liveBytes + n > this.maxBytes) return false;
    entry.bytes += n;
    this.liveBytes += n;
    return true;
  }

  peek(): T | undefined {
    this.skipEmpty();
    return this.slots[this.head]?.entry as T | undefined;
  }

  shift(): T | undefined {
    const entry = this.peek();
    if (entry) this.remove(entry);
    return entry;
  }

  remove(entry: T): void {
    const slot = entry.queueSlot;
    if (!slot) return;
    slot.entry = undefined;
    entry.queueSlot = undefined;
    this.liveCount--;
    this.liveBytes -= entry.bytes;
    if (this.liveCount === 0) {
      this.slots = [];
      this.head = 0;
    }
  }

  /** Empties the queue, returning the entries oldest first. */
  drain(): T[] {
    const out: T[] = [];
    for (let e = this.shift(); e; e = this.shift()) out.push(e);
    return out;
  }

  private skipEmpty(): void {
    while (this.head < this.slots.length && this.slots[this.head]?.entry === undefined) {
      this.slots[this.head++] = undefined;
    }
    if (this.head > 1024 && this.head * 2 > this.slots.length) {
      this.slots = this.slots.slice(this.head);
      this.head = 0;
    }
  }
}
