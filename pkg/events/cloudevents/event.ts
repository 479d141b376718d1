// Building and reading CloudEvents independent of the wire: validation with errors that
// name the problem, the "JSON is parsed, everything else stays bytes" data rule, and the
// data → bytes rule the bindings share.
import { CloudEvent, ValidationError } from 'cloudevents';

export type Event = CloudEvent<unknown>;

export const SPEC_VERSION = '1.0';
const REQUIRED = ['specversion', 'id', 'source', 'type'] as const;
/** Attribute names (and so extension names) are lowercase ASCII letters and digits. */
const ATTRIBUTE_NAME = /^[a-z0-9]+$/;
/** Fields of the SDK's CloudEvent object that are not context attributes. */
const NOT_ATTRIBUTES = new Set(['data', 'data_base64']);

/** A message that is not a valid CloudEvent; the message says what is wrong. */
export class EventFormatError extends Error {
  override readonly name = 'EventFormatError';
}

/**
 * Validates decoded attributes and data and builds the event. Our own checks run first
 * so the common mistakes get a plain message (`missing required attribute "source"`)
 * rather than the SDK's schema dump; the SDK's strict validation catches the rest.
 */
export function buildEvent(attributes: Record<string, unknown>, data: unknown): Event {
  for (const name of REQUIRED) {
    const value = attributes[name];
    if (value === undefined || value === null || value === '') throw new EventFormatError(`missing required attribute "${name}"`);
    if (typeof value !== 'string') throw new EventFormatError(`attribute "${name}" must be a string, got ${typeof value}`);
  }
  if (attributes.specversion !== SPEC_VERSION) {
    throw new EventFormatError(`unsupported specversion "${String(attributes.specversion)}" (want "${SPEC_VERSION}")`);
  }
  for (const name of Object.keys(attributes)) {
    if (!ATTRIBUTE_NAME.test(name)) throw new EventFormatError(`invalid attribute name "${name}": only lowercase letters and digits are allowed`);
  }
  const fields: Record<string, unknown> = { ...attributes };
  if (data !== undefined && data !== null) fields.data = data;
  try {
    return new CloudEvent<unknown>(fields, true);
  } catch (err) {
    if (err instanceof ValidationError || err instanceof TypeError) {
      throw new EventFormatError(`invalid CloudEvent: ${describeValidation(err)}`, { cause: err });
    }
    throw err;
  }
}

function describeValidation(err: Error): string {
  const errors = err instanceof ValidationError ? err.errors : undefined;
  if (!errors || errors.length === 0) return err.message.split('\n')[0] ?? err.message;
  return errors.map((e) => (typeof e === 'string' ? e : `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`)).join('; ');
}

/** The context attributes of an event (required, optional and extensions), without data. */
export function attributesOf(event: Event): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [name, value] of Object.entries(event)) {
    if (NOT_ATTRIBUTES.has(name)) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[name] = value;
  }
  return out;
}

/** The media type without parameters, lowercased: `Application/JSON; charset=utf-8` → `application/json`. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** `application/json`, `text/json` and any `+json` suffix type. */
export function isJsonContentType(contentType: string | undefined): boolean {
  const type = mediaType(contentType);
  return type === 'application/json' || type === 'text/json' || type.endsWith('+json');
}

/**
 * Data as it arrived in a binary-mode body: parsed when the content type is JSON, else
 * the bytes themselves, so non-JSON payloads (images, protobuf, text) pass through
 * unchanged. An empty body is no data.
 */
export function decodeData(body: Uint8Array, contentType: string | undefined): unknown {
  if (body.length === 0) return undefined;
  const bytes = Buffer.from(body);
  if (!isJsonContentType(contentType)) return bytes;
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (err) {
    throw new EventFormatError(`data is not valid JSON for datacontenttype "${contentType ?? ''}": ${(err as Error).message}`, { cause: err });
  }
}

/**
 * The bytes of an event's data for a binary-mode body: bytes as they are, a string as
 * UTF-8 unless the content type is JSON (then it is a JSON string value), anything else
 * as JSON.
 */
export function encodeData(event: Event): Buffer {
  const data = event.data;
  if (data === undefined || data === null) return Buffer.alloc(0);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (typeof data === 'string' && !isJsonContentType(event.datacontenttype)) return Buffer.from(data, 'utf8');
  return Buffer.from(JSON.stringify(data), 'utf8');
}

/** The content type a binary-mode body carries: datacontenttype, or JSON for structured data with none. */
export function bodyContentType(event: Event): string | undefined {
  if (event.datacontenttype) return event.datacontenttype;
  const data = event.data;
  if (data === undefined || data === null || ArrayBuffer.isView(data) || typeof data === 'string') return undefined;
  return 'application/json';
}

/**
 * Reads a structured-mode JSON event format body (application/cloudevents+json).
 * `data_base64` becomes bytes, so binary data survives a structured hop too.
 */
export function fromStructuredBody(body: Uint8Array): { attributes: Record<string, unknown>; data: unknown } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch (err) {
    throw new EventFormatError(`structured event is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new EventFormatError(`structured event must be a JSON object, got ${Array.isArray(parsed) ? 'an array' : typeof parsed}`);
  }
  const { data, data_base64: base64, ...attributes } = parsed as Record<string, unknown>;
  if (base64 !== undefined) {
    if (data !== undefined) throw new EventFormatError('structured event has both "data" and "data_base64"');
    if (typeof base64 !== 'string') throw new EventFormatError('"data_base64" must be a string');
    return { attributes, data: Buffer.from(base64, 'base64') };
  }
  return { attributes, data };
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
