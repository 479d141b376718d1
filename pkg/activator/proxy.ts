// Forwarding to replicas over undici: one connection pool per replica (keep-alive, one
// request per connection at a time), driven through `dispatch()` with a handler, which is
// the lowest layer undici offers. Bodies stream both ways: the request body is written to
// the replica as it arrives (or replayed from memory when it was buffered while queued),
// and the response is relayed as it arrives, with backpressure both ways.
//
// Why undici and not `http.request`: measured with wrk (32 keep-alive connections, the
// hello replica, alternating runs), the activator process spent a median 155-210 µs of
// CPU per request on http.request (ClientRequest, the agent's socket bookkeeping, an
// IncomingMessage stream per response) and 110-170 µs on undici; a bare undici relay
// with no routing at all, about 100 µs. Why a dispatch handler and not
// `request()`/`stream()`: those add a Readable or a Writable per request, a promise or
// callback, and a parse of the response head into an object, which a relay does without.
//
// The pools are keyed by the replica's ProxyTarget, one per Replica object: endpoint ids
// are unique only within a function, and a replica that moves address is a new Replica.
import type { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import type { ProxyTarget } from './breaker.js';
import { responseHeaders } from './headers.js';
import type { ResponseSink } from './sink.js';

export interface Forward {
  target: ProxyTarget;
  method: string;
  /** Origin-form path and query for the replica. */
  path: string;
  /**
   * Raw header list for the replica (see inspectRequest). Host and Content-Length are
   * taken from it; an unsized body is framed as chunked by the transport.
   */
  headers: string[];
  /**
   * Where the body comes from: `req` itself, a replay of a body buffered while queued, or
   * nothing (no body).
   */
  body: Readable | undefined;
  /**
   * The replica may stay silent this long before `onTimeout`: for its response head
   * (from the start of the request, and again from the end of its body, so a body that
   * trickles in for longer than this is cut too), and between response body chunks.
   */
  timeoutMs: number;
  /** A transport error before or while talking to the replica. */
  onError: (err: Error) => void;
  onTimeout: () => void;
  /** Each chunk of the request body as it is written to the replica. */
  onBodySent?: (chunk: Buffer) => void;
}

/** What a caller may do with a forwarded request: cut it. Narrow so the transport can change. */
export interface Upstream {
  destroy(err?: Error): void;
}

export interface ReplicaProxyOptions {
  /**
   * Idle keep-alive connections are closed after this long when the replica does not say
   * how long it keeps them (`Keep-Alive: timeout=N`); when it does, a second before that
   * (the kfn runtime says 65 s), so that we rarely reuse a connection as it closes it.
   * Below node's default server keepAliveTimeout (5 s).
   */
  keepAliveTimeoutMs?: number;
  /** Connecting to a replica may take this long. */
  connectTimeoutMs?: number;
  /**
   * A replica's pool unused for this long (and with nothing in flight) is closed. An
   * undici Pool costs ~20-30 KB even when idle, so with thousands of functions routed,
   * keeping the pools of replicas nobody calls would dominate the activator's memory.
   * A later request simply opens a new pool. Default 60 s.
   */
  idlePoolMs?: number;
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

export class ReplicaProxy {
  private readonly pools = new Map<ProxyTarget, Pool>();
  /** Pools used since the last sweep. */
  private readonly used = new Set<Pool>();
  private readonly poolOptions: Pool.Options;
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  constructor(opts: ReplicaProxyOptions = {}) {
    this.sweeper = setInterval(() => this.sweepIdlePools(), opts.idlePoolMs ?? 60_000);
    this.sweeper.unref();
    this.poolOptions = {
      // No cap: the throttler bounds requests in flight per replica (containerConcurrency).
      connections: null,
      pipelining: 1,
      keepAliveTimeout: opts.keepAliveTimeoutMs ?? 4000,
      keepAliveTimeoutThreshold: 1000,
      connectTimeout: opts.connectTimeoutMs ?? 10_000,
      // Each request sets its own (its function's timeout, less the time it waited).
      headersTimeout: 0,
      bodyTimeout: 0,
    };
  }

  /** Sends the request to `f.target` and relays the answer to `res`. */
  forward(res: ResponseSink, f: Forward): Upstream {
    const exchange = new Exchange(res, f);
    const opts: Dispatcher.DispatchOptions = {
      method: f.method,
      path: f.path,
      headers: f.headers,
      body: f.body ?? null,
      headersTimeout: f.timeoutMs,
      bodyTimeout: f.timeoutMs,
    };
    // A request that was refused (invalid header, closed pool) fails inside dispatch(),
    // through the handler: the caller sees onError either way.
    const pool = this.poolFor(f.target);
    this.used.add(pool);
    pool.dispatch(opts, exchange);
    return exchange;
  }

  /**
   * Closes the pool of a replica that left: connections close as their requests end, so
   * requests in flight on it finish.
   */
  forget(target: ProxyTarget): void {
    const pool = this.pools.get(target);
    if (!pool) return;
    this.pools.delete(target);
    this.used.delete(pool);
    pool.close().catch(() => {});
  }

  /** Cuts every connection, in flight or idle; call after in-flight requests are done. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    this.used.clear();
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.destroy().catch(() => {})));
  }

  private sweepIdlePools(): void {
    for (const [target, pool] of this.pools) {
      const { running, pending } = pool.stats;
      if (!this.used.has(pool) && running === 0 && pending === 0) this.forget(target);
    }
    this.used.clear();
  }

  private poolFor(target: ProxyTarget): Pool {
    let pool = this.pools.get(target);
    if (pool) return pool;
    pool = new Pool(target.origin, this.poolOptions);
    // After close() the request still gets an answer (ClientDestroyedError, a 502), and
    // nothing is left open.
    if (this.closed) void pool.destroy();
    else this.pools.set(target, pool);
    return pool;
  }
}

/**
 * One request's trip to a replica and its answer's back to the client, as an undici
 * dispatch handler. These callbacks are the protocol undici 7's Client itself speaks: its
 * controller-style handlers (onRequestStart, onResponseStart...) are adapted onto them
 * with an extra object and a parse of the response head into a header object per
 * request. undici 8 (Node >= 22.19) has only the controller style: port this class then.
 */
class Exchange implements Upstream, Dispatcher.DispatchHandler {
  /** undici's way to cut this request, once it has a connection. */
  private abortRequest: ((err?: Error) => void) | undefined;
  /** destroy() came before the request had a connection: cut it as soon as it gets one. */
  private cutWith: Error | undefined;
  /** The response head was relayed to the client. */
  private relaying = false;
  private finished = false;
  private resume: (() => void) | undefined;
  private readonly onDrain = (): void => this.resume?.();

  constructor(
    private readonly res: ResponseSink,
    private readonly f: Forward,
  ) {}

  destroy(err?: Error): void {
    if (this.finished) return;
    const reason = err ?? new Error('request cut by the activator');
    if (this.abortRequest) this.abortRequest(reason);
    else this.cutWith ??= reason;
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.cutWith) abort(this.cutWith);
    else this.abortRequest = abort;
  }

  /** undici passes the chunk written (its typings say a size). */
  onBodySent(chunk: Buffer | number): void {
    if (typeof chunk !== 'number') this.f.onBodySent?.(chunk);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    // 1xx (103 Early Hints) are optional hints: not relayed.
    if (statusCode < 200) return true;
    const res = this.res;
    if (res.destroyed) {
      this.destroy();
      return false;
    }
    this.resume = resume;
    // Throws on a header node will not send; undici then fails the request (a 502).
    res.writeHead(statusCode, statusText, responseHeaders(latin1(rawHeaders)));
    this.relaying = true;
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.res.write(chunk)) return true;
    this.res.once('drain', this.onDrain);
    return false;
  }

  onComplete(trailers: Buffer[] | string[] | null): void {
    this.finished = true;
    if (trailers && trailers.length > 0) relayTrailers(this.res, trailers);
    this.res.end();
  }

  onError(err: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.res.off('drain', this.onDrain);
    // The replica cut the response short: so must we, or the client would take it as whole.
    if (this.relaying) this.res.destroy();
    if (TIMEOUT_CODES.has((err as { code?: string }).code ?? '')) this.f.onTimeout();
    else this.f.onError(err);
  }
}

/** Header bytes as node's own parser hands them over: one char per byte. */
function latin1(raw: readonly (Buffer | string)[]): string[] {
  const out = new Array<string>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i] as Buffer | string;
    out[i] = typeof v === 'string' ? v : v.toString('latin1');
  }
  return out;
}

function relayTrailers(res: ResponseSink, raw: readonly (Buffer | string)[]): void {
  const list = latin1(raw);
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < list.length; i += 2) pairs.push([list[i] as string, list[i + 1] as string]);
  try {
    // Sent only when the response to the client is chunked (HTTP/1.1, unsized).
    res.addTrailers(pairs);
  } catch {
    // A trailer node will not write (invalid characters): the body itself is intact.
  }
}
