// Header values for CloudEvents attributes, shared by the HTTP and NATS bindings: both
// specs (§3.1.3.2) require the same percent-encoding of attribute values and the same
// decoding (unquote a quoted-string, then one round of strict UTF-8 percent-decoding).
import { EventFormatError } from './event.js';

/** HTTP-style headers as node gives them, or NATS MsgHdrs (an iterable of name → values). */
export type HeaderSource = Record<string, string | string[] | undefined> | Iterable<[string, string[]]>;

/** Lowercased name → first value. Header names are case-insensitive in HTTP and NATS alike. */
export function headerMap(source: HeaderSource | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (source === undefined) return out;
  const entries: Iterable<[string, string | string[] | undefined]> =
    Symbol.iterator in source ? (source as Iterable<[string, string[]]>) : Object.entries(source);
  for (const [name, value] of entries) {
    const first = Array.isArray(value) ? value[0] : value;
    const key = name.toLowerCase();
    if (first !== undefined && !out.has(key)) out.set(key, first);
  }
  return out;
}

/** Space, `"`, `%` and everything outside printable ASCII, as UTF-8 bytes `%XY`. */
export function encodeHeaderValue(value: string): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    if (code > 0x20 && code < 0x7f && ch !== '"' && ch !== '%') {
      out += ch;
      continue;
    }
    for (const byte of Buffer.from(ch, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reverses encodeHeaderValue; also accepts the older double-quoted form. Invalid UTF-8 is an error. */
export function decodeHeaderValue(name: string, raw: string): string {
  let value = raw.trim();
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    value = value.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  const stray = /%(?![0-9a-fA-F]{2})/.exec(value);
  if (stray) throw new EventFormatError(`header "${name}": bad percent-encoding at "${value.slice(stray.index, stray.index + 3)}"`);
  return value.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => {
    const bytes = Uint8Array.from(run.slice(1).split('%'), (hex) => parseInt(hex, 16));
    try {
      return utf8.decode(bytes);
    } catch (err) {
      throw new EventFormatError(`header "${name}": percent-encoded value is not valid UTF-8`, { cause: err });
    }
  });
}

export const CE_PREFIX = 'ce-';

/** Attributes carried as `ce-<name>` headers, decoded. */
export function ceAttributes(headers: Map<string, string>): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const [name, value] of headers) {
    if (name.startsWith(CE_PREFIX)) attributes[name.slice(CE_PREFIX.length)] = decodeHeaderValue(name, value);
  }
  return attributes;
}
