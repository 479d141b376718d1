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
// Connections, not pools: an undici Pool costs ~19 KB even with one connection (its wait
// queue preallocates 2,048 slots, 16 KB, which a pool with no connection cap never uses;
// it opens a second, unconnected Client as soon as the first is busy; it builds its own
// connector), so with 10,000 functions served once the pools were 190 MB of the
// activator's 290 MB of heap. Here a replica's connections are a plain array of Clients
// sharing one connector, a replica with no open connection has no entry at all, and
// connections nobody uses are closed: idle past the keep-alive timeout, and past
// `maxIdleConnections` the least recently used idle one, as Knative's activator bounds
// its idle proxy connections (MaxIdleProxyConns, 1,000).
//
// Connections are keyed by the replica's ProxyTarget, one per Replica object: endpoint ids
// are unique only within a function, and a replica that moves address is a new Replica.
import type { Readable } from 'node:stream';
import { buildConnector, Client, errors, type Dispatcher } from 'undici';
import { hostPort, type ProxyTarget } from './breaker.js';
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
  /** Hears how it went; told `attempt` back so that it can ignore an earlier attempt's news. */
  listener: ForwardListener;
  attempt: number;
  /** Tell the listener of each chunk of the request body as it is written to the replica. */
  countBody: boolean;
}

/**
 * What the caller hears of a forwarded request. An object with methods (the caller
 * itself) rather than callbacks per request: three closures fewer on every request.
 */
export interface ForwardListener {
  /**
   * A transport error before or while talking to the replica. `written` is false when no
   * byte of the request was written: undici never started it (see Exchange.started).
   */
  onUpstreamError(err: Error, attempt: number, written: boolean): void;
  onUpstreamTimeout(attempt: number): void;
  onBodySent(chunk: Buffer): void;
}

/** What a caller may do with a forwarded request: cut it. Narrow so the transport can change. */
export interface Upstream {
  destroy(err?: Error): void;
}

export interface ReplicaProxyOptions {
  /**
   * Idle keep-alive connections are closed after this long when the replica does not say
   * how long it keeps them (`Keep-Alive: timeout=N`). Below node's default server
   * keepAliveTimeout (5 s). Default 4 s.
   */
  keepAliveTimeoutMs?: number;
  /**
   * A connection idle for this long is closed even if the replica would keep it longer.
   * When the replica says how long it keeps them, we close a second before that (the kfn
   * runtime says 65 s), so that we rarely reuse a connection as it closes it. Default 60 s.
   */
  idleConnectionMs?: number;
  /**
   * Idle connections kept over all replicas; past this, the least recently used one is
   * closed. An idle connection costs ~5 KB of heap (socket, parser, Client), so a burst of
   * one request to each of 10,000 functions would otherwise pin ~50 MB for a minute.
   * Connections in use count against nothing: the throttler bounds those. Default 1,000.
   */
  maxIdleConnections?: number;
  /** Connecting to a replica may take this long. */
  connectTimeoutMs?: number;
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * One keep-alive connection to a replica, given one request at a time. A Client with our
 * fields on it rather than a wrapper, so that one listener function serves all of them.
 */
class Connection extends Client {
  /** A request is on it. */
  busy = false;
  /** Closed or closing: never given a request again. */
  retired = false;

  constructor(
    readonly owner: ReplicaProxy,
    readonly target: ProxyTarget,
    options: Client.Options,
  ) {
    super(`http://${hostPort(target)}`, options);
  }
}

/**
 * The socket closed. Idle, it timed out or the replica closed it. Busy, the request on it
 * failed (undici fails it before saying so) and its release retired the connection already,
 * unless a retry took the connection again: then it reconnects for that request.
 */
function onDisconnect(this: Connection): void {
  if (!this.busy) this.owner.retire(this);
}

export class ReplicaProxy {
  /** The connections of each replica that has one. */
  private readonly connections = new Map<ProxyTarget, Connection[]>();
  /** Connections with nothing on them, least recently used first. */
  private readonly idle = new Set<Connection>();
  private readonly maxIdle: number;
  private readonly clientOptions: Client.Options;
  private closed = false;

  constructor(opts: ReplicaProxyOptions = {}) {
    const idleMs = opts.idleConnectionMs ?? 60_000;
    this.maxIdle = opts.maxIdleConnections ?? 1000;
    this.clientOptions = {
      // One connector for all: undici builds one per Client otherwise, each with a TLS
      // session cache that plain HTTP never uses.
      connect: buildConnector({ timeout: opts.connectTimeoutMs ?? 10_000 }),
      pipelining: 1,
      keepAliveTimeout: Math.min(opts.keepAliveTimeoutMs ?? 4000, idleMs),
      keepAliveMaxTimeout: idleMs,
      keepAliveTimeoutThreshold: 1000,
      // Each request sets its own (its function's timeout, less the time it waited).
      headersTimeout: 0,
      bodyTimeout: 0,
    };
  }

  /** Sends the request to `f.target` and relays the answer to `res`. */
  forward(res: ResponseSink, f: Forward): Upstream {
    if (this.closed) {
      // After close() the request still gets an answer (a 502), and nothing is opened.
      const refused = new Exchange(res, f, undefined);
      refused.onResponseError(undefined, new errors.ClientDestroyedError());
      return refused;
    }
    const conn = this.acquire(f.target);
    const exchange = new Exchange(res, f, conn);
    const opts: Dispatcher.DispatchOptions = {
      method: f.method,
      path: f.path,
      headers: f.headers,
      body: f.body ?? null,
      headersTimeout: f.timeoutMs,
      bodyTimeout: f.timeoutMs,
    };
    // A request that was refused (invalid header) fails inside dispatch(), through the
    // handler: the caller sees onError either way.
    conn.dispatch(opts, exchange);
    return exchange;
  }

  /**
   * Closes the connections of a replica that left: idle ones now, busy ones as their
   * requests end, so requests in flight on it finish.
   */
  forget(target: ProxyTarget): void {
    const list = this.connections.get(target);
    if (!list) return;
    for (const conn of [...list]) this.retire(conn);
  }

  /** Cuts every connection, in flight or idle; call after in-flight requests are done. */
  async close(): Promise<void> {
    this.closed = true;
    const all: Connection[] = [];
    for (const list of this.connections.values()) all.push(...list);
    this.connections.clear();
    this.idle.clear();
    await Promise.all(
      all.map((conn) => {
        conn.retired = true;
        return conn.destroy().catch(() => {});
      }),
    );
  }

  /** The request on `conn` ended: keep the connection for the next one, or close it. */
  release(conn: Connection, reusable: boolean): void {
    conn.busy = false;
    if (conn.retired) return;
    // A failed request leaves its connection cut or in doubt; a new one is cheap.
    if (!reusable) return this.retire(conn);
    this.idle.add(conn);
    if (this.idle.size > this.maxIdle) {
      const oldest = this.idle.values().next().value;
      if (oldest) this.retire(oldest);
    }
  }

  /** Takes `conn` out of use for good: closed now if idle, else once its request ends. */
  retire(conn: Connection): void {
    if (conn.retired) return;
    conn.retired = true;
    this.idle.delete(conn);
    const list = this.connections.get(conn.target);
    if (list) {
      const i = list.indexOf(conn);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.connections.delete(conn.target);
    }
    (conn.busy ? conn.close() : conn.destroy()).catch(() => {});
  }

  /** A connection to `target` for one request: an idle one if there is one, else a new one. */
  private acquire(target: ProxyTarget): Connection {
    let list = this.connections.get(target);
    if (list) {
      for (let i = 0; i < list.length; i++) {
        const conn = list[i] as Connection;
        if (conn.busy) continue;
        conn.busy = true;
        this.idle.delete(conn);
        return conn;
      }
    } else {
      list = [];
      this.connections.set(target, list);
    }
    // No cap: the throttler bounds requests in flight per replica (containerConcurrency).
    const conn = new Connection(this, target, this.clientOptions);
    conn.on('disconnect', onDisconnect);
    conn.busy = true;
    list.push(conn);
    return conn;
  }
}

/**
 * One request's trip to a replica and its answer's back to the client, as an undici 8
 * dispatch handler (controller style): undici hands it a controller per request, which it
 * keeps to cut the request and to pause and resume the response while the client is slow.
 * undici parses each response head into an object for us too; we relay the raw list the
 * controller carries instead, to keep the replica's header spelling and order.
 */
class Exchange implements Upstream, Dispatcher.DispatchHandler {
  /** undici's handle on this request, once it has a connection. */
  private controller: Dispatcher.DispatchController | undefined;
  /** destroy() came before the request had a connection: cut it as soon as it gets one. */
  private cutWith: Error | undefined;
  /**
   * undici started the request: it calls onRequestStart on a connected socket right before
   * writing the request head (client-h1 writeH1), and never before. A request failed before
   * that had not a byte written: a refused or timed-out connect, or a kept-alive socket
   * found closed (undici then keeps the request pending and connects again).
   */
  private started = false;
  /** The response head was relayed to the client. */
  private relaying = false;
  private finished = false;
  private readonly onDrain = (): void => this.controller?.resume();

  constructor(
    private readonly res: ResponseSink,
    private readonly f: Forward,
    /** The connection it is on, until it ends. */
    private conn: Connection | undefined,
  ) {}

  destroy(err?: Error): void {
    if (this.finished) return;
    const reason = err ?? new Error('request cut by the activator');
    if (this.controller) this.controller.abort(reason);
    else this.cutWith ??= reason;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.started = true;
    if (this.cutWith) controller.abort(this.cutWith);
    else this.controller = controller;
  }

  onBodySent(chunk: Buffer): void {
    if (this.f.countBody) this.f.listener.onBodySent(chunk);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, _headers: unknown, statusMessage?: string): void {
    // 1xx (103 Early Hints) are optional hints: not relayed.
    if (statusCode < 200) return;
    const res = this.res;
    if (res.destroyed) {
      controller.abort(new Error('the client went away'));
      return;
    }
    // Throws on a header node will not send; undici then fails the request (a 502).
    res.writeHead(statusCode, statusMessage ?? '', responseHeaders(rawList(controller.rawHeaders)));
    this.relaying = true;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.res.write(chunk)) return;
    controller.pause();
    this.res.once('drain', this.onDrain);
  }

  onResponseEnd(controller: Dispatcher.DispatchController): void {
    this.finished = true;
    this.releaseConnection(true);
    const trailers = rawList(controller.rawTrailers);
    if (trailers.length > 0) relayTrailers(this.res, trailers);
    this.res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, err: Error): void {
    if (this.finished) return;
    this.finished = true;
    // Before the caller hears of it: a retry must not be given this connection.
    this.releaseConnection(false);
    this.res.off('drain', this.onDrain);
    // The replica cut the response short: so must we, or the client would take it as whole.
    if (this.relaying) this.res.destroy();
    const f = this.f;
    if (TIMEOUT_CODES.has((err as { code?: string }).code ?? '')) f.listener.onUpstreamTimeout(f.attempt);
    else f.listener.onUpstreamError(err, f.attempt, this.started);
  }

  private releaseConnection(reusable: boolean): void {
    const conn = this.conn;
    if (!conn) return;
    this.conn = undefined;
    conn.owner.release(conn, reusable);
  }
}

/** The raw header list undici keeps on the controller (an HTTP/1.1 Client's is always a list). */
function rawList(raw: Dispatcher.DispatchController['rawHeaders']): readonly (Buffer | string)[] {
  return Array.isArray(raw) ? raw : [];
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
