// A dispatcher on a real nats-server, delivering to a real HTTP "function" on port 0
// that records what it got, can fail or sleep on demand, and counts requests in flight.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { connect, type ConsumerInfo, type JetStreamClient, type JetStreamManager, type NatsConnection } from 'nats';
import type { KfnTrigger, TriggerSpec } from '../../../pkg/apis/trigger/types.js';
import { quietLogger } from '../../../pkg/shared/log.js';
import { makeEvent, type AttributeValue, type Event } from '../../../pkg/events/cloudevents/event.js';
import { msgIdFor, toNatsMessage } from '../../../pkg/events/cloudevents/nats.js';
import { Dispatcher } from '../../../pkg/events/dispatcher/dispatcher.js';
import { httpDeliverer, type Deliverer } from '../../../pkg/events/dispatcher/deliver-http.js';
import { ensureStream } from '../../../pkg/events/jetstream/stream.js';
import { startNatsServer, type NatsServer } from '../../util/nats.js';
import { waitFor } from '../../util/wait.js';

export const STREAM = 'KFN_TEST';

export interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  at: number;
  /** Requests in flight for the same ce-partition (or '' when none), including this one. */
  inFlightForKey: number;
}

export interface Reply {
  status: number;
  body?: string | Buffer;
  headers?: Record<string, string>;
  delayMs?: number;
}

/** Decides the answer to one request; `n` counts earlier requests with the same ce-id. */
export type Behaviour = (req: Received, n: number) => Reply;

export class FunctionServer {
  readonly received: Received[] = [];
  inFlight = 0;
  peakInFlight = 0;
  /** Set by a test; the default answers 200 with no body. */
  behaviour: Behaviour = () => ({ status: 200 });
  private readonly byKey = new Map<string, number>();
  private readonly server: Server;

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const key = header(req.headers, 'ce-partition') ?? '';
        this.inFlight++;
        this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
        this.byKey.set(key, (this.byKey.get(key) ?? 0) + 1);
        const got: Received = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks), at: Date.now(), inFlightForKey: this.byKey.get(key) ?? 0 };
        const id = header(req.headers, 'ce-id');
        const n = this.received.filter((r) => header(r.headers, 'ce-id') === id).length;
        this.received.push(got);
        const reply = this.behaviour(got, n);
        setTimeout(() => {
          this.inFlight--;
          this.byKey.set(key, (this.byKey.get(key) ?? 1) - 1);
          res.writeHead(reply.status, reply.headers ?? {});
          res.end(reply.body ?? '');
        }, reply.delayMs ?? 0);
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Requests for events with this id. */
  forId(id: string): Received[] {
    return this.received.filter((r) => header(r.headers, 'ce-id') === id);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export function header(h: IncomingMessage['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

export interface Suite {
  nats: NatsServer;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  fn: FunctionServer;
  /** The function server's base URL, for a second dispatcher. */
  fnUrl: string;
  dispatcher: Dispatcher;
  stop(): Promise<void>;
}

/** nats-server, stream, function server and a running dispatcher; `stop()` undoes all of it. */
export async function startSuite(
  opts: { ackWaitMs?: number; subjects?: string[]; registry?: Registry; wrapDeliver?: (inner: Deliverer) => Deliverer } = {},
): Promise<Suite> {
  const nats = await startNatsServer();
  const nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  const jsm = await nc.jetstreamManager();
  await ensureStream(jsm, { name: STREAM, subjects: opts.subjects ?? ['events.>', 'dl.>'], duplicateWindowMs: 60_000 });
  const fn = new FunctionServer();
  const url = await fn.listen();
  const dispatcher = new Dispatcher({
    nc,
    log: quietLogger(),
    deliver: opts.wrapDeliver ? opts.wrapDeliver(httpDeliverer(url)) : httpDeliverer(url),
    streamName: STREAM,
    ...(opts.ackWaitMs ? { ackWaitMs: opts.ackWaitMs } : {}),
    ...(opts.registry ? { registry: opts.registry } : {}),
  });
  const abort = new AbortController();
  const running = dispatcher.run(abort.signal);
  return {
    nats,
    nc,
    js: nc.jetstream(),
    jsm,
    fn,
    fnUrl: url,
    dispatcher,
    async stop() {
      abort.abort();
      await running;
      await nc.close();
      await fn.close();
      await nats.stop();
    },
  };
}

let triggerCount = 0;

/** A trigger in namespace `default` for function `echo`, with fast retries unless overridden. */
export function trigger(subject: string, spec: Partial<TriggerSpec> = {}): KfnTrigger {
  triggerCount++;
  return {
    apiVersion: 'kfn.dev/v1alpha1',
    kind: 'Trigger',
    metadata: { name: `t${triggerCount}`, namespace: 'default' },
    spec: {
      subject,
      function: 'echo',
      ...spec,
      delivery: { retries: 2, backoff: { policy: 'linear', delay: '100ms', maxDelay: '5s' }, timeout: '10s', maxInFlight: 10, ...spec.delivery },
    },
  };
}

let eventCount = 0;

/** A JSON event; `data` is its bytes when a string or a Buffer, else serialised as JSON. */
export function event(attrs: Record<string, AttributeValue> = {}, data: unknown = { hello: 'world' }): Event {
  eventCount++;
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(typeof data === 'string' ? data : JSON.stringify(data));
  return makeEvent({ specversion: '1.0', id: `ev-${eventCount}`, source: '/test', type: 'test.created', datacontenttype: 'application/json', ...attrs }, bytes);
}

/** Publishes to JetStream with the event id as Nats-Msg-Id, as kfn's own producers do. */
export async function publish(js: JetStreamClient, subject: string, e: Event): Promise<void> {
  const msg = toNatsMessage(e);
  await js.publish(subject, msg.data, { headers: msg.headers, msgID: msgIdFor(e) });
}

/**
 * The consumer's state once JetStream has handled every ack, nak and term it was sent:
 * the dispatcher counts an outcome when it sends it, and the server takes it a moment
 * later, so a test reads the consumer only after it has nothing outstanding.
 */
export async function settledConsumer(jsm: JetStreamManager, consumer: string): Promise<ConsumerInfo> {
  return waitFor(`consumer ${consumer} to have no ack pending`, async () => {
    const info = await jsm.consumers.info(STREAM, consumer);
    return info.num_ack_pending === 0 && info.num_pending === 0 ? info : undefined;
  });
}
