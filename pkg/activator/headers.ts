// Header rules of the proxy hop, as pure functions over raw header lists (node's
// `rawHeaders`: name, value, name, value...). Working on the raw list lets one pass do
// validation, hop-by-hop stripping and X-Forwarded-* for a request without node ever
// building the `req.headers` object, and keeps the client's header spelling.
//
// What node's parser already rejects before a request reaches us (tested in
// test/activator/headers.test.ts): CR, LF, NUL and other control characters in values,
// obs-fold continuation lines, spaces in names, invalid or repeated Content-Length,
// Content-Length with Transfer-Encoding, repeated Transfer-Encoding, and a missing Host
// on HTTP/1.1. `inspectRequest` rejects what it lets through.

export interface HostileHeader {
  code: 'bad_request' | 'unsupported_transfer_encoding';
  message: string;
}

export interface ForwardedFrom {
  /** The client's address as the activator sees it. */
  remoteAddress: string | undefined;
  /** Whether the client's connection to the activator is TLS. */
  encrypted: boolean;
}

export interface InspectedRequest {
  /** The first Host value; undefined when absent. */
  host: string | undefined;
  /** Bytes for Content-Length, -1 for chunked, 0 for no body. */
  bodyLength: number;
  /** Set when the request must be refused; the other fields are then incomplete. */
  problem: HostileHeader | undefined;
  /**
   * The headers for the replica: hop-by-hop ones removed (the fixed set, those that
   * Connection names except the few it may not remove, Proxy-*, and Expect, which node already answered), X-Forwarded-For
   * appended to, X-Forwarded-Host and -Proto kept when a proxy in front set them and
   * otherwise set from this hop (on a cluster the ingress terminates TLS, so only it
   * knows the original scheme). Transfer-Encoding is dropped too: it is per hop, and the
   * proxy's transport frames an unsized body as chunked again.
   */
  headers: string[];
}

/** Host is `host[:port]` with DNS, IPv4 or bracketed IPv6 characters only. */
export const VALID_HOST = /^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

/**
 * One pass over a request's raw headers: what routing needs, whether it is hostile, and
 * the header list to forward.
 */
export function inspectRequest(raw: readonly string[], from: ForwardedFrom): InspectedRequest {
  const out: string[] = [];
  let host: string | undefined;
  let hosts = 0;
  let contentLength: string | undefined;
  let transferEncoding: string | undefined;
  let connection: string | undefined;
  let forwardedFor: string | undefined;
  let forwardedHost = false;
  let forwardedProto = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    switch (name.toLowerCase()) {
      case 'host':
        hosts++;
        host ??= value;
        out.push(name, value);
        break;
      case 'content-length':
        contentLength = value;
        out.push(name, value);
        break;
      case 'transfer-encoding':
        transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
        break;
      case 'connection':
        connection = connection === undefined ? value : `${connection},${value}`;
        break;
      case 'keep-alive':
      case 'te':
      case 'trailer':
      case 'upgrade':
      case 'expect':
        break;
      case 'x-forwarded-for':
        forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
        break;
      case 'x-forwarded-host':
        forwardedHost = true;
        out.push(name, value);
        break;
      case 'x-forwarded-proto':
        forwardedProto = true;
        out.push(name, value);
        break;
      default:
        if (!isProxyHeader(name)) out.push(name, value);
    }
  }
  const bodyLength = contentLength !== undefined ? Number(contentLength) : transferEncoding !== undefined ? -1 : 0;
  const refused = (problem: HostileHeader): InspectedRequest => ({ host, bodyLength, problem, headers: out });
  if (hosts > 1) return refused({ code: 'bad_request', message: 'more than one Host header' });
  if (host !== undefined && host.length > 0 && !VALID_HOST.test(host)) {
    return refused({ code: 'bad_request', message: `invalid Host header ${JSON.stringify(host)}` });
  }
  // Node de-chunks but does not decode other codings; forwarding `gzip, chunked` after
  // re-framing would hand the replica coded bytes with nothing saying so.
  if (transferEncoding !== undefined && transferEncoding.trim().toLowerCase() !== 'chunked') {
    return refused({ code: 'unsupported_transfer_encoding', message: `Transfer-Encoding ${JSON.stringify(transferEncoding)} is not supported; use chunked` });
  }
  const headers = connection === undefined ? out : withoutListed(out, connection);
  const addr = from.remoteAddress ?? '';
  headers.push('X-Forwarded-For', forwardedFor ? `${forwardedFor}, ${addr}` : addr);
  if (!forwardedHost && host) headers.push('X-Forwarded-Host', host);
  if (!forwardedProto) headers.push('X-Forwarded-Proto', from.encrypted ? 'https' : 'http');
  return { host, bodyLength, problem: undefined, headers };
}

/**
 * A response's raw headers without the replica hop's hop-by-hop ones; node frames the body
 * again. Takes the bytes as the transport hands them over (one char per byte), so the
 * list is read once rather than first copied into strings.
 */
export function responseHeaders(raw: readonly (string | Buffer)[]): string[] {
  const out: string[] = [];
  let connection: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const n = raw[i] as string | Buffer;
    const v = raw[i + 1] as string | Buffer;
    const name = typeof n === 'string' ? n : n.toString('latin1');
    const value = typeof v === 'string' ? v : v.toString('latin1');
    // Runs for every header of every response: most names cannot be one of the fixed set
    // by their length alone, and need no lower-cased copy.
    if (!HOP_BY_HOP_LENGTHS.has(name.length)) {
      if (!isProxyHeader(name)) out.push(name, value);
      continue;
    }
    switch (name.toLowerCase()) {
      case 'connection':
        connection = connection === undefined ? value : `${connection},${value}`;
        break;
      case 'keep-alive':
      case 'te':
      case 'trailer':
      case 'transfer-encoding':
      case 'upgrade':
        break;
      default:
        if (!isProxyHeader(name)) out.push(name, value);
    }
  }
  return connection === undefined ? out : withoutListed(out, connection);
}

/** Lengths of connection, keep-alive, te, trailer, transfer-encoding and upgrade. */
const HOP_BY_HOP_LENGTHS = new Set([2, 7, 10, 17]);

/** Proxy-Authorization, Proxy-Connection...: meant for the proxy, never the replica. */
function isProxyHeader(name: string): boolean {
  return name.length > 6 && (name.charCodeAt(0) | 0x20) === 0x70 /* p */ && name.slice(0, 6).toLowerCase() === 'proxy-';
}

/**
 * Tokens of Connection that name no header to drop here: those the fixed rules already
 * drop, and those Connection may never remove. RFC 9110 §7.6.1 has a proxy drop every field
 * a Connection option names, but also says "a sender MUST NOT send a connection option
 * corresponding to a field that is intended for all recipients of the content". A client
 * that does anyway must not make the replica see another request than the one the
 * activator acted on: Host is what it routed by (and HTTP/1.1 requires it, §7.2),
 * Content-Length is how it framed the body, and X-Forwarded-* are the proxy's own record of
 * the hop (`Connection: x-forwarded-proto` would otherwise hide that the client came over TLS).
 * Anything else a client lists is its own hop-by-hop field, and goes.
 */
const NOT_REMOVABLE = new Set([
  'close',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'transfer-encoding',
  '',
  'host',
  'content-length',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
]);

function withoutListed(headers: string[], connection: string): string[] {
  if (connection.length === 10 && NOT_REMOVABLE.has(connection.toLowerCase())) return headers; // keep-alive
  if (connection.length === 5 && connection.toLowerCase() === 'close') return headers;
  let listed: Set<string> | undefined;
  for (const token of connection.split(',')) {
    const name = token.trim().toLowerCase();
    if (!NOT_REMOVABLE.has(name)) (listed ??= new Set()).add(name);
  }
  if (!listed) return headers;
  const kept: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i] as string;
    if (!listed.has(name.toLowerCase())) kept.push(name, headers[i + 1] as string);
  }
  return kept;
}
