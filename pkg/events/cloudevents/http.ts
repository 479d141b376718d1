// The CloudEvents HTTP protocol binding (cloudevents/bindings/http-protocol-binding.md,
// 1.0.2). We always send binary mode, so the function sees the data as the body, byte for
// byte; we accept binary and structured JSON, and refuse batch mode.
import type { AttributeValue } from './attributes.js';
import { contentMode, makeEvent, type Event } from './event.js';
import { ceAttributes, encodeHeaderValue, headerMap, type HeaderSource } from './headers.js';
import { decodeStructured } from './structured.js';

export { EventFormatError } from './event.js';

export interface HttpEventMessage {
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Binary mode: every attribute but datacontenttype as a percent-encoded `ce-` header,
 * datacontenttype as Content-Type (§3.1.1: never also as ce-datacontenttype), the data
 * as the body (§3.1.2).
 */
export function toHttpBinary(event: Event): HttpEventMessage {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.attributes)) {
    if (name === 'datacontenttype') headers['content-type'] = String(value);
    else headers[`ce-${name}`] = encodeHeaderValue(String(value));
  }
  return { headers, body: event.data ?? Buffer.alloc(0) };
}

/** Decoded but not yet validated: replies fill in what a function left out before validating. */
export function decodeHttp(headers: HeaderSource, body: Buffer): { attributes: Record<string, AttributeValue>; data?: Buffer } {
  const map = headerMap(headers);
  const contentType = map.get('content-type');
  if (contentMode(contentType) === 'structured') return decodeStructured(body);
  const attributes: Record<string, AttributeValue> = ceAttributes(map);
  // ce-datacontenttype is not allowed in HTTP binary mode; tolerated only without a Content-Type.
  if (contentType !== undefined) attributes.datacontenttype = contentType;
  return body.length === 0 ? { attributes } : { attributes, data: body };
}

/** A CloudEvent from an HTTP request or response, or an EventFormatError naming the problem. */
export function fromHttp(headers: HeaderSource, body: Buffer): Event {
  const { attributes, data } = decodeHttp(headers, body);
  return makeEvent(attributes, data);
}
