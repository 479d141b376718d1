// Forwarding to one replica over a keep-alive agent. Bodies stream both ways: the request
// body is piped to the replica as it arrives (or replayed from memory when it was
// buffered while queued) and the response is relayed as it arrives, with backpressure
// both ways.
//
// Plain `http.request`, not http-proxy. Measured with wrk (32 keep-alive connections),
// http-proxy 1.18 added about 40 µs of CPU per request (~13% of the activator's) over the
// same code on http.request, and two of its passes are wrong for a transparent proxy:
// `urlJoin` rewrites paths (`//a` becomes `/a`), and `deleteLength` sets Content-Length: 0
// on a chunked DELETE/OPTIONS while still sending the body, which the replica then parses
// as a second request on the keep-alive connection.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { ProxyTarget } from './breaker.js';
import { responseHeaders } from './headers.js';

export interface Forward {
  target: ProxyTarget;
  method: string;
  /** Origin-form path and query for the replica. */
  path: string;
  /** Raw header list for the replica (see inspectRequest). */
  headers: string[];
  /**
   * Where the body comes from: `req` itself, a replay of a body buffered while queued, or
   * nothing (no body: the request is ended at once, without a pipe).
   */
  body: Readable | undefined;
  /** The replica may stay silent this long before `onTimeout`. */
  timeoutMs: number;
  /** A transport error before or while talking to the replica. */
  onError: (err: Error) => void;
  onTimeout: () => void;
}

/** What a caller may do with a forwarded request: cut it. Narrow so the transport can change. */
export interface Upstream {
  destroy(err?: Error): void;
}

export interface ReplicaProxyOptions {
  /** Idle keep-alive sockets kept per replica. */
  maxFreeSockets?: number;
  /**
   * Idle keep-alive sockets are closed after this long. Below node's default server
   * keepAliveTimeout (5 s) so the replica rarely closes a socket we are about to reuse.
   */
  freeSocketTimeoutMs?: number;
}

export class ReplicaProxy {
  readonly agent: http.Agent;

  constructor(opts: ReplicaProxyOptions = {}) {
    this.agent = new http.Agent({
      keepAlive: true,
      keepAliveMsecs: 1000,
      maxSockets: Infinity,
      maxFreeSockets: opts.maxFreeSockets ?? 256,
      timeout: opts.freeSocketTimeoutMs ?? 4000,
      // Reuse the most recently freed socket: a few warm sockets instead of many cold ones.
      scheduling: 'lifo',
    });
  }

  /** Sends the request to `f.target` and relays the answer to `res`. */
  forward(res: ServerResponse, f: Forward): Upstream {
    const t = f.target;
    const proxyReq = http.request({ host: t.host, port: t.port, method: f.method, path: f.path, headers: f.headers, agent: this.agent, timeout: f.timeoutMs });
    proxyReq.on('error', f.onError);
    proxyReq.on('timeout', f.onTimeout);
    proxyReq.on('response', (proxyRes) => relayResponse(proxyRes, res));
    if (f.body) f.body.pipe(proxyReq);
    else proxyReq.end();
    return proxyReq;
  }

  /** Closes pooled sockets; call after in-flight requests are done. */
  close(): void {
    this.agent.destroy();
  }

  /** Closes idle pooled sockets to a replica that left (the rest close as their requests end). */
  forgetTarget(target: ProxyTarget): void {
    const free = this.agent.freeSockets[`${target.host}:${target.port}:`];
    if (free) for (const socket of [...free]) socket.destroy();
  }
}

/** Like `pipe`, with a third of the listeners: this runs once per request. */
function relayResponse(proxyRes: IncomingMessage, res: ServerResponse): void {
  if (res.destroyed) {
    proxyRes.destroy();
    return;
  }
  res.writeHead(proxyRes.statusCode ?? 502, proxyRes.statusMessage, responseHeaders(proxyRes.rawHeaders));
  // The replica cut the response short: so must we, or the client would take it as whole.
  proxyRes.on('error', () => res.destroy());
  proxyRes.on('data', (chunk: Buffer) => {
    if (!res.write(chunk)) {
      proxyRes.pause();
      res.once('drain', () => proxyRes.resume());
    }
  });
  proxyRes.on('end', () => res.end());
}
