// The activator's own errors: the HTTP status each code maps to and the body a caller sees
// are kfn's one envelope (pkg/shared/http-error.ts). Transport failures towards a replica
// become typed 502/503/504 errors that keep the socket error as `cause`.
import { envelope, ERROR_STATUS, type ErrorCode } from '../shared/http-error.js';
import type { ResponseSink } from './sink.js';

export { ERROR_STATUS, type ErrorCode };

export class ActivatorError extends Error {
  readonly status: number;
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    opts: { cause?: unknown; retryAfterSeconds?: number } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ActivatorError';
    this.status = ERROR_STATUS[code];
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }
}

/** The body of an error response: `{ error: { code, message } }`. */
export function errorBody(err: ActivatorError): string {
  return JSON.stringify(envelope(err.code, err.message));
}

/**
 * Writes `err` as the response. `closeConnection` is for errors sent while the client may
 * still be uploading a body we will not read (413): keeping the connection would make node
 * read and discard the rest of it.
 */
export function sendError(res: ResponseSink, err: ActivatorError, closeConnection = false): void {
  if (res.headersSent) {
    // Part of the replica's response is already out: the only honest signal left is
    // cutting the connection, so the client sees a truncated response, not a complete one.
    res.destroy();
    return;
  }
  const body = errorBody(err);
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  };
  if (err.retryAfterSeconds !== undefined) headers['retry-after'] = err.retryAfterSeconds;
  if (closeConnection) headers.connection = 'close';
  res.writeHead(err.status, headers);
  res.end(body);
}

// UND_ERR_*: undici's codes, the proxy's transport (pkg/activator/proxy.ts).
const UNAVAILABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'UND_ERR_CONNECT_TIMEOUT']);
const RESET = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET']);
const TIMEOUT = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Maps a socket error while talking to `replica` of function `fn` to a typed error. */
export function transportError(fn: string, replica: string, cause: unknown): ActivatorError {
  if (cause instanceof ActivatorError) return cause;
  const code = errnoCode(cause);
  const what = `function ${fn}: replica ${replica}`;
  if (UNAVAILABLE.has(code)) return new ActivatorError('replica_unavailable', `${what} is not accepting connections (${code})`, { cause });
  if (RESET.has(code)) return new ActivatorError('replica_reset', `${what} closed the connection before answering (${code})`, { cause });
  if (TIMEOUT.has(code)) return new ActivatorError('upstream_timeout', `${what} did not answer in time (${code})`, { cause });
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new ActivatorError('bad_gateway', `${what} failed: ${detail}`, { cause });
}

export function errnoCode(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return '';
}
