// Delivery order for a Trigger's orderingKey: events with the same key go one at a
// time, in arrival order; different keys do not wait for each other. Events without a
// key bypass the gate. Pure bookkeeping; the dispatcher starts and finishes deliveries.
import type { Event } from '../cloudevents/event.js';

/** The event's ordering key: the value of the named extension, or undefined when absent. */
export function orderingKeyOf(event: Event, extension: string | undefined): string | undefined {
  if (extension === undefined) return undefined;
  const value = event.attributes[extension];
  return value === undefined ? undefined : String(value);
}

interface Lane {
  inFlight: string;
  waiting: string[];
}

export class OrderingGate {
  private readonly lanes = new Map<string, Lane>();

  /**
   * True when `id` may start now: nothing holds `key`, or `id` itself does (the
   * redelivery of an attempt that was nak'd: a nak keeps the key, so later events of
   * the key cannot overtake the retry). Otherwise `id` is queued behind the key's
   * earlier events and false is returned; finish() hands it out later. An id already
   * queued (a JetStream redelivery) is not queued twice.
   */
  tryStart(key: string, id: string): boolean {
    const lane = this.lanes.get(key);
    if (lane === undefined) {
      this.lanes.set(key, { inFlight: id, waiting: [] });
      return true;
    }
    if (lane.inFlight === id) return true;
    if (!lane.waiting.includes(id)) lane.waiting.push(id);
    return false;
  }

  /**
   * Ends `id`'s delivery for good (acked or dead-lettered; not on a nak) and returns the
   * next id for `key`, which is now in flight and must be started by the caller, or
   * undefined when the key has nothing waiting. Finishing an id that is not in flight
   * changes nothing, so a late duplicate cannot let two events of a key overlap.
   */
  finish(key: string, id: string): string | undefined {
    const lane = this.lanes.get(key);
    if (lane === undefined || lane.inFlight !== id) return undefined;
    const next = lane.waiting.shift();
    if (next === undefined) {
      this.lanes.delete(key);
      return undefined;
    }
    lane.inFlight = next;
    return next;
  }

  /** The id in flight for `key`, if any. */
  inFlight(key: string): string | undefined {
    return this.lanes.get(key)?.inFlight;
  }

  /** Ids queued behind the one in flight for `key`, oldest first. */
  waiting(key: string): readonly string[] {
    return this.lanes.get(key)?.waiting ?? [];
  }

  /** Keys with an event in flight. */
  get activeKeys(): number {
    return this.lanes.size;
  }
}
