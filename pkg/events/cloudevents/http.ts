// The CloudEvents HTTP protocol binding (spec: cloudevents/bindings/http-protocol-binding.md).
// We always send binary mode, so the function sees its payload as the body; we accept
// binary and structured JSON, and refuse batch mode.
import { attributesOf, bodyContentType, buildEvent, contentMode, decodeData, encodeData, fromStructuredBody, type Event } from './event.js';
import { ceAttributes, encodeHeaderValue, headerMap, type HeaderSource } from './headers.js';

export { EventFormatError } from './event.js';

export interface HttpEventMessage {
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Binary mode: every attribute but datacontenttype as a percent-encoded `ce-` header,
 * datacontenttype as Content-Type (§3.1.1: never also as ce-datacontenttype), data as
 * the body.
 */
export function toHttpBinary(event: Event): HttpEventMessage {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(attributesOf(event))) {
    if (name === 'datacontenttype') continue;
    headers[`ce-${name}`] = encodeHeaderValue(String(value));
  }
  const contentType = bodyContentType(event);
  if (contentType !== undefined) headers['content-type'] = contentType;
  return { headers, body: encodeData(event) };
}

/** Decoded but not yet validated: replies fill in what a function left out before validating. */
export function decodeHttp(headers: HeaderSource, body: Buffer): { attributes: Record<string, unknown>; data: unknown } {
  const map = headerMap(headers);
  const contentType = map.get('content-type');
  if (contentMode(contentType) === 'structured') return fromStructuredBody(body);
  const attributes = ceAttributes(map);
  // ce-datacontenttype is not allowed in HTTP binary mode; tolerate it only without a Content-Type.
  if (contentType !== undefined) attributes.datacontenttype = contentType;
  const dataType = typeof attributes.datacontenttype === 'string' ? attributes.datacontenttype : undefined;
  return { attributes, data: decodeData(body, dataType) };
}

/** A CloudEvent from an HTTP request or response, or an EventFormatError naming the problem. */
export function fromHttp(headers: HeaderSource, body: Buffer): Event {
  const { attributes, data } = decodeHttp(headers, body);
  return buildEvent(attributes, data);
}
