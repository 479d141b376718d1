// Trigger filters: does an event's attribute (or extension) match exactly, by prefix or
// by suffix. Every listed condition must hold; an attribute the event lacks never matches.
// Values are compared in their canonical string form (spec.md, "Type System").
import type { AttributeFilter } from '../../apis/trigger/types.js';
import type { Event } from './event.js';

type Test = (value: string, want: string) => boolean;
const TESTS: Array<[keyof AttributeFilter, Test]> = [
  ['exact', (value, want) => value === want],
  ['prefix', (value, want) => value.startsWith(want)],
  ['suffix', (value, want) => value.endsWith(want)],
];

export function matchesFilter(event: Event, filter: AttributeFilter | undefined): boolean {
  if (filter === undefined) return true;
  for (const [kind, test] of TESTS) {
    for (const [name, want] of Object.entries(filter[kind] ?? {})) {
      const value = event.attributes[name];
      if (value === undefined || !test(String(value), want)) return false;
    }
  }
  return true;
}
