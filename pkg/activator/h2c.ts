// HTTP/2 cleartext (h2c, prior knowledge) through the activator, for functions whose
// replicas declare it (spec.portName h2c, Knative's port name): gRPC unary and streaming
// calls. Each HTTP/2 stream is one request: it routes, waits in the function's queue while
// no replica has a free slot (a cold start pokes the autoscaler), takes one slot of a
// replica's containerConcurrency for as long as the stream lives, and is forwarded as a
// stream of one HTTP/2 session per replica (node:http2: undici's HTTP/2 client takes no
// prior-knowledge h2c). Bodies stream both ways with HTTP/2 flow control, so a waiting
// stream holds at most its flow-control window, not a whole body. Trailers (grpc-status,
// grpc-message) are relayed as trailers, and a replica's trailers-only answer as one.
//
// Both sides must speak the same protocol: an HTTP/2 request for an http1 function, or an
// HTTP/1.1 request for an h2c one, gets 501 unsupported_protocol naming the function's
// portName, rather than a translation that would lose what gRPC relies on (trailers,
// streaming both ways at once).
import http2, { type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import { hostPort, type ProxyTarget, type Replica } from './breaker.js';
import { ActivatorError, errnoCode, errorBody, transportError } from './errors.js';
import type { QueueSlot } from './queue.js';
import { CLIENT_CLOSED, type FunctionState } from './state.js';
import type { Waiter } from './throttler.js';

const { NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR, NGHTTP2_FLAG_END_STREAM, NGHTTP2_NO_ERROR } = http2.constants;

/**
 * Request fields that describe the connection, not the request. HTTP/2 forbids them
 * (RFC 9113 §8.2.2, node refuses them on receipt); Host is replaced by :authority.
 * TE is kept: its one value HTTP/2 allows, "trailers", is how gRPC says it reads trailers.
 */
const NOT_FORWARDED = new Set(['host', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'x-forwarded-for']);

/** The request for the replica: pseudo-headers set for it, X-Forwarded-* as the HTTP/1.1 path sets them. */
export function h2RequestHeaders(incoming: IncomingHttpHeaders, path: string, authority: string, remoteAddress: string | undefined): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {
    ':method': incoming[':method'] ?? 'GET',
    ':scheme': 'http',
    ':authority': authority,
    ':path': path,
  };
  for (const name in incoming) {
    if (name.charCodeAt(0) === 0x3a /* : */ || NOT_FORWARDED.has(name) || name.startsWith('proxy-')) continue;
    out[name] = incoming[name];
  }
  const forwardedFor = incoming['x-forwarded-for'];
  const addr = remoteAddress ?? '';
  out['x-forwarded-for'] = forwardedFor ? `${String(forwardedFor)}, ${addr}` : addr;
  out['x-forwarded-host'] ??= authority;
  out['x-forwarded-proto'] ??= 'http';
  return out;
}

/** The replica's response or trailer fields for the client: pseudo-headers but :status dropped. */
export function h2ResponseHeaders(incoming: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in incoming) {
    if (name.charCodeAt(0) === 0x3a && name !== ':status') continue;
    if (NOT_FORWARDED.has(name)) continue;
    out[name] = incoming[name];
  }
  return out;
}

/** Answers a stream with kfn's error envelope, or resets it when its head is already out. */
export function sendH2Error(stream: ServerHttp2Stream, err: ActivatorError): void {
  if (stream.destroyed || stream.closed) return;
  if (stream.headersSent) {
    stream.close(NGHTTP2_INTERNAL_ERROR);
    return;
  }
  const head: OutgoingHttpHeaders = { ':status': err.status, 'content-type': 'application/json' };
  if (err.retryAfterSeconds !== undefined) head['retry-after'] = String(err.retryAfterSeconds);
  stream.respond(head);
  stream.end(errorBody(err));
}

/** One HTTP/2 session per replica, opened on first use, closed when the replica goes. */
export class H2Sessions {
  private readonly sessions = new Map<ProxyTarget, ClientHttp2Session>();

  constructor(private readonly log: Logger) {}

  get(target: ProxyTarget): ClientHttp2Session {
    const open = this.sessions.get(target);
    if (open && !open.closed && !open.destroyed) return open;
    const session = http2.connect(`http://${hostPort(target)}`);
    this.sessions.set(target, session);
    const drop = (): void => {
      if (this.sessions.get(target) === session) this.sessions.delete(target);
    };
    // Streams on it hear of a failure themselves; the session only leaves the map.
    session.on('error', (err) => {
      this.log.debug({ err, replica: hostPort(target) }, 'h2c session to replica failed');
      drop();
    });
    session.on('goaway', drop);
    session.on('close', drop);
    return session;
  }

  /** Closes the replica's session once its streams finish. */
  forget(target: ProxyTarget): void {
    const session = this.sessions.get(target);
    if (!session) return;
    this.sessions.delete(target);
    session.close();
  }

  close(): void {
    for (const s of this.sessions.values()) s.destroy();
    this.sessions.clear();
  }
}

/** One client HTTP/2 stream on its way to a replica of an h2c function. */
export class H2Call implements Waiter {
  bytes = 0;
  queueSlot: QueueSlot | undefined = undefined;
  avoid: Replica | undefined = undefined;
  waitTimer: NodeJS.Timeout | undefined = undefined;

  private replica: Replica | undefined;
  private upstream: ClientHttp2Stream | undefined;
  private trailers: OutgoingHttpHeaders | undefined;
  private timer: NodeJS.Timeout | undefined;
  private status = CLIENT_CLOSED;
  private done = false;

  constructor(
    private readonly fn: FunctionState,
    private readonly stream: ServerHttp2Stream,
    private readonly headers: OutgoingHttpHeaders,
    private readonly sessions: H2Sessions,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly arrivedAt: number,
  ) {}

  start(): void {
    this.stream.on('error', () => {}); // a reset by the client; 'close' follows
    this.stream.once('close', () => this.onClose());
    const replica = this.fn.throttler.tryAcquire();
    if (replica) this.grant(replica);
    else this.fn.throttler.enqueue(this, this.remainingMs(), this.fn.timeoutMs);
  }

  grant(replica: Replica): void {
    if (this.done) {
      this.fn.throttler.release(replica);
      return;
    }
    this.replica = replica;
    let up: ClientHttp2Stream;
    try {
      up = this.sessions.get(replica.target).request(this.headers);
    } catch (err) {
      this.fail(transportError(this.fn.id, replica.address, err));
      return;
    }
    this.upstream = up;
    // The replica's response head is bounded by what is left of the function's timeout; a
    // stream that has started answering may run as long as it runs (gRPC streams).
    this.timer = setTimeout(() => this.onHeadTimeout(), this.remainingMs());
    up.on('response', (headers, flags) => this.onResponse(headers, flags));
    up.on('trailers', (trailers: IncomingHttpHeaders) => {
      this.trailers = h2ResponseHeaders(trailers);
    });
    up.on('error', (err: Error) => this.onUpstreamError(err));
    up.on('close', () => this.onUpstreamClose(up));
    this.stream.pipe(up);
  }

  fail(err: ActivatorError): void {
    if (this.done) return;
    this.done = true;
    if (this.queueSlot) this.fn.throttler.cancel(this);
    clearTimeout(this.timer);
    if (this.upstream && !this.upstream.closed) this.upstream.close(NGHTTP2_CANCEL);
    if (err.status >= 500) this.log.debug({ fn: this.fn.id, code: err.code, err: err.cause ?? err.message }, 'h2c request failed');
    if (!this.stream.headersSent) this.status = err.status;
    sendH2Error(this.stream, err);
  }

  private onResponse(headers: IncomingHttpHeaders, flags: number): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const s = this.stream;
    if (this.done || s.destroyed || s.closed) return;
    this.status = Number(headers[':status'] ?? 502);
    // A trailers-only answer (a gRPC error with no message) ends in its head: so does ours.
    if ((flags & NGHTTP2_FLAG_END_STREAM) !== 0) {
      s.respond(h2ResponseHeaders(headers), { endStream: true });
      return;
    }
    s.respond(h2ResponseHeaders(headers), { waitForTrailers: true });
    s.once('wantTrailers', () => s.sendTrailers(this.trailers ?? {}));
    this.upstream?.pipe(s);
  }

  private onUpstreamError(err: Error): void {
    if (this.done) return;
    if (!this.stream.headersSent) {
      // A session that never connected cancels its pending streams, the socket error as cause.
      const cause = errnoCode(err) === 'ERR_HTTP2_STREAM_CANCEL' && err.cause !== undefined ? err.cause : err;
      this.fail(transportError(this.fn.id, this.replica?.address ?? 'unknown', cause));
      return;
    }
    this.stream.close(NGHTTP2_INTERNAL_ERROR);
  }

  private onUpstreamClose(up: ClientHttp2Stream): void {
    if (this.done) return;
    const code = up.rstCode ?? NGHTTP2_NO_ERROR;
    if (code === NGHTTP2_NO_ERROR) return;
    // The replica reset its stream: tell the client the same way, or with a 502 before any head.
    if (!this.stream.headersSent) {
      this.fail(new ActivatorError('replica_reset', `function ${this.fn.id}: replica ${this.replica?.address ?? 'unknown'} reset the stream (HTTP/2 error ${code})`));
      return;
    }
    if (!this.stream.closed) this.stream.close(code);
  }

  private onHeadTimeout(): void {
    this.timer = undefined;
    this.fail(
      new ActivatorError('upstream_timeout', `function ${this.fn.id}: replica ${this.replica?.address ?? 'unknown'} did not answer within the function's timeout of ${this.fn.timeoutMs / 1000}s`),
    );
  }

  private onClose(): void {
    const wasDone = this.done;
    this.done = true;
    if (this.queueSlot) this.fn.throttler.cancel(this);
    clearTimeout(this.timer);
    if (this.upstream && !this.upstream.closed) this.upstream.close(NGHTTP2_CANCEL);
    const replica = this.replica;
    if (replica) {
      this.replica = undefined;
      this.fn.throttler.release(replica);
    }
    this.fn.window.depart(this.clock.now());
    this.fn.count(wasDone || this.stream.rstCode === NGHTTP2_NO_ERROR ? this.status : CLIENT_CLOSED);
  }

  private remainingMs(): number {
    return this.fn.timeLeftMs(this.arrivedAt, this.clock.now());
  }
}
