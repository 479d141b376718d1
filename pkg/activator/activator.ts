// The activator: wiring of routes, per-function throttlers, the proxy, stat reporting and
// metrics behind one request listener. `listenActivator` (listen.ts) puts it on a port.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { hostname } from 'node:os';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Registry } from 'prom-client';
import { keyOf, type FunctionKey } from '../apis/meta.js';
import type { StatSink } from '../autoscaler/stats.js';
import type { ActivationFailure, EndpointsUpdate } from '../platform/types.js';
import { sleep } from '../shared/abort.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { rawErrorResponse, type ErrorCode } from '../shared/http-error.js';
import type { Logger } from '../shared/log.js';
import type { LoadBalancingSpec } from '../apis/function/types.js';
import { balancingOf } from './balancing.js';
import { ProxyCall, type CallDeps, type Outgoing } from './call.js';
import { ActivatorError, sendError } from './errors.js';
import { H2Call, H2Sessions, h2RequestHeaders, sendH2Error } from './h2c.js';
import { inspectRequest, VALID_HOST } from './headers.js';
import { ActivatorMetrics } from './metrics.js';
import { ReplicaProxy } from './proxy.js';
import { RouteTable, type Route } from './routes.js';
import { BufferBody, BufferedResponse, type CallResult, type ResponseSink } from './sink.js';
import { FunctionState, type FunctionEvents } from './state.js';
import { StatReporter } from './stats.js';
import type { ThrottlerLimits } from './throttler.js';
import { UpgradeProxy } from './upgrade.js';
import { CONNECT_REFUSAL, upgradeHeaders, upgradeRefusal } from './upgrade-rules.js';

export { listenActivator, type ListenOptions, type ListeningActivator } from './listen.js';
export type { CallResult, CollectedResponse } from './sink.js';

export interface ActivatorOptions {
  /** Hosts `<name>.<namespace>.<domain>` route to functions. Default `kfn.local`. */
  domain?: string;
  /** Requests waiting per function. Default 10,000. */
  maxQueue?: number;
  /** Body bytes buffered by waiting requests per function. Default 64 MiB. */
  maxQueueBytes?: number;
  /** Largest request body. Default 10 MiB. */
  maxBodyBytes?: number;
  /** Retry-After on queue_full. Default 1. */
  retryAfterSeconds?: number;
  /** Period of ConcurrencyStats. Default 1000. */
  statIntervalMs?: number;
  /** Names this activator in its stats. Default `activator/<hostname>`. */
  source?: string;
  /** How long close() lets waiting and in-flight requests finish. Default 30 s. */
  drainTimeoutMs?: number;
  /** Connections to a replica nobody called for this long are closed. Default 60 s. */
  idleConnectionMs?: number;
  /** Idle connections to replicas kept over all; past this, the least recently used is closed. Default 1,000. */
  maxIdleConnections?: number;
  /** In [0, 1); for power-of-two-choices. Default Math.random. */
  random?: () => number;
}

export interface ActivatorDeps {
  log: Logger;
  statSink: StatSink;
  metrics?: Registry;
  clock?: Clock;
  options?: ActivatorOptions;
  /** `requests` for `key` were refused with 503 because the function cannot start (where Events come from on a cluster). */
  onActivationFailed?: (key: FunctionKey, failure: ActivationFailure, requests: number) => void;
}

export interface FunctionServing {
  /** Hard limit per replica; 0 = unlimited. Default 0. */
  containerConcurrency?: number;
  /** Longest a request may wait plus run. Default 300. */
  timeoutSeconds?: number;
  /** spec.retries.idempotent. Default false. */
  retryIdempotent?: boolean;
  /** spec.loadBalancing, validated. Default: the policy by containerConcurrency, no ejection. */
  loadBalancing?: LoadBalancingSpec;
  /** What the replicas speak: http1 (default) or h2c (HTTP/2 cleartext, prior knowledge). */
  portName?: 'http1' | 'h2c';
}

/** A request from a caller in the same process (see `call`). */
export interface LocalRequest {
  method: string;
  /** Origin-form path and query on the function, starting with `/`. */
  path: string;
  headers: Record<string, string>;
  body: Buffer;
  /** Aborting cuts the request, waiting or in flight, and frees its slot. */
  signal?: AbortSignal;
  /** Cut it after this long (as `signal` would), with the error `timeout`. */
  timeoutMs?: number;
}

export interface Activator {
  /** The request listener; needs no `this`. */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
  /** The 'upgrade' listener (WebSockets and other protocol switches, see upgrade.ts). */
  readonly handleUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** The 'connect' listener: CONNECT is refused with an explicit error. */
  readonly handleConnect: (req: IncomingMessage, socket: Duplex) => void;
  /** The HTTP/2 'stream' listener (h2c with prior knowledge, see h2c.ts). */
  readonly handleStream: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;
  /**
   * The same way through the activator as `handle` (route, queue while cold, throttle,
   * balance, proxy, stats) for a caller in this process, without an HTTP hop: kfn dev's
   * dispatcher. Errors come back as responses, as they would over HTTP.
   */
  readonly call: (key: FunctionKey, req: LocalRequest) => Promise<CallResult>;
  upsertFunction(key: FunctionKey, serving: FunctionServing): void;
  /** Unroutes the function; requests waiting for it get 503. */
  removeFunction(key: FunctionKey): void;
  updateEndpoints(update: EndpointsUpdate): void;
  /** Reports concurrency stats until `signal` aborts. */
  run(signal: AbortSignal): Promise<void>;
  /** Refuses new requests, lets waiting and in-flight ones finish (bounded), then frees sockets. */
  close(): Promise<void>;
}

const DEFAULT_TIMEOUT_SECONDS = 300;
/** The error of a `call` cut by its timeoutMs. */
export const LOCAL_TIMEOUT = 'timeout';
/** Set by `call` itself, or meaningless between processes that share no connection. */
const LOCAL_REPLACED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer']);

export function createActivator(deps: ActivatorDeps): Activator {
  const opts = deps.options ?? {};
  const log = deps.log;
  const clock = deps.clock ?? systemClock;
  const maxBodyBytes = opts.maxBodyBytes ?? 10 * 1024 * 1024;
  const limits: ThrottlerLimits = {
    maxQueue: opts.maxQueue ?? 10_000,
    maxQueueBytes: opts.maxQueueBytes ?? 64 * 1024 * 1024,
    retryAfterSeconds: opts.retryAfterSeconds ?? 1,
    random: opts.random ?? Math.random,
  };
  const domain = opts.domain ?? 'kfn.local';
  const routes = new RouteTable(domain);
  const states = new Map<string, FunctionState>();
  const proxy = new ReplicaProxy({ idleConnectionMs: opts.idleConnectionMs, maxIdleConnections: opts.maxIdleConnections });
  const metrics = deps.metrics ? new ActivatorMetrics(deps.metrics, () => states.values()) : undefined;
  const reporter = new StatReporter({
    sink: deps.statSink,
    source: opts.source ?? `activator/${hostname()}`,
    clock,
    intervalMs: opts.statIntervalMs,
    onError: (err) => log.warn({ err }, 'stat sink failed'),
  });
  const callDeps: CallDeps = { proxy, clock, maxBodyBytes, log };
  const upgrades = new UpgradeProxy(clock, log);
  const h2Sessions = new H2Sessions(log);
  let closing = false;

  const events: FunctionEvents = {
    poke: (fn) => {
      log.debug({ fn: fn.id }, 'no ready replica: poking the autoscaler');
      try {
        deps.statSink.poke(fn.key);
      } catch (err) {
        log.warn({ fn: fn.id, err }, 'poke failed');
      }
    },
    // Requests queue: the reporter pokes the autoscaler with the demand if it surged.
    queued: (fn) => reporter.surge(fn.window),
    coldStartServed: (fn, ms) => {
      log.debug({ fn: fn.id, ms }, 'cold start served');
      metrics?.coldStart(fn.key, ms / 1000);
    },
    now: () => clock.now(),
    activationFailed: (fn, failure, requests) => {
      try {
        deps.onActivationFailed?.(fn.key, failure, requests);
      } catch (err) {
        log.warn({ fn: fn.id, err }, 'activation failure listener failed');
      }
    },
  };

  function stateFor(key: FunctionKey, id: string, route: Route | undefined): FunctionState {
    let fn = states.get(id);
    if (fn) return fn;
    // The route's own key and id when there is one, rather than copies per function.
    const fnKey = route?.key ?? { namespace: key.namespace, name: key.name };
    fn = new FunctionState(fnKey, route?.id ?? id, route?.timeoutMs ?? DEFAULT_TIMEOUT_SECONDS * 1000, route?.containerConcurrency ?? 0, limits, events);
    if (route) configureRequests(fn, route);
    states.set(fn.id, fn);
    return fn;
  }

  function reject(res: ResponseSink, err: ActivatorError, fn?: FunctionState, closeConnection = false): void {
    if (fn) fn.count(err.status);
    else metrics?.countUnrouted(err.status);
    sendError(res, err, closeConnection);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    if (closing) return reject(res, new ActivatorError('shutting_down', 'the activator is shutting down; retry'));
    // Reads rawHeaders only: node then never builds the req.headers object.
    const socket = req.socket;
    const head = inspectRequest(req.rawHeaders, { remoteAddress: socket.remoteAddress, encrypted: (socket as TLSSocket).encrypted === true });
    if (head.problem) return reject(res, new ActivatorError(head.problem.code, head.problem.message), undefined, !req.complete);
    const url = req.url ?? '/';
    const resolved = routes.resolve(head.host, url);
    if (!resolved) return reject(res, new ActivatorError('function_not_found', routes.describeMiss(head.host, url)));
    const { route } = resolved;
    const fn = stateFor(route.key, route.id, route);
    if (route.h2c) return reject(res, servesH2c(route.id), fn, !req.complete);
    if (head.bodyLength > maxBodyBytes) {
      const err = new ActivatorError('body_too_large', `function ${route.id}: request body of ${head.bodyLength} bytes is larger than the limit of ${maxBodyBytes} bytes`);
      return reject(res, err, fn, true);
    }
    // HTTP/1.0 clients may send no Host; the replica speaks HTTP/1.1 and needs one.
    if (head.host === undefined) head.headers.push('Host', `${route.key.name}.${route.key.namespace}.${domain}`);
    const out: Outgoing = { method: req.method ?? 'GET', path: resolved.path, headers: head.headers, bodyLength: head.bodyLength };

    const now = clock.now();
    reporter.track(fn.window);
    fn.window.arrive(now);
    new ProxyCall(fn, req, res, out, callDeps, now).start();
  }

  /** Answers an upgrade request on its raw socket: node's HTTP machinery has let go of it. */
  function refuseRaw(socket: Duplex, code: ErrorCode, message: string, fn?: FunctionState): void {
    const err = new ActivatorError(code, message);
    if (fn) fn.count(err.status);
    else metrics?.countUnrouted(err.status);
    socket.on('error', () => {});
    socket.end(rawErrorResponse(code, message));
  }

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (closing) return refuseRaw(socket, 'shutting_down', 'the activator is shutting down; retry');
    const sock = req.socket;
    const inspected = inspectRequest(req.rawHeaders, { remoteAddress: sock.remoteAddress, encrypted: (sock as TLSSocket).encrypted === true });
    if (inspected.problem) return refuseRaw(socket, inspected.problem.code, inspected.problem.message);
    const url = req.url ?? '/';
    const resolved = routes.resolve(inspected.host, url);
    if (!resolved) return refuseRaw(socket, 'function_not_found', routes.describeMiss(inspected.host, url));
    const { route } = resolved;
    const fn = stateFor(route.key, route.id, route);
    if (route.h2c) return refuseRaw(socket, 'unsupported_protocol', servesH2c(route.id).message, fn);
    const upgrade = req.headers.upgrade ?? '';
    const refusal = upgradeRefusal(upgrade, inspected.bodyLength);
    if (refusal) return refuseRaw(socket, refusal.code, `function ${route.id}: ${refusal.message}`, fn);
    if (inspected.host === undefined) inspected.headers.push('Host', `${route.key.name}.${route.key.namespace}.${domain}`);
    reporter.track(fn.window);
    fn.window.arrive(clock.now());
    upgrades.start(fn, req, socket, head, resolved.path, upgradeHeaders(inspected.headers, upgrade));
  }

  function handleConnect(_req: IncomingMessage, socket: Duplex): void {
    refuseRaw(socket, CONNECT_REFUSAL.code, CONNECT_REFUSAL.message);
  }

  function servesH2c(id: string): ActivatorError {
    return new ActivatorError('unsupported_protocol', `function ${id} serves HTTP/2 (spec.portName h2c): call it over HTTP/2 with prior knowledge (as gRPC clients do), not HTTP/1.1`);
  }

  function refuseStream(stream: ServerHttp2Stream, err: ActivatorError, fn?: FunctionState): void {
    if (fn) fn.count(err.status);
    else metrics?.countUnrouted(err.status);
    stream.on('error', () => {});
    sendH2Error(stream, err);
  }

  function handleStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    if (closing) return refuseStream(stream, new ActivatorError('shutting_down', 'the activator is shutting down; retry'));
    const method = headers[':method'] ?? 'GET';
    if (method === 'CONNECT') return refuseStream(stream, new ActivatorError(CONNECT_REFUSAL.code, CONNECT_REFUSAL.message));
    const authority = headers[':authority'] ?? headers.host;
    if (authority !== undefined && !VALID_HOST.test(authority)) return refuseStream(stream, new ActivatorError('bad_request', `invalid :authority ${JSON.stringify(authority)}`));
    const url = headers[':path'] ?? '/';
    const resolved = routes.resolve(authority, url);
    if (!resolved) return refuseStream(stream, new ActivatorError('function_not_found', routes.describeMiss(authority, url)));
    const { route } = resolved;
    const fn = stateFor(route.key, route.id, route);
    if (!route.h2c) {
      const err = new ActivatorError('unsupported_protocol', `function ${route.id} serves HTTP/1.1 (spec.portName http1): call it over HTTP/1.1, or set spec.portName h2c if it speaks HTTP/2`);
      return refuseStream(stream, err, fn);
    }
    const declared = Number(headers['content-length'] ?? 0);
    if (declared > maxBodyBytes) {
      return refuseStream(stream, new ActivatorError('body_too_large', `function ${route.id}: request body of ${declared} bytes is larger than the limit of ${maxBodyBytes} bytes`), fn);
    }
    const out = h2RequestHeaders(headers, resolved.path, authority ?? `${route.key.name}.${route.key.namespace}.${domain}`, stream.session?.socket?.remoteAddress);
    const now = clock.now();
    reporter.track(fn.window);
    fn.window.arrive(now);
    new H2Call(fn, stream, out, h2Sessions, clock, log, now).start();
  }

  function call(key: FunctionKey, req: LocalRequest): Promise<CallResult> {
    const res = new BufferedResponse();
    if (closing) {
      reject(res, new ActivatorError('shutting_down', 'the activator is shutting down; retry'));
      return res.result;
    }
    const id = keyOf(key);
    const route = routes.get(id);
    if (!route) {
      reject(res, new ActivatorError('function_not_found', `function ${id} not found`));
      return res.result;
    }
    const fn = stateFor(route.key, route.id, route);
    if (route.h2c) {
      reject(res, servesH2c(route.id), fn);
      return res.result;
    }
    if (req.body.length > maxBodyBytes) {
      reject(res, new ActivatorError('body_too_large', `function ${route.id}: request body of ${req.body.length} bytes is larger than the limit of ${maxBodyBytes} bytes`), fn);
      return res.result;
    }
    const headers = ['Host', `${route.key.name}.${route.key.namespace}.${domain}`, 'Content-Length', String(req.body.length)];
    for (const name in req.headers) if (!LOCAL_REPLACED_HEADERS.has(name.toLowerCase())) headers.push(name, req.headers[name] as string);
    const out: Outgoing = { method: req.method, path: req.path, headers, bodyLength: req.body.length };
    if (req.signal) {
      const signal = req.signal;
      const cut = (): void => void res.destroy(`request aborted: ${String(signal.reason)}`);
      if (signal.aborted) cut();
      else {
        signal.addEventListener('abort', cut, { once: true });
        void res.result.finally(() => signal.removeEventListener('abort', cut));
      }
    }
    if (req.timeoutMs !== undefined) {
      const timer = setTimeout(() => res.destroy(LOCAL_TIMEOUT), req.timeoutMs);
      void res.result.finally(() => clearTimeout(timer));
    }
    const now = clock.now();
    reporter.track(fn.window);
    fn.window.arrive(now);
    new ProxyCall(fn, new BufferBody(req.body), res, out, callDeps, now).start();
    return res.result;
  }

  function upsertFunction(key: FunctionKey, serving: FunctionServing): void {
    const containerConcurrency = Math.max(0, serving.containerConcurrency ?? 0);
    const timeoutMs = (serving.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
    const balancing = balancingOf(serving.loadBalancing);
    const route = routes.upsert(key, {
      containerConcurrency,
      timeoutMs,
      retryIdempotent: serving.retryIdempotent ?? false,
      balancing,
      h2c: serving.portName === 'h2c',
    });
    const fn = states.get(route.id);
    if (fn) {
      fn.timeoutMs = timeoutMs;
      fn.throttler.configure(containerConcurrency);
      configureRequests(fn, route);
    }
  }

  /** A function's retry and balancing settings, from its route. */
  function configureRequests(fn: FunctionState, route: Route): void {
    fn.retryIdempotent = route.retryIdempotent;
    fn.throttler.configureBalancing(route.balancing);
  }

  function removeFunction(key: FunctionKey): void {
    const id = keyOf(key);
    routes.remove(key);
    const fn = states.get(id);
    if (!fn) return;
    states.delete(id);
    const window = fn.windowIfAny;
    if (window) reporter.forget(window);
    metrics?.forget(fn.key);
    fn.throttler.failAll(new ActivatorError('function_removed', `function ${id} was removed`));
    // Requests in flight to its replicas finish; the connections close behind them. Its
    // tunnels get its timeout, as when a replica leaves.
    for (const r of fn.throttler.readyReplicas) {
      proxy.forget(r.target);
      h2Sessions.forget(r.target);
      upgrades.drain(r, fn.timeoutMs);
    }
  }

  function updateEndpoints(update: EndpointsUpdate): void {
    const id = keyOf(update.key);
    let fn = states.get(id);
    if (!fn) {
      // Nothing to keep for a function with no endpoints, no failure and no traffic.
      if (update.endpoints.length === 0 && !update.failure) return;
      fn = stateFor(update.key, id, routes.get(id));
    }
    const before = fn.throttler.readyReplicas;
    fn.throttler.setEndpoints(update.endpoints, update.failure);
    for (const r of before) {
      if (!r.removed) continue;
      proxy.forget(r.target);
      h2Sessions.forget(r.target);
      upgrades.drain(r, fn.timeoutMs);
    }
    const failing = update.endpoints.length === 0 ? update.failure?.reason : undefined;
    if (failing !== fn.reportedFailure) {
      fn.reportedFailure = failing;
      if (failing) log.info({ fn: id, reason: failing, message: update.failure?.message }, 'activation failing: requests get 503 until a replica is ready');
    }
  }

  /** Requests waiting or proxied, over all functions. */
  function requestsInFlight(): number {
    let n = 0;
    for (const fn of states.values()) n += fn.inFlight;
    return n;
  }

  async function settle(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (requestsInFlight() > 0 && Date.now() < deadline) await sleep(25);
  }

  let closed: Promise<void> | undefined;
  function close(): Promise<void> {
    closed ??= (async () => {
      closing = true;
      const drainMs = opts.drainTimeoutMs ?? 30_000;
      // Waiting requests may still be served if a replica turns up; give them the drain time.
      await settle(drainMs);
      for (const fn of states.values()) {
        fn.throttler.failAll(new ActivatorError('shutting_down', `the activator is shutting down; function ${fn.id} was not served`));
      }
      // Proxied requests finish on their own (each is bounded by its function's timeout);
      // only what still runs after a second drain period is cut.
      await settle(drainMs);
      upgrades.closeAll();
      h2Sessions.close();
      await proxy.close();
    })();
    return closed;
  }

  return {
    handle,
    handleUpgrade,
    handleConnect,
    handleStream,
    call,
    upsertFunction,
    removeFunction,
    updateEndpoints,
    run: (signal) => reporter.run(signal),
    close,
  };
}
