// CloudEvents on NATS: binary mode with `ce-` headers (the NATS protocol binding as of
// 1.0.3, which added headers), structured mode (the only mode of binding 1.0.2, and what
// the Go SDK sends: a JSON event as the payload, with or without a content-type header),
// and kfn's wrapping of plain NATS messages so a producer that knows nothing of
// CloudEvents can still trigger a function.
import { headers as natsHeaders, type MsgHdrs } from 'nats';
import type { AttributeValue } from './attributes.js';
import { contentMode, identityKey, makeEvent, SPEC_VERSION, type Event } from './event.js';
import { CE_PREFIX, ceAttributes, encodeHeaderValue, headerMap } from './headers.js';
import { decodeStructured, fromStructured, type DecodedStructured } from './structured.js';

/** The type of an event wrapped around a plain NATS message. */
export const PLAIN_MESSAGE_TYPE = 'dev.kfn.nats.message';
/** Content type of a plain message that declares none: its bytes are passed on untouched. */
export const PLAIN_CONTENT_TYPE = 'application/octet-stream';
/** JetStream's de-duplication header. */
export const NATS_MSG_ID = 'Nats-Msg-Id';

export interface NatsEventMessage {
  headers: MsgHdrs;
  data: Uint8Array;
}

/** A message as JetStream stored it: where it sits gives a plain message its id. */
export interface StoredNatsMessage {
  subject: string;
  headers: MsgHdrs | undefined;
  data: Uint8Array;
  stream: string;
  seq: number;
}

/**
 * Binary mode: each attribute as a percent-encoded `ce-<name>` header, datacontenttype
 * included (the NATS binding, unlike HTTP, maps it to ce-datacontenttype). It is also
 * written as `content-type` so NATS tools and plain subscribers see the payload's type;
 * except a CloudEvents media type, which would make a receiver read the message as
 * structured mode.
 */
export function toNatsMessage(event: Event): NatsEventMessage {
  const headers = natsHeaders();
  for (const [name, value] of Object.entries(ceHeaders(event))) headers.set(name, value);
  const contentType = event.attributes.datacontenttype;
  if (typeof contentType === 'string' && !contentType.toLowerCase().startsWith('application/cloudevents')) headers.set('content-type', contentType);
  return { headers, data: event.data ?? new Uint8Array(0) };
}

function ceHeaders(event: Event): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.attributes)) out[`${CE_PREFIX}${name}`] = encodeHeaderValue(String(value));
  return out;
}

/**
 * A CloudEvent from a stored NATS message:
 *
 * - structured when its content-type is application/cloudevents+json;
 * - binary when any `ce-` header is present;
 * - structured when it has neither a `ce-` header nor a content-type and its payload is a
 *   JSON object with a valid specversion, id, source and type (binding 1.0.2's only mode);
 * - otherwise a plain message, wrapped (see plainEvent).
 */
export function fromNatsMessage(msg: StoredNatsMessage): Event {
  const map = headerMap(msg.headers);
  const mode = natsContentMode(map, msg.data);
  switch (mode.kind) {
    case 'structured':
      return mode.decoded ? makeEvent(mode.decoded.attributes, mode.decoded.data) : fromStructured(msg.data);
    case 'binary': {
      const attributes: Record<string, AttributeValue> = ceAttributes(map);
      const contentType = map.get('content-type');
      if (attributes.datacontenttype === undefined && contentType !== undefined) attributes.datacontenttype = contentType;
      return makeEvent(attributes, msg.data.length === 0 ? undefined : Buffer.from(msg.data));
    }
    case 'plain':
      return plainEvent(msg, map);
  }
}

/** How a message carries its event; a header-less structured one comes decoded, having been read to tell. */
type NatsContentMode = { kind: 'structured'; decoded?: DecodedStructured } | { kind: 'binary' } | { kind: 'plain' };

function natsContentMode(map: Map<string, string>, data: Uint8Array): NatsContentMode {
  const contentType = map.get('content-type');
  if (contentMode(contentType) === 'structured') return { kind: 'structured' };
  if ([...map.keys()].some((name) => name.startsWith(CE_PREFIX))) return { kind: 'binary' };
  const decoded = contentType === undefined ? headerlessStructured(data) : undefined;
  return decoded ? { kind: 'structured', decoded } : { kind: 'plain' };
}

/**
 * A plain message as an event:
 *
 * - type `dev.kfn.nats.message`: one fixed type, because the subject already has its own
 *   attribute and a type per subject would only duplicate it;
 * - source `nats:<subject>`: a URI naming where it was published (not `nats://`, which
 *   would read as a server host);
 * - subject: the NATS subject, so trigger filters can match on it;
 * - id: the producer's `Nats-Msg-Id`, else `<stream>-<sequence>`: the same on every
 *   delivery attempt, since it names where JetStream keeps the message;
 * - datacontenttype: the message's `content-type` header, else application/octet-stream;
 * - no time: kfn does not know when the occurrence happened.
 *
 * The payload is the data, byte for byte, whatever the content type claims.
 */
function plainEvent(msg: StoredNatsMessage, map: Map<string, string>): Event {
  const contentType = map.get('content-type');
  return makeEvent(
    {
      specversion: SPEC_VERSION,
      id: map.get(NATS_MSG_ID.toLowerCase()) || `${msg.stream}-${msg.seq}`,
      source: `nats:${msg.subject}`,
      type: PLAIN_MESSAGE_TYPE,
      subject: msg.subject,
      datacontenttype: contentType === undefined || contentType === '' ? PLAIN_CONTENT_TYPE : contentType,
    },
    msg.data.length === 0 ? undefined : Buffer.from(msg.data),
  );
}

/** A JSON object payload carrying the four required attributes, valid: a structured event. */
function headerlessStructured(data: Uint8Array): DecodedStructured | undefined {
  let i = 0;
  while (i < data.length && (data[i] === 0x20 || data[i] === 0x09 || data[i] === 0x0a || data[i] === 0x0d)) i++;
  if (data[i] !== 0x7b) return undefined; // {
  let decoded: DecodedStructured;
  try {
    decoded = decodeStructured(data);
  } catch {
    return undefined;
  }
  const { specversion, id, source, type } = decoded.attributes;
  if (specversion !== SPEC_VERSION) return undefined;
  return [id, source, type].every((v) => typeof v === 'string' && v !== '') ? decoded : undefined;
}

/**
 * The `ce-` headers a wrapped plain message needs to keep its identity when kfn
 * republishes it (as a dead letter, then a redrive): its id names where the original was
 * stored, which the copy is not. Empty for events that carry their attributes already.
 */
export function wrappedEventHeaders(msg: Pick<StoredNatsMessage, 'headers' | 'data'>, event: Event): Record<string, string> {
  return natsContentMode(headerMap(msg.headers), msg.data).kind === 'plain' ? ceHeaders(event) : {};
}

/** The JetStream de-duplication id for publishing an event: its identity, source + id. */
export function msgIdFor(event: Event): string {
  return identityKey(event);
}
