// Who may use kfn dev's admin API. It applies manifests, and a manifest names a command
// this machine runs, so the API is as powerful as a shell. Three doors are closed here:
//
// - DNS rebinding: a web page whose name the attacker re-points at 127.0.0.1 talks to the
//   admin port from the browser as "same origin". The browser still sends the page's own
//   name in Host, so only loopback names with the admin port (and names the user lists)
//   are served; anything else gets 421 Misdirected Request (RFC 9110 §15.5.20: this
//   server will not answer for that authority).
// - Cross-origin writes: a page may POST `text/plain`, form or multipart bodies without a
//   CORS preflight (Fetch standard, "CORS-safelisted request-header"), so the only body
//   accepted is JSON, which needs a preflight this API never grants; a request that
//   carries an Origin other than the API's own is refused with 403.
// - The network: listening beyond loopback needs a token, and with a token every route
//   wants `Authorization: Bearer <token>` (RFC 6750 §2.1), compared in constant time.
// Pure apart from hashing; admin.ts hooks it in front of every route.
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { HttpError } from '../shared/http-error.js';

/** Shortest token accepted: 16 characters, so a placeholder such as `x` is refused. */
export const MIN_TOKEN_LENGTH = 16;

export interface AdminAccess {
  /** Required in `Authorization: Bearer` on every route when set. */
  token?: string;
  /** Host names (without port) served besides the loopback ones, e.g. the machine's name when the token is set. */
  extraHosts?: readonly string[];
  /** The address the API listens on: a specific one is a name it may be called by. */
  listenHost?: string;
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/** Whether `host` (a listen address) is reachable from this machine only. */
export function isLoopbackAddress(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  // IPv4-mapped IPv6 (::ffff:127.0.0.1).
  return isIP(h) === 6 && /^::ffff:127\./.test(h);
}

/** Throws naming the fix when the admin API would listen beyond loopback without a token. */
export function assertSafeListen(host: string, token: string | undefined): void {
  if (token !== undefined && token.length < MIN_TOKEN_LENGTH) {
    throw new Error(`the admin token is too short: use at least ${MIN_TOKEN_LENGTH} characters (for example: openssl rand -hex 32)`);
  }
  if (token === undefined && !isLoopbackAddress(host)) {
    throw new Error(
      `refusing to listen on ${host}: the admin API (which runs whatever command a manifest names) would be open to the network. ` +
        `Set a token with --admin-token or KFN_ADMIN_TOKEN (clients then send Authorization: Bearer <token>; kfn finds it in KFN_ADMIN_TOKEN or $KFN_HOME/dev.json), ` +
        `or listen on loopback (--host 127.0.0.1).`,
    );
  }
}

/** The authorities (`name:port`) a request may carry in Host for the loopback names and the listen address. */
function allowedAuthorities(access: AdminAccess, port: number): Set<string> {
  const names = [...LOOPBACK_NAMES];
  const listen = access.listenHost;
  if (listen && listen !== '0.0.0.0' && listen !== '::') names.push(isIP(listen) === 6 ? `[${listen}]` : listen);
  const out = new Set<string>();
  for (const n of names) {
    const name = n.toLowerCase();
    out.add(`${name}:${port}`);
    // Host may leave out the scheme's default port (RFC 9110 §7.2).
    if (port === 80) out.add(name);
  }
  return out;
}

/**
 * Whether Host names the API. A name the user listed (--admin-allow-host) is trusted with
 * any port or none, as a reverse proxy in front may have rewritten it; written with a port,
 * it matches that port only.
 */
function hostAllowed(access: AdminAccess, allowed: ReadonlySet<string>, host: string): boolean {
  if (allowed.has(host)) return true;
  const bare = host.replace(/:\d+$/, '');
  return (access.extraHosts ?? []).some((h) => {
    const name = h.toLowerCase();
    return name === host || name === bare;
  });
}

export interface AdminRequest {
  method: string;
  host: string | undefined;
  origin: string | undefined;
  authorization: string | undefined;
  contentType: string | undefined;
  /** The port the request arrived on: the admin port, even when it was picked at random. */
  localPort: number;
}

/** Undefined when the request may proceed; otherwise the error to answer with. */
export function checkAdminRequest(access: AdminAccess, req: AdminRequest): HttpError | undefined {
  const allowed = allowedAuthorities(access, req.localPort);
  const host = req.host?.toLowerCase();
  if (host === undefined || !hostAllowed(access, allowed, host)) {
    return new HttpError(
      'misdirected_request',
      `the admin API answers only for ${[...allowed, ...(access.extraHosts ?? [])].join(', ')}, not Host ${JSON.stringify(req.host ?? '')} ` +
        `(a guard against DNS rebinding); add the name with --admin-allow-host if you call it by another name`,
    );
  }
  // Browsers send Origin on cross-origin requests and on every POST; the CLI sends none.
  if (req.origin !== undefined && !hostAllowed(access, allowed, originAuthority(req.origin))) {
    return new HttpError('forbidden', `requests from web pages of other origins (Origin ${JSON.stringify(req.origin)}) are refused by the admin API`);
  }
  if (access.token !== undefined && !bearerMatches(req.authorization, access.token)) {
    return new HttpError('unauthorized', 'this admin API wants Authorization: Bearer <token> (the token kfn dev was started with: --admin-token or KFN_ADMIN_TOKEN)');
  }
  if (req.method !== 'GET' && req.method !== 'HEAD' && req.contentType !== undefined && !isJson(req.contentType)) {
    return new HttpError('unsupported_media_type', `Content-Type ${JSON.stringify(req.contentType)} is not accepted by the admin API: send application/json`);
  }
  return undefined;
}

/** `host:port` of an http origin; '' for anything else (`null`, https, garbage), which matches nothing. */
function originAuthority(origin: string): string {
  try {
    const u = new URL(origin);
    if (u.protocol !== 'http:') return '';
    return u.port === '' ? `${u.hostname}:80` : u.host;
  } catch {
    return '';
  }
}

function isJson(contentType: string): boolean {
  return /^application\/json\s*(;|$)/i.test(contentType.trim());
}

/** Constant time in the token: both sides are hashed to 32 bytes before comparing. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer +(\S+) *$/i.exec(header ?? '');
  const given = createHash('sha256').update(m?.[1] ?? '').digest();
  const want = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, want) && m !== null;
}
