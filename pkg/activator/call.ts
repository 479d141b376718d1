// One request's way through the activator once routed: take a replica slot or wait for
// one, forward, retry once on another replica when that is safe (see mayRetry), and
// account for it when the response closes.
//
// Request bodies: with a free slot the body streams straight to the replica. While the
// request waits, its body is read into memory and counted against the queue's byte
// bound, rather than left unread. Reading lets the client finish uploading during a cold
// start, makes the byte bound measure memory actually held, and leaves a complete body
// that can be replayed if the first replica refuses the connection. Past the queue's byte
// bound the request gets 503, past maxBodyBytes 413.
import { PassThrough, type Readable } from 'node:stream';
import type { Logger } from '../shared/log.js';
import type { Clock } from '../shared/clock.js';
import type { Replica } from './breaker.js';
import type { RequestBody, ResponseSink } from './sink.js';
import { hashKeyOf } from './balancing.js';
import { ActivatorError, errnoCode, sendError, transportError } from './errors.js';
import type { ForwardListener, ReplicaProxy, Upstream } from './proxy.js';
import type { QueueSlot } from './queue.js';
import { CLIENT_CLOSED, type FunctionState } from './state.js';
import type { Waiter } from './throttler.js';

/** What goes to the replica, prepared once per request. */
export interface Outgoing {
  method: string;
  path: string;
  headers: string[];
  /** Bytes for Content-Length, -1 for chunked, 0 for none. */
  bodyLength: number;
}

export interface CallDeps {
  proxy: ReplicaProxy;
  clock: Clock;
  maxBodyBytes: number;
  log: Logger;
}

/**
 * Methods RFC 9110 §9.2.2 defines as idempotent: "the intended effect on the server of
 * multiple identical requests with that method is the same as the effect for a single such
 * request". Only the function can say whether its handlers keep that promise, hence
 * spec.retries.idempotent.
 */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** The connection broke after the request may have reached the replica, before any answer. */
const BROKEN = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

/**
 * Whether a failed attempt may be sent to another replica. "A request is replayed on
 * another replica only if it provably never reached the first" (DESIGN.md), as Go's
 * Transport does (shouldRetryRequest: a `nothingWrittenError` is retried whatever the
 * method; otherwise only a replayable, idempotent request):
 *
 * - `written` false: undici never called onRequestStart for this attempt, which it does
 *   just before writing the request head to a connected socket (client-h1 writeH1). So the
 *   connection failed before a byte was written: refused, timed out or unreachable on
 *   connect, or a kept-alive socket found closed before use (undici keeps such a request
 *   pending and connects again, so only the new connection's failure reaches us).
 * - `written` true: the replica may have read the request and acted on it (a POST killed
 *   mid-request), and a reset cannot tell. Sent again only for an idempotent method of a
 *   function that declared its handlers safe to repeat (`retryIdempotent`).
 */
export function mayRetry(written: boolean, method: string, code: string, retryIdempotent: boolean): boolean {
  if (!written) return true;
  return retryIdempotent && BROKEN.has(code) && IDEMPOTENT_METHODS.has(method);
}

/** How a failed connection counts for outlier detection: as a gateway error. */
const FAILED_CONNECTION = 502;


export class ProxyCall implements Waiter, ForwardListener {
  bytes = 0;
  queueSlot: QueueSlot | undefined = undefined;
  avoid: Replica | undefined = undefined;
  hashKey: number | undefined = undefined;
  waitTimer: NodeJS.Timeout | undefined = undefined;

  private replica: Replica | undefined;
  private upstream: Upstream | undefined;
  private attempt = 0;
  /** Our own error response was sent, or the response closed. */
  private done = false;
  private bodyBytes = 0;
  /** The body read while queued; kept after forwarding only when complete (for a retry). */
  private chunks: Buffer[] | undefined;
  private buffering = false;
  private bodyEnded = false;
  /** The 'data' listener, attached only for bodies that need counting or buffering. */
  private bodyListener: ((chunk: Buffer) => void) | undefined;

  constructor(
    private readonly fn: FunctionState,
    private readonly req: RequestBody,
    private readonly res: ResponseSink,
    private readonly out: Outgoing,
    private readonly deps: CallDeps,
    private readonly arrivedAt: number,
  ) {}

  start(): void {
    this.res.on('close', () => this.onClose());
    const hashOn = this.fn.throttler.hashOn;
    if (hashOn !== undefined) this.hashKey = hashKeyOf(hashOn, this.out.headers, this.req.socket?.remoteAddress);
    const replica = this.fn.throttler.tryAcquire(undefined, this.hashKey);
    if (replica) {
      this.forward(replica);
      return;
    }
    if (this.out.bodyLength !== 0) this.startBuffering();
    this.fn.throttler.enqueue(this, this.remainingMs(), this.fn.timeoutMs);
  }

  grant(replica: Replica): void {
    if (this.done) {
      this.fn.throttler.release(replica);
      return;
    }
    this.forward(replica);
  }

  fail(err: ActivatorError): void {
    if (this.done) return;
    this.done = true;
    if (this.queueSlot) this.fn.throttler.cancel(this);
    this.stopReadingBody();
    this.upstream?.destroy();
    if (err.status >= 500) this.deps.log.debug({ fn: this.fn.id, code: err.code, err: err.cause ?? err.message }, 'request failed');
    // An unread body would otherwise be read and thrown away to keep the connection.
    sendError(this.res, err, !this.req.complete);
  }

  private forward(replica: Replica): void {
    this.replica = replica;
    const attempt = ++this.attempt;
    let body: Readable | undefined;
    if (this.chunks) body = this.replayBody(this.chunks);
    else if (this.out.bodyLength !== 0) body = this.req;
    // Chunked bodies have no declared size: count them as they are sent, unless they are
    // counted as they are read already (since they were queued). Not with a 'data'
    // listener here: that would start the body flowing before the transport reads it.
    const countSent = this.out.bodyLength < 0 && !this.bodyListener;
    const upstream = this.deps.proxy.forward(this.res, {
      target: replica.target,
      method: this.out.method,
      path: this.out.path,
      headers: this.out.headers,
      body,
      // The function's timeout covers waiting and running; what is left bounds how long
      // the replica may stay silent.
      timeoutMs: this.remainingMs(),
      listener: this,
      attempt,
      countBody: countSent,
    });
    // A request the transport refused at once has failed (or been retried) by now.
    if (attempt === this.attempt && !this.done) this.upstream = upstream;
  }

  onBodySent(chunk: Buffer): void {
    this.onBodyChunk(chunk);
  }

  onUpstreamTimeout(attempt: number): void {
    if (attempt !== this.attempt || this.done) return;
    const replica = this.replica?.address ?? 'unknown';
    this.fail(new ActivatorError('upstream_timeout', `function ${this.fn.id}: replica ${replica} did not answer within the function's timeout of ${this.fn.timeoutMs / 1000}s`));
  }

  onUpstreamError(err: Error, attempt: number, written: boolean): void {
    if (attempt !== this.attempt || this.done) return;
    const replica = this.replica;
    if (!replica) return;
    if (
      attempt === 1 &&
      !this.res.headersSent &&
      !this.res.destroyed &&
      mayRetry(written, this.out.method, errnoCode(err), this.fn.retryIdempotent) &&
      this.bodyReplayable(written)
    ) {
      this.deps.log.debug({ fn: this.fn.id, replica: replica.address, code: errnoCode(err), written }, 'retrying on another replica');
      this.upstream = undefined;
      this.releaseReplica(FAILED_CONNECTION);
      this.avoid = replica;
      const next = this.fn.throttler.tryAcquire(replica, this.hashKey);
      if (next) this.forward(next);
      else this.fn.throttler.enqueue(this, this.remainingMs(), this.fn.timeoutMs);
      return;
    }
    this.fail(transportError(this.fn.id, replica.address, err));
  }

  private onClose(): void {
    const finished = this.res.writableFinished;
    if (this.queueSlot) this.fn.throttler.cancel(this);
    if (!finished) this.upstream?.destroy(); // the client went away: stop the replica's work too
    this.done = true;
    this.stopReadingBody();
    // Not finished: the client went away, or the replica cut its answer short; neither is
    // told apart here, so neither counts for outlier detection.
    this.releaseReplica(finished ? this.res.statusCode : 0);
    this.fn.window.depart(this.deps.clock.now());
    this.fn.count(finished ? this.res.statusCode : CLIENT_CLOSED);
  }

  private releaseReplica(status: number): void {
    const r = this.replica;
    if (!r) return;
    this.replica = undefined;
    this.fn.throttler.release(r, status);
  }

  /**
   * No body, a body read completely while queued, or a streamed body the transport never
   * started on (`written` false: undici reads the body only after writing the head).
   */
  private bodyReplayable(written: boolean): boolean {
    if (this.out.bodyLength === 0) return true;
    if (this.chunks !== undefined) return this.bodyEnded;
    return !written;
  }

  private startBuffering(): void {
    this.buffering = true;
    this.chunks = [];
    // Content-Length bodies reserve their size up front, so an oversized one is refused
    // before a byte is read; chunked ones grow as they arrive.
    if (this.out.bodyLength > 0) this.bytes = this.out.bodyLength;
    this.listenToBody();
    this.req.once('end', () => {
      this.bodyEnded = true;
    });
  }

  private listenToBody(): void {
    if (this.bodyListener) return;
    this.bodyListener = (chunk) => this.onBodyChunk(chunk);
    this.req.on('data', this.bodyListener);
  }

  private onBodyChunk(chunk: Buffer): void {
    if (this.done) return;
    this.bodyBytes += chunk.length;
    if (this.bodyBytes > this.deps.maxBodyBytes) {
      this.fail(new ActivatorError('body_too_large', `function ${this.fn.id}: request body is larger than the limit of ${this.deps.maxBodyBytes} bytes`));
      return;
    }
    if (!this.buffering || !this.chunks) return;
    this.chunks.push(chunk);
    if (this.out.bodyLength < 0 && !this.fn.throttler.grow(this, chunk.length)) {
      this.fail(this.fn.throttler.queueFullError());
    }
  }

  /** A stream of what was read while queued, followed by whatever is still to come. */
  private replayBody(chunks: Buffer[]): Readable {
    this.buffering = false;
    const body = new PassThrough();
    for (const c of chunks) body.write(c);
    if (this.bodyEnded) {
      body.end();
    } else {
      // Incomplete: not replayable, so no reason to keep holding what was read.
      this.chunks = undefined;
      this.req.pipe(body);
    }
    return body;
  }

  private stopReadingBody(): void {
    this.buffering = false;
    if (this.bodyListener) {
      this.req.off('data', this.bodyListener);
      this.bodyListener = undefined;
    }
  }

  private remainingMs(): number {
    return this.fn.timeLeftMs(this.arrivedAt, this.deps.clock.now());
  }
}
