// The CloudEvents NATS protocol binding (spec: cloudevents/bindings/nats-protocol-binding.md),
// plus kfn's wrapping of plain NATS messages so a producer that knows nothing of
// CloudEvents can still trigger a function.
import { randomUUID } from 'node:crypto';
import { headers as natsHeaders, type MsgHdrs } from 'nats';
import { attributesOf, bodyContentType, buildEvent, contentMode, decodeData, encodeData, fromStructuredBody, SPEC_VERSION, type Event } from './event.js';
import { CE_PREFIX, ceAttributes, encodeHeaderValue, headerMap } from './headers.js';

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

/**
 * Binary mode: each attribute as a percent-encoded `ce-<name>` header, datacontenttype
 * included (the NATS binding, unlike HTTP, maps it to ce-datacontenttype). It is also
 * written as `content-type` so NATS tools and plain subscribers see the payload's type;
 * except a CloudEvents media type, which would make a receiver read the message as
 * structured mode.
 */
export function toNatsMessage(event: Event): NatsEventMessage {
  const headers = natsHeaders();
  for (const [name, value] of Object.entries(attributesOf(event))) {
    headers.set(`${CE_PREFIX}${name}`, encodeHeaderValue(String(value)));
  }
  const contentType = bodyContentType(event);
  if (contentType !== undefined) {
    headers.set(`${CE_PREFIX}datacontenttype`, encodeHeaderValue(contentType));
    if (!contentType.toLowerCase().startsWith('application/cloudevents')) headers.set('content-type', contentType);
  }
  return { headers, data: encodeData(event) };
}

/**
 * A CloudEvent from a NATS message: structured when Content-Type is
 * application/cloudevents+json, binary when any `ce-` header is present, else a plain
 * message wrapped as:
 *
 * - type `dev.kfn.nats.message`: one fixed type, because the subject already has its own
 *   attribute and a type per subject would only duplicate it;
 * - source `nats:<subject>`: a URI naming where it was published (not `nats://`, which
 *   would read as a server host);
 * - subject: the NATS subject, so trigger filters can match on it;
 * - id: the `Nats-Msg-Id` header (the producer's own de-duplication id, stable across
 *   redeliveries) or a new UUID;
 * - datacontenttype: the message's `content-type` header, else application/octet-stream.
 *   No sniffing for JSON: a payload that looks like JSON is still delivered byte for
 *   byte, where parsing and re-serialising could change numbers and spacing.
 */
export function fromNatsMessage(subject: string, headers: MsgHdrs | undefined, data: Uint8Array): Event {
  const map = headerMap(headers);
  const contentType = map.get('content-type');
  if (contentMode(contentType) === 'structured') {
    const structured = fromStructuredBody(data);
    return buildEvent(structured.attributes, structured.data);
  }
  if ([...map.keys()].some((name) => name.startsWith(CE_PREFIX))) {
    const attributes = ceAttributes(map);
    if (attributes.datacontenttype === undefined && contentType !== undefined) attributes.datacontenttype = contentType;
    const dataType = typeof attributes.datacontenttype === 'string' ? attributes.datacontenttype : undefined;
    return buildEvent(attributes, decodeData(data, dataType));
  }
  const dataType = contentType ?? PLAIN_CONTENT_TYPE;
  return buildEvent(
    {
      specversion: SPEC_VERSION,
      id: map.get(NATS_MSG_ID.toLowerCase()) || randomUUID(),
      source: `nats:${subject}`,
      type: PLAIN_MESSAGE_TYPE,
      subject,
      datacontenttype: dataType,
    },
    decodeData(data, dataType),
  );
}

/** The JetStream de-duplication id for publishing an event: its CloudEvent id. */
export function msgIdFor(event: Event): string {
  return event.id;
}
