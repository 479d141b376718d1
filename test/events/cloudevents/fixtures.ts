// Small builders for test events: ev({ data: … }) is a valid event with fixed attributes.
import { CloudEvent } from 'cloudevents';
import type { Event } from '../../../pkg/events/cloudevents/event.js';

export const BASE = {
  specversion: '1.0',
  id: 'evt-1',
  source: '/orders',
  type: 'com.example.order.created',
  time: '2026-11-22T04:00:00.000Z',
} as const;

export function ev(extra: Record<string, unknown> = {}): Event {
  return new CloudEvent<unknown>({ ...BASE, ...extra });
}

/** The event as plain attributes + data, for deepEqual across SDK instances. */
export function plain(event: Event): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(event)) {
    if (v === undefined || k === 'data_base64') continue;
    out[k] = ArrayBuffer.isView(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex') : v;
  }
  return out;
}
