// Small builders for test events: ev({ subject: 'x' }, '{"a":1}') is a valid event with
// fixed required attributes and the given data bytes.
import { makeEvent, type AttributeValue, type Event } from '../../../pkg/events/cloudevents/event.js';

export const BASE = {
  specversion: '1.0',
  id: 'evt-1',
  source: '/orders',
  type: 'com.example.order.created',
  time: '2026-11-22T04:00:00.000Z',
} as const;

export function ev(extra: Record<string, AttributeValue> = {}, data?: string | Uint8Array): Event {
  return makeEvent({ ...BASE, ...extra }, data === undefined ? undefined : Buffer.from(data));
}
