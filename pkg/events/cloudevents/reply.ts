// The event published to a Trigger's reply subject when the function answers 2xx with a
// body. A function that answers with a CloudEvent of its own (binary `ce-` headers or
// structured JSON) chooses its attributes; whatever it leaves out is derived from the
// request, so a plain `return { ok: true }` still becomes a well-formed event.
import { randomUUID } from 'node:crypto';
import type { AttributeValue } from './attributes.js';
import { makeEvent, SPEC_VERSION, type Event } from './event.js';
import { decodeHttp } from './http.js';
import type { HeaderSource } from './headers.js';

/** Extension on a reply holding the id of the event that caused it. */
export const PARENT_ID_EXTENSION = 'kfnparentid';
/** Appended to the request's type when the function names no type: `order.created` → `order.created.reply`. */
export const REPLY_TYPE_SUFFIX = '.reply';

export interface FunctionResponse {
  status: number;
  headers: HeaderSource;
  body: Buffer;
}

/** The CloudEvents source of a function's replies. */
export function functionSource(namespace: string, name: string): string {
  return `/apis/kfn.dev/v1alpha1/namespaces/${namespace}/functions/${name}`;
}

/**
 * The reply event, or undefined when the response is not 2xx or has no body. Missing specversion, id
 * (new UUID), source (`source`, the function) and type (`<request type>.reply`) are
 * filled in; `kfnparentid` links to the request unless the function set it. Data keeps
 * the response's Content-Type and its bytes as they are. Throws
 * EventFormatError when the function's own event is malformed (bad specversion,
 * invalid structured JSON, invalid attribute names).
 */
export function replyEvent(request: Event, response: FunctionResponse, source: string): Event | undefined {
  if (response.status < 200 || response.status >= 300 || response.body.length === 0) return undefined;
  const { attributes, data } = decodeHttp(response.headers, response.body);
  const filled: Record<string, AttributeValue> = {
    specversion: SPEC_VERSION,
    id: randomUUID(),
    source,
    type: `${request.attributes.type}${REPLY_TYPE_SUFFIX}`,
    [PARENT_ID_EXTENSION]: request.attributes.id,
  };
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== '') filled[name] = value;
  }
  return makeEvent(filled, data);
}
