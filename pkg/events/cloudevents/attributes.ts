// The CloudEvents 1.0.2 type system (spec.md, "Type System") and the attribute constraints
// of "REQUIRED Attributes" and "OPTIONAL Attributes", as pure checks. Each returns the
// problem in words a producer can act on, or undefined when the value is valid. The
// value types a format may carry are String, Integer and Boolean; every other type is a
// string in a particular shape.

/** A context attribute's value: String (and the string-encoded types), Integer or Boolean. */
export type AttributeValue = string | number | boolean;

/** "lower-case letters ('a' to 'z') or digits ('0' to '9') from the ASCII character set". */
const ATTRIBUTE_NAME = /^[a-z0-9]+$/;

/**
 * Characters a String must not hold: the control characters U+0000–U+001F and
 * U+007F–U+009F (General_Category Cc), unpaired surrogates (in /u mode a lone surrogate is
 * its own code point, of category Cs) and Unicode noncharacters.
 */
const DISALLOWED_CHAR = /[\p{Cc}\p{Cs}\p{Noncharacter_Code_Point}]/u;

/** Integer: "-2,147,483,648 to +2,147,483,647 inclusive". */
export const INTEGER_MIN = -(2 ** 31);
export const INTEGER_MAX = 2 ** 31 - 1;

/**
 * RFC 3339 §5.6 date-time: full-date "T" full-time, where the offset is "Z" or ±hh:mm and
 * is required. "T" and "Z" may be lower case (the NOTE in §5.6).
 */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/**
 * RFC 2045 §5.1 token: printable US-ASCII but SPACE and tspecials
 * ( ) < > @ , ; : \ " / [ ] ? =. RFC 2046 media types are type "/" subtype *(";" parameter).
 */
const TOKEN = "[!#$%&'*+\\-.0-9A-Z^_`a-z{|}~]+";
/** RFC 9110 §5.6.4 quoted-string: qdtext and backslash-escaped pairs between double quotes. */
const QUOTED_STRING = String.raw`"(?:[\t !#-\[\]-~]|\\[\t -~])*"`;
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}(?:[ \\t]*;[ \\t]*(?:${TOKEN}=(?:${TOKEN}|${QUOTED_STRING}))?)*[ \\t]*$`);

/**
 * RFC 3986 §2: a URI is made of unreserved and reserved characters and percent-encoded
 * octets, nothing else (no space, no non-ASCII: an IRI is not a URI).
 */
const URI_CHARS = /^(?:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$/;
/** RFC 3986 §3.1 scheme, then ":". */
const SCHEME = /^[A-Za-z][A-Za-z0-9+\-.]*:/;

export function checkAttributeName(name: string): string | undefined {
  if (ATTRIBUTE_NAME.test(name)) return undefined;
  return `invalid attribute name "${name}": only lowercase ASCII letters and digits are allowed`;
}

export function checkString(value: string): string | undefined {
  const bad = DISALLOWED_CHAR.exec(value);
  if (!bad) return undefined;
  const code = bad[0].codePointAt(0) ?? 0;
  return `holds U+${code.toString(16).toUpperCase().padStart(4, '0')}, which a CloudEvents String must not (control characters, unpaired surrogates and noncharacters)`;
}

export function checkTimestamp(value: string): string | undefined {
  const m = DATE_TIME.exec(value);
  const want = 'an RFC 3339 date-time with an offset, e.g. 2026-12-03T12:00:00Z or 2026-12-03T13:00:00+01:00';
  if (!m) return `must be ${want}, got "${value}"`;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const offsetHour = m[9] === undefined ? 0 : Number(m[9]);
  const offsetMinute = m[10] === undefined ? 0 : Number(m[10]);
  const ok =
    month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month) &&
    hour <= 23 && minute <= 59 && second <= 60 && // 60: a leap second (RFC 3339 §5.7)
    offsetHour <= 23 && offsetMinute <= 59;
  return ok ? undefined : `must be ${want} (a field is out of range), got "${value}"`;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

export function checkMediaType(value: string): string | undefined {
  if (MEDIA_TYPE.test(value)) return undefined;
  return `must be an RFC 2046 media type such as "application/json" or "text/plain; charset=utf-8", got "${value}"`;
}

/** URI-reference (RFC 3986 §4.1): a URI or a relative reference. */
export function checkUriReference(value: string): string | undefined {
  if (URI_CHARS.test(value) && value.indexOf('#') === value.lastIndexOf('#')) return undefined;
  return `must be a URI-reference (RFC 3986): no spaces, non-ASCII or other characters outside a URI unless percent-encoded, got "${value}"`;
}

/** Absolute URI (RFC 3986 §4.3): a scheme, and no fragment. */
export function checkAbsoluteUri(value: string): string | undefined {
  if (URI_CHARS.test(value) && SCHEME.test(value) && !value.includes('#')) return undefined;
  return `must be an absolute URI (RFC 3986 §4.3: a scheme such as "https:", no fragment), got "${value}"`;
}

export function checkInteger(value: number): string | undefined {
  if (Number.isInteger(value) && value >= INTEGER_MIN && value <= INTEGER_MAX) return undefined;
  return `must be an Integer from ${INTEGER_MIN} to ${INTEGER_MAX}, got ${value}`;
}

/**
 * The constraints of one attribute, by name: the spec's own attributes have their types;
 * an extension may be any of String, Integer or Boolean.
 */
export function checkAttribute(name: string, value: AttributeValue): string | undefined {
  const typed = ATTRIBUTE_TYPES[name];
  if (typed === undefined) {
    if (typeof value === 'number') return checkInteger(value);
    if (typeof value === 'string') return checkString(value);
    return undefined;
  }
  if (typeof value !== 'string') return `must be a string, got ${typeof value}`;
  if (value === '') return 'must be a non-empty string';
  return checkString(value) ?? typed(value);
}

const ATTRIBUTE_TYPES: Record<string, (value: string) => string | undefined> = {
  specversion: () => undefined,
  id: () => undefined,
  type: () => undefined,
  subject: () => undefined,
  source: checkUriReference,
  dataschema: checkAbsoluteUri,
  datacontenttype: checkMediaType,
  time: checkTimestamp,
};
