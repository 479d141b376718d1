// A CloudEvent as kfn carries it: the context attributes the producer set, and the data as
// opaque bytes. Nothing here parses or re-serialises data, fills in an attribute, or
// changes one: what a producer sends is what a function receives (DESIGN.md, "Events
// arrive as they were sent").
//
// Not the `cloudevents` SDK's CloudEvent: its constructor invents `time` and `id` when they
// are missing, parses JSON data (numbers lose digits, whitespace is lost), drops
// object-valued extensions silently and accepts times without an offset.
import { createHash } from 'node:crypto';
import { checkAttribute, checkAttributeName, type AttributeValue } from './attributes.js';

export type { AttributeValue } from './attributes.js';

/** The context attributes: the four the spec requires, and whatever else the producer set. */
export interface Attributes {
  readonly specversion: string;
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly [name: string]: AttributeValue;
}

export interface Event {
  readonly attributes: Attributes;
  /** The data's bytes, exactly as sent; undefined when there are none. */
  readonly data?: Buffer;
}

export const SPEC_VERSION = '1.0';
const REQUIRED = ['specversion', 'id', 'source', 'type'] as const;

/** A message that is not a valid CloudEvent; the message names the attribute and the problem. */
export class EventFormatError extends Error {
  override readonly name = 'EventFormatError';
}

/**
 * Checks attributes against the CloudEvents 1.0.2 constraints and returns the event, or
 * throws an EventFormatError naming the first problem. Required attributes are checked
 * first, so the common mistakes read plainly (`missing required attribute "source"`).
 */
export function makeEvent(attributes: Record<string, AttributeValue>, data?: Buffer): Event {
  for (const name of REQUIRED) {
    if (attributes[name] === undefined || attributes[name] === '') throw new EventFormatError(`missing required attribute "${name}"`);
  }
  if (attributes.specversion !== SPEC_VERSION) {
    throw new EventFormatError(`unsupported specversion "${String(attributes.specversion)}" (want "${SPEC_VERSION}")`);
  }
  for (const [name, value] of Object.entries(attributes)) {
    const badName = checkAttributeName(name);
    if (badName) throw new EventFormatError(badName);
    const bad = checkAttribute(name, value);
    if (bad) throw new EventFormatError(`attribute "${name}" ${bad}`);
  }
  // Checked above: the required ones are non-empty strings.
  const checked = attributes as unknown as Attributes;
  // Empty data is no data: a binary-mode body cannot tell the two apart.
  return data === undefined || data.length === 0 ? { attributes: checked } : { attributes: checked, data };
}

/**
 * The event's identity as a JetStream de-duplication id (Nats-Msg-Id): spec.md, "id":
 * "Consumers MAY assume that Events with identical source and id are duplicates". A hash,
 * so any source and id fit a header of bounded length and cannot collide by concatenation.
 */
export function identityKey(event: Event): string {
  return createHash('sha256').update(event.attributes.source).update('\0').update(event.attributes.id).digest('base64url');
}

/** The media type without parameters, lowercased: `Application/JSON; charset=utf-8` → `application/json`. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * JSON-formatted content (json-format.md §3.1.1): a media type that, stripped of
 * parameters, has the form `*\/json` or `*\/*+json`.
 */
export function isJsonContentType(contentType: string | undefined): boolean {
  const type = mediaType(contentType);
  const subtype = type.slice(type.indexOf('/') + 1);
  return type.includes('/') && (subtype === 'json' || subtype.endsWith('+json'));
}

export type ContentMode = 'binary' | 'structured';

/** Mode by Content-Type, as both bindings define it; batch and non-JSON formats are refused. */
export function contentMode(contentType: string | undefined): ContentMode {
  const type = mediaType(contentType);
  if (type.startsWith('application/cloudevents-batch')) throw new EventFormatError('batch content mode is not supported: send one event per message');
  if (type.startsWith('application/cloudevents')) {
    if (type !== 'application/cloudevents+json') throw new EventFormatError(`unsupported event format "${type}" (only application/cloudevents+json)`);
    return 'structured';
  }
  return 'binary';
}
