// Test fixtures for the activator: real HTTP replicas on port 0, a recording StatSink,
// and an activator listening on port 0.
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import type { FunctionKey } from '../../pkg/apis/meta.js';
import type { ConcurrencyStat, DemandNow, StatSink } from '../../pkg/autoscaler/stats.js';
import type { ReadyEndpoint } from '../../pkg/platform/types.js';
import { createActivator, listenActivator, type Activator, type ActivatorOptions } from '../../pkg/activator/activator.js';
import type { Clock } from '../../pkg/shared/clock.js';
import { errorOf } from '../../pkg/shared/http-error.js';
import { quietLogger } from '../../pkg/shared/log.js';

export const hello: FunctionKey = { namespace: 'default', name: 'hello' };

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
}

export interface TestReplica {
  readonly name: string;
  readonly port: number;
  readonly seen: SeenRequest[];
  /** Requests being handled right now, and the most ever at once. */
  readonly inFlight: number;
  readonly maxInFlight: number;
  endpoint(): ReadyEndpoint;
  /** Connections open to the replica now (the activator's pool, for one). */
  connections(): Promise<number>;
  /** Lets requests held by `?hold` go on. */
  openGate(): void;
  close(): Promise<void>;
}

/**
 * A replica that answers `{ replica, url, headers }`, or echoes the body for `?echo`,
 * waits `?sleep=<ms>` first, or holds until openGate() for `?hold`.
 */
export async function startReplica(name: string): Promise<TestReplica> {
  const seen: SeenRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let gate: Array<() => void> | undefined = [];
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on('close', () => inFlight--);
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders });
    const url = new URL(req.url ?? '/', 'http://replica');
    const respond = (): void => {
      if (url.searchParams.has('echo')) {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-replica': name });
        req.pipe(res);
        return;
      }
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json', 'x-replica': name, 'keep-alive': 'timeout=5', 'x-hop': 'secret', connection: 'keep-alive, x-hop' });
        res.end(JSON.stringify({ replica: name, url: req.url, headers: req.headers }));
      });
    };
    const sleepMs = Number(url.searchParams.get('sleep') ?? 0);
    if (url.searchParams.has('hold') && gate) gate.push(respond);
    else if (sleepMs > 0) setTimeout(respond, sleepMs);
    else respond();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    name,
    port,
    seen,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    endpoint: () => ({ id: name, host: '127.0.0.1', port }),
    connections: () => new Promise<number>((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n)))),
    openGate() {
      const held = gate ?? [];
      gate = undefined;
      for (const go of held) go();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A port nothing listens on (bound, then released). */
export async function deadPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export class RecordingSink implements StatSink {
  readonly stats: ConcurrencyStat[] = [];
  /** Cold-start pokes: one per cold spell. */
  readonly pokes: FunctionKey[] = [];
  /** Demand pokes: requests queued at twice what the autoscaler last heard (see StatReporter.surge). */
  readonly surges: { key: FunctionKey; demand: DemandNow }[] = [];
  record(stat: ConcurrencyStat): void {
    this.stats.push(stat);
  }
  poke(key: FunctionKey, demand?: DemandNow): void {
    if (demand) this.surges.push({ key, demand });
    else this.pokes.push(key);
  }
}

export interface Harness {
  act: Activator;
  port: number;
  sink: RecordingSink;
  registry: Registry;
  close(): Promise<void>;
}

export async function startActivator(options: ActivatorOptions = {}, clock?: Clock): Promise<Harness> {
  const sink = new RecordingSink();
  const registry = new Registry();
  const act = createActivator({ log: quietLogger(), statSink: sink, metrics: registry, clock, options: { drainTimeoutMs: 2000, ...options } });
  const listening = await listenActivator(act, { port: 0, host: '127.0.0.1', closeGraceMs: 2000 });
  return {
    act,
    port: listening.port,
    sink,
    registry,
    close: async () => {
      await listening.close();
      await act.close();
    },
  };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json(): Record<string, unknown>;
}

export interface SendOptions {
  method?: string;
  path?: string;
  headers?: Record<string, string | string[]>;
  body?: Buffer | string;
  /** Send the body as chunked, in pieces of this size. */
  chunkSize?: number;
  agent?: http.Agent | false;
  signal?: AbortSignal;
}

/** One request to the activator; resolves with the whole response. */
export function send(port: number, opts: SendOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path ?? '/', headers: opts.headers, agent: opts.agent ?? false, signal: opts.signal },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const text = body.toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, json: () => JSON.parse(text) as Record<string, unknown> });
        });
      },
    );
    req.on('error', reject);
    const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
    if (body && opts.chunkSize) {
      for (let i = 0; i < body.length; i += opts.chunkSize) req.write(body.subarray(i, i + opts.chunkSize));
      req.end();
    } else {
      req.end(body);
    }
  });
}

/** The code of kfn's error envelope in a reply (`{ error: { code, message } }`), or undefined. */
export function codeOf(reply: Reply): string | undefined {
  return errorOf(reply.json())?.code;
}

/** The message of kfn's error envelope in a reply, or '' when it is not one. */
export function messageOf(reply: Reply): string {
  return errorOf(reply.json())?.message ?? '';
}

/** Host header of a function. */
export function hostOf(key: FunctionKey, domain = 'kfn.local'): string {
  return `${key.name}.${key.namespace}.${domain}`;
}

/**
 * Writes raw bytes to the server (without ending the connection unless `end`), and
 * resolves with everything it answers until it closes the connection.
 */
export function raw(port: number, request: string | Buffer | Array<string | Buffer>, end = true): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      const parts = Array.isArray(request) ? request : [request];
      for (const p of parts) socket.write(typeof p === 'string' ? Buffer.from(p, 'latin1') : p);
      if (end) socket.end();
    });
    let out = '';
    socket.on('data', (d: Buffer) => (out += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(out));
  });
}
