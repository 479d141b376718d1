// The JSON event format (cloudevents/formats/json-format.md, 1.0.2) read without
// rewriting the data: attributes are decoded by the type-system mapping (§2.2), and the
// `data` member is kept as the exact text the producer wrote (§3.1.2: JSON-formatted data
// "MUST be treated directly as a JSON value"), so numbers keep every digit and whitespace
// stays. `data_base64` becomes its bytes.
import { createScanner, SyntaxKind } from 'jsonc-parser';
import type { AttributeValue } from './attributes.js';
import { EventFormatError, isJsonContentType, makeEvent, type Event } from './event.js';

export interface DecodedStructured {
  attributes: Record<string, AttributeValue>;
  data?: Buffer;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** json-format.md §2.2: Integer is "only the integer component optionally prefixed with a minus sign". */
const INTEGER_TEXT = /^-?(?:0|[1-9][0-9]*)$/;

/** A structured-mode message body as an event, or an EventFormatError naming the problem. */
export function fromStructured(body: Uint8Array): Event {
  const { attributes, data } = decodeStructured(body);
  return makeEvent(attributes, data);
}

/** Decoded but not yet validated: replies fill in what a function left out first. */
export function decodeStructured(body: Uint8Array): DecodedStructured {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch (err) {
    throw new EventFormatError('structured event is not valid UTF-8 (RFC 8259 §8.1)', { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new EventFormatError(`structured event is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new EventFormatError(`structured event must be a JSON object, got ${Array.isArray(parsed) ? 'an array' : parsed === null ? 'null' : typeof parsed}`);
  }
  const attributes: Record<string, AttributeValue> = {};
  let data: string | undefined;
  let base64: string | undefined;
  for (const { name, text: raw } of topLevelMembers(text)) {
    if (name === 'data') data = raw;
    else if (name === 'data_base64') base64 = raw;
    else {
      const value = attributeValue(name, raw);
      if (value !== undefined) attributes[name] = value;
    }
  }
  if (data !== undefined && base64 !== undefined) throw new EventFormatError('structured event has both "data" and "data_base64" (json-format.md §3.1.1: they are mutually exclusive)');
  if (base64 !== undefined) return withData(attributes, decodeBase64(base64));
  if (data === undefined) return { attributes };
  const contentType = typeof attributes.datacontenttype === 'string' ? attributes.datacontenttype : undefined;
  if (contentType === undefined) {
    // §3.1.2: with no datacontenttype the data is JSON; re-serialised in another binding,
    // "the datacontenttype in the re-serialized event SHOULD be set explicitly to the
    // implied application/json".
    attributes.datacontenttype = 'application/json';
    return withData(attributes, Buffer.from(data, 'utf8'));
  }
  if (isJsonContentType(contentType)) return withData(attributes, Buffer.from(data, 'utf8'));
  // §3.1.2: not JSON-formatted, so data "SHOULD be treated as an encoded content string";
  // an implementation "MAY fail to deserialize the event if the data member is not a string".
  const value = JSON.parse(data) as unknown;
  if (value === null) return { attributes };
  if (typeof value !== 'string') {
    throw new EventFormatError(`"data" must be a JSON string when datacontenttype "${contentType}" is not JSON; send bytes as "data_base64"`);
  }
  return withData(attributes, Buffer.from(value, 'utf8'));
}

function withData(attributes: Record<string, AttributeValue>, data: Buffer): DecodedStructured {
  return { attributes, data };
}

/** One attribute by the type-system mapping; undefined for `null`, which means unset (§2.2). */
function attributeValue(name: string, raw: string): AttributeValue | undefined {
  const value = JSON.parse(raw) as unknown;
  if (value === null) return undefined;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!INTEGER_TEXT.test(raw)) throw new EventFormatError(`attribute "${name}" must be a string, boolean or Integer (digits with an optional minus sign), got ${raw}`);
    return value;
  }
  throw new EventFormatError(`attribute "${name}" must be a string, boolean or Integer, got ${Array.isArray(value) ? 'an array' : 'an object'}`);
}

/** RFC 4648 §4 base64 with padding; Buffer.from(…, 'base64') alone would skip any junk. */
function decodeBase64(raw: string): Buffer {
  const value = JSON.parse(raw) as unknown;
  if (typeof value !== 'string' || value.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
    throw new EventFormatError('"data_base64" must be a string of RFC 4648 base64 with padding');
  }
  return Buffer.from(value, 'base64');
}

/**
 * The members of the top-level object with the exact text of each value, in order. Runs
 * on text JSON.parse accepted, so only the structure is tracked: a flat token scan, with
 * no recursion however deeply the data nests.
 */
function topLevelMembers(text: string): Array<{ name: string; text: string }> {
  const scanner = createScanner(text, true);
  const out: Array<{ name: string; text: string }> = [];
  const seen = new Set<string>();
  scanner.scan(); // {
  for (let kind = scanner.scan(); kind !== SyntaxKind.CloseBraceToken && kind !== SyntaxKind.EOF; kind = scanner.scan()) {
    if (kind === SyntaxKind.CommaToken) continue;
    const name = scanner.getTokenValue();
    if (seen.has(name)) throw new EventFormatError(`structured event has the member "${name}" twice`);
    seen.add(name);
    scanner.scan(); // :
    scanner.scan();
    const start = scanner.getTokenOffset();
    let depth = 0;
    for (;;) {
      const token = scanner.getToken();
      if (token === SyntaxKind.OpenBraceToken || token === SyntaxKind.OpenBracketToken) depth++;
      else if (token === SyntaxKind.CloseBraceToken || token === SyntaxKind.CloseBracketToken) depth--;
      if (depth === 0) break;
      scanner.scan();
    }
    out.push({ name, text: text.slice(start, scanner.getTokenOffset() + scanner.getTokenLength()) });
  }
  return out;
}
