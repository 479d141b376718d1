// The one error envelope every kfn HTTP surface answers with, the registry of its codes,
// and the answer to requests Node's HTTP parser refuses before any handler sees them.
//
//   { "error": { "code": "function_not_found", "message": "function default/ghost not found" } }
//
// Nested rather than `{ error: code, message }`: a function's own error bodies, which the
// activator passes through untouched, very often carry a top-level string `error` (fastify's
// and express's defaults, most hand-written APIs); an object with a `code` tells a caller
// that kfn answered, not the function. Codes are stable snake_case; messages are for people.
import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

/** Every code a kfn surface answers with, and its HTTP status. */
export const ERROR_STATUS = {
  // Any surface: what the HTTP layer refuses before a handler runs, and handler failures.
  bad_request: 400,
  /** A JSON body that does not parse (or is empty while Content-Type says JSON). */
  invalid_json: 400,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  body_too_large: 413,
  uri_too_long: 414,
  unsupported_media_type: 415,
  headers_too_large: 431,
  internal: 500,
  /** A method the server does not know at all (RFC 9110 §9.1: "SHOULD respond with 501"). */
  method_not_implemented: 501,
  /** /healthz before the component can serve. */
  not_ready: 503,

  // Activator.
  function_not_found: 404,
  unsupported_transfer_encoding: 501,
  /** A protocol switch the activator does not proxy: CONNECT, `Upgrade: h2c`, an Upgrade with a body. */
  unsupported_protocol: 501,
  /** The function's wait queue is full (by count or by buffered bytes). */
  queue_full: 503,
  /** The platform reported that replicas keep failing to start. */
  activation_failed: 503,
  function_removed: 503,
  shutting_down: 503,
  /** The replica refused the connection (draining, exited). */
  replica_unavailable: 503,
  /** The replica reset the connection before it answered. */
  replica_reset: 502,
  bad_gateway: 502,
  /** Waited the function's timeout with no ready replica. */
  activation_timeout: 504,
  /** Waited the function's timeout with ready replicas, all at containerConcurrency. */
  queue_timeout: 504,
  /** The replica went silent for the rest of the function's timeout. */
  upstream_timeout: 504,

  // Autoscaler's stat intake.
  invalid_stats: 400,

  // Event ingress.
  invalid_subject: 400,
  reserved_subject: 400,
  malformed_event: 400,
  /** No stream of kfn's Triggers holds the subject. */
  no_stream: 404,
  /** JetStream did not acknowledge, or kfn's streams could not be read: try again. */
  publish_failed: 503,

  // kfn dev's admin API.
  invalid_manifest: 422,
  /** The token is missing or wrong (kfn dev started with --admin-token). */
  unauthorized: 401,
  /** A request from a web page of another origin. */
  forbidden: 403,
  /** Host names an authority the admin API does not answer for (DNS rebinding). */
  misdirected_request: 421,
  /** Some component of kfn dev is down; `problems` names each. */
  unhealthy: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorDetail {
  code: ErrorCode;
  message: string;
  /** Each problem on its own (a manifest's field errors, the components down), when there are several. */
  problems?: string[];
}

export interface ErrorEnvelope {
  error: ErrorDetail;
}

export function envelope(code: ErrorCode, message: string, problems?: readonly string[]): ErrorEnvelope {
  return { error: problems === undefined ? { code, message } : { code, message, problems: [...problems] } };
}

/** An error a handler throws (or returns) to answer with its code's status and the envelope. */
export class HttpError extends Error {
  readonly status: number;
  readonly problems: readonly string[] | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    opts: { cause?: unknown; problems?: readonly string[] } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'HttpError';
    this.status = ERROR_STATUS[code];
    this.problems = opts.problems;
  }

  get body(): ErrorEnvelope {
    return envelope(this.code, this.message, this.problems);
  }
}

/** An error as a client reads it: its code may be one this build does not know. */
export interface ReceivedError {
  code: string;
  message: string;
  problems?: string[];
}

/**
 * The envelope's detail in a response body, or undefined when the body is not kfn's
 * error (a function's own answer, another server's page): for clients such as the CLI.
 */
export function errorOf(body: unknown): ReceivedError | undefined {
  if (typeof body !== 'object' || body === null || !('error' in body)) return undefined;
  const e: unknown = body.error;
  if (typeof e !== 'object' || e === null || !('code' in e) || !('message' in e)) return undefined;
  if (typeof e.code !== 'string' || typeof e.message !== 'string') return undefined;
  const problems = 'problems' in e && Array.isArray(e.problems) ? e.problems.filter((p): p is string => typeof p === 'string') : undefined;
  return { code: e.code, message: e.message, ...(problems ? { problems } : {}) };
}

/** The error, as a whole HTTP/1.1 response that closes the connection: for writing to a raw socket. */
export function rawErrorResponse(code: ErrorCode, message: string): string {
  const status = ERROR_STATUS[code];
  const body = JSON.stringify(envelope(code, message));
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/** What node's `clientError` event passes: an HTTP parser error (HPE_*) or a timeout. */
export type ClientError = Error & { code?: string; rawPacket?: Buffer };

const REQUEST_LINE_START = /^[A-Z]+ /;

/**
 * What Node's HTTP parser refused, as a code and message. Node counts the request line
 * toward its header limit (--max-http-header-size, 16 KiB by default), so an over-long URL
 * fails there too; it is told apart (414) when the packet that overflowed starts a request
 * whose first line alone is over the limit.
 */
export function parseFailure(err: ClientError, limit = maxHeaderSize): { code: ErrorCode; message: string } {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW': {
      const packet = err.rawPacket;
      const firstLineEnd = packet?.indexOf('\r\n') ?? 0;
      if (packet && REQUEST_LINE_START.test(packet.subarray(0, 16).toString('latin1')) && (firstLineEnd === -1 || firstLineEnd > limit)) {
        return { code: 'uri_too_long', message: `the request line is longer than the server's limit of ${limit} bytes for the request line and headers together` };
      }
      return { code: 'headers_too_large', message: `the request line and headers are larger than the server's limit of ${limit} bytes` };
    }
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ERR_HTTP_HEADERS_TIMEOUT':
      return { code: 'request_timeout', message: 'the request did not arrive in time' };
    case 'HPE_INVALID_METHOD':
      return { code: 'method_not_implemented', message: 'the request method is not one this server knows' };
    default:
      return { code: 'bad_request', message: `malformed HTTP request (${err.code ?? err.message})` };
  }
}

/**
 * The `clientError` listener of a node HTTP server (fastify's `clientErrorHandler` too):
 * a request the parser refused (CR/LF in a header, bad framing, headers over the limit,
 * a stalled upload) gets the envelope, then the connection closes. Node's own answer is a
 * bare status line with no body.
 */
export function onClientError(err: ClientError, socket: Socket): void {
  const busy = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (err.code === 'ECONNRESET' || !socket.writable || busy) {
    socket.destroy();
    return;
  }
  const { code, message } = parseFailure(err);
  socket.end(rawErrorResponse(code, message));
}
