// Delivery order for a Trigger's orderingKey: events with the same key go one at a
// time, in stream order; different keys do not wait for each other. The dispatcher
// keeps the order (TriggerRunner: a KeyedQueue per trigger, retries in place); this is
// where an event's key comes from.
import type { Event } from '../cloudevents/event.js';

/** The event's ordering key: the value of the named extension, or undefined when absent. */
export function orderingKeyOf(event: Event, extension: string | undefined): string | undefined {
  if (extension === undefined) return undefined;
  const value = event.attributes[extension];
  return value === undefined ? undefined : String(value);
}
