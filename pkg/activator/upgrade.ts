// Upgrade requests (WebSockets and any other protocol switch) through the activator. They
// arrive on node's 'upgrade' event, never on the plain-HTTP fast path (proxy.ts), and take
// the same steps as a request: route, the function's queue while it has no free replica
// (bounded in count and by its timeout; a cold start pokes the autoscaler), one slot of a
// replica's containerConcurrency, then the tunnel, by http-proxy-3.
//
// Why http-proxy-3 and not http-proxy: http-proxy 1.18.1 (its last release, 2020) calls
// util._extend, runtime-deprecated since Node 22 (DEP0060): on Node 24 every activator
// prints a DeprecationWarning at its first upgrade, and under --throw-deprecation the
// upgrade throws (tried). http-proxy-3 is its API-compatible, maintained rewrite.
//
// An open tunnel holds its slot while it lives, so it counts in the concurrency the
// autoscaler sees and a replica at containerConcurrency 1 gets no second WebSocket until
// the first closes. A replica that leaves (scale-down, deletion) keeps its tunnels for at
// most the function's timeoutSeconds, then they are cut: Knative keeps a draining pod until
// its connections end or its drain timeout, and timeoutSeconds is the bound a person set.
// While the tunnel is being set up (waiting, then the replica's answer to the switch) the
// request is bounded by what is left of the function's timeout, as any request; once open
// it has no time bound of its own.
//
// Errors before the tunnel opens are HTTP responses with kfn's envelope, written raw on the
// socket (node's HTTP machinery has let go of it); after, the only signal left is closing.
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ProxyServer } from 'http-proxy-3';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import { rawErrorResponse } from '../shared/http-error.js';
import type { Replica } from './breaker.js';
import { ActivatorError, transportError } from './errors.js';
import type { QueueSlot } from './queue.js';
import { CLIENT_CLOSED, type FunctionState } from './state.js';
import type { Waiter } from './throttler.js';

/** Bytes a client may send before the replica agreed to switch (a WebSocket client sends none). */
const MAX_EARLY_BYTES = 64 * 1024;

export class UpgradeProxy {
  private readonly proxy: ProxyServer;
  /** Open and opening tunnels per replica, for draining when the replica leaves. */
  private readonly tunnels = new Map<Replica, Set<UpgradeCall>>();
  private readonly calls = new WeakMap<IncomingMessage, UpgradeCall>();

  constructor(
    /** @internal Read by its calls. */
    readonly clock: Clock,
    /** @internal */
    readonly log: Logger,
  ) {
    // agent false: a connection of its own per tunnel (it never returns to a pool);
    // prependPath false: the path is the function's own, set on the request.
    this.proxy = new ProxyServer({ agent: false, prependPath: false });
    // The library re-emits client socket errors here; without a listener it would throw.
    this.proxy.on('error', (err) => this.log.debug({ err }, 'upgrade tunnel error'));
    this.proxy.on('proxyReqWs', (proxyReq, req) => this.calls.get(req)?.onProxyRequest(proxyReq));
  }

  /** Takes over `socket`: queues or tunnels the request, and answers every failure on it. */
  start(fn: FunctionState, req: IncomingMessage, socket: Duplex, head: Buffer, path: string, headers: Record<string, string>): void {
    const call = new UpgradeCall(this, fn, req, socket as Socket, head, path, headers, this.clock.now());
    this.calls.set(req, call);
    call.start();
  }

  /** `replica` left: its tunnels may run `ms` more, then they are cut. */
  drain(replica: Replica, ms: number): void {
    const open = this.tunnels.get(replica);
    if (!open) return;
    for (const call of open) call.cutAfter(ms);
  }

  /** Cuts every tunnel now (the activator is stopping, past its drain time). */
  closeAll(): void {
    for (const open of this.tunnels.values()) for (const call of open) call.cut();
  }

  get open(): number {
    let n = 0;
    for (const s of this.tunnels.values()) n += s.size;
    return n;
  }

  /** @internal */
  track(replica: Replica, call: UpgradeCall): void {
    let set = this.tunnels.get(replica);
    if (!set) this.tunnels.set(replica, (set = new Set()));
    set.add(call);
  }

  /** @internal */
  untrack(replica: Replica, call: UpgradeCall): void {
    const set = this.tunnels.get(replica);
    if (!set) return;
    set.delete(call);
    if (set.size === 0) this.tunnels.delete(replica);
  }

  /** @internal */
  tunnel(call: UpgradeCall, req: IncomingMessage, socket: Socket, head: Buffer, replica: Replica): void {
    this.proxy.ws(req, socket, head, { target: { host: replica.host, port: replica.port } }, (err) => call.onUpstreamError(err));
  }

}

class UpgradeCall implements Waiter {
  bytes = 0;
  queueSlot: QueueSlot | undefined = undefined;
  avoid: Replica | undefined = undefined;
  waitTimer: NodeJS.Timeout | undefined = undefined;

  private replica: Replica | undefined;
  private proxyReq: ClientRequest | undefined;
  private replicaSocket: Duplex | undefined;
  /** Status counted when the socket closes. */
  private status = CLIENT_CLOSED;
  /** What the client sent after its request head while the request waited. */
  private early: Buffer[] = [];
  private earlyBytes = 0;
  private readonly onEarlyData = (chunk: Buffer): void => {
    this.earlyBytes += chunk.length;
    if (this.earlyBytes > MAX_EARLY_BYTES) this.fail(new ActivatorError('bad_request', `more than ${MAX_EARLY_BYTES} bytes sent before the protocol switch was agreed`));
    else this.early.push(chunk);
  };
  private readonly onEarlyEnd = (): void => void this.socket.destroy();
  /** The replica answered the switch (101 or otherwise); bytes now belong to it. */
  private answered: number | undefined;
  /** We wrote our own error response. */
  private failed = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly owner: UpgradeProxy,
    private readonly fn: FunctionState,
    private readonly req: IncomingMessage,
    private readonly socket: Socket,
    private readonly head: Buffer,
    private readonly path: string,
    private readonly headers: Record<string, string>,
    private readonly arrivedAt: number,
  ) {}

  start(): void {
    // A reset client socket must not take the process down; 'close' follows it.
    this.socket.on('error', () => {});
    this.socket.once('close', () => this.onClose());
    const replica = this.fn.throttler.tryAcquire();
    if (replica) {
      this.grant(replica);
      return;
    }
    // Read while waiting, so that a client that goes away is seen (its FIN) and its queue
    // place given up; what it sends is kept for the replica.
    this.socket.on('data', this.onEarlyData);
    // Node's HTTP server sockets allow half-open connections: a FIN alone closes nothing.
    this.socket.once('end', this.onEarlyEnd);
    this.fn.throttler.enqueue(this, this.remainingMs(), this.fn.timeoutMs);
  }

  grant(replica: Replica): void {
    if (this.closed || this.failed) {
      this.fn.throttler.release(replica);
      return;
    }
    this.replica = replica;
    this.owner.track(replica, this);
    this.req.url = this.path;
    this.req.headers = this.headers;
    // Until the tunnel pipes it, nothing more is read: bytes read with no listener are lost.
    this.socket.off('data', this.onEarlyData);
    this.socket.off('end', this.onEarlyEnd);
    this.socket.pause();
    const head = this.early.length === 0 ? this.head : Buffer.concat([this.head, ...this.early]);
    this.early = [];
    // The replica's answer to the switch is bounded by what is left of the function's timeout.
    this.timer = setTimeout(() => this.onHandshakeTimeout(), this.remainingMs());
    this.owner.tunnel(this, this.req, this.socket, head, replica);
  }

  fail(err: ActivatorError): void {
    if (this.failed || this.closed) return;
    this.failed = true;
    if (this.queueSlot) this.fn.throttler.cancel(this);
    clearTimeout(this.timer);
    this.proxyReq?.destroy();
    if (err.status >= 500) this.owner.log.debug({ fn: this.fn.id, code: err.code, err: err.cause ?? err.message }, 'upgrade failed');
    this.status = err.status;
    if (this.socket.writable) this.socket.end(rawErrorResponse(err.code, err.message));
    else this.socket.destroy();
  }

  onProxyRequest(proxyReq: ClientRequest): void {
    this.proxyReq = proxyReq;
    proxyReq.once('upgrade', (res: IncomingMessage, replicaSocket: Duplex) => {
      this.replicaSocket = replicaSocket;
      this.onAnswer(res.statusCode ?? 101);
    });
    proxyReq.once('response', (res: IncomingMessage) => this.onAnswer(res.statusCode ?? 0));
  }

  onUpstreamError(err: Error): void {
    if (this.answered !== undefined || this.failed || this.closed) return;
    this.fail(transportError(this.fn.id, this.replica?.address ?? 'unknown', err));
  }

  /** The replica left: the tunnel may run `ms` more. */
  cutAfter(ms: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.cut(), ms);
  }

  cut(): void {
    if (this.answered === undefined && !this.failed) {
      this.fail(new ActivatorError('replica_unavailable', `function ${this.fn.id}: replica ${this.replica?.address ?? 'unknown'} left before it answered the upgrade`));
      return;
    }
    this.replicaSocket?.destroy();
    this.socket.destroy();
  }

  private onAnswer(status: number): void {
    if (this.answered !== undefined) return;
    this.answered = status;
    this.status = status;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private onHandshakeTimeout(): void {
    this.timer = undefined;
    if (this.answered !== undefined) return;
    this.fail(new ActivatorError('upstream_timeout', `function ${this.fn.id}: replica ${this.replica?.address ?? 'unknown'} did not answer the upgrade within the function's timeout of ${this.fn.timeoutMs / 1000}s`));
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.queueSlot) this.fn.throttler.cancel(this);
    clearTimeout(this.timer);
    this.socket.off('data', this.onEarlyData);
    if (this.answered === undefined) this.proxyReq?.destroy();
    this.replicaSocket?.destroy();
    const replica = this.replica;
    if (replica) {
      this.replica = undefined;
      this.owner.untrack(replica, this);
      this.fn.throttler.release(replica);
    }
    this.fn.window.depart(this.owner.clock.now());
    this.fn.count(this.status);
  }

  private remainingMs(): number {
    return this.fn.timeLeftMs(this.arrivedAt, this.owner.clock.now());
  }
}
