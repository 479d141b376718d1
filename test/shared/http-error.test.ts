// Every HTTP surface kfn serves answers its errors with one envelope,
// `{ "error": { "code", "message" } }` and Content-Type application/json, including the
// answers fastify and Node's HTTP parser would otherwise give on their own
// (`{ statusCode, error, message }`, or a bare status line with no body). Each case is the
// exact bytes a raw TCP client writes, so nothing of Node's client shapes the request.
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { Registry } from 'prom-client';
import { createActivator, listenActivator } from '../../pkg/activator/activator.js';
import { buildStatServer } from '../../pkg/autoscaler/http.js';
import { buildAdminApp } from '../../pkg/dev/admin.js';
import { FunctionStore, TriggerStore } from '../../pkg/dev/store.js';
import { buildIngress } from '../../pkg/events/ingress/ingress.js';
import { ensureStream } from '../../pkg/events/jetstream/stream.js';
import { ERROR_STATUS, errorOf, parseFailure, type ErrorCode } from '../../pkg/shared/http-error.js';
import { quietLogger } from '../../pkg/shared/log.js';
import { buildOpsServer } from '../../pkg/shared/startup.js';
import { startNatsServer, type NatsServer } from '../util/nats.js';

interface RawResponse {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/**
 * Writes `bytes` on a fresh connection and reads the one response until the server closes
 * (every request here says Connection: close). `halfClose` ends the client's side at once,
 * so the server cannot wait for more; the activator takes that as the client leaving.
 */
function rawRequest(port: number, bytes: string, halfClose = true): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      const data = Buffer.from(bytes, 'latin1');
      if (halfClose) socket.end(data);
      else socket.write(data);
    });
    let got = Buffer.alloc(0);
    const done = (): void => {
      const text = got.toString('latin1');
      const headEnd = text.indexOf('\r\n\r\n');
      if (headEnd < 0) return reject(new Error(`no complete response: ${JSON.stringify(text.slice(0, 200))}`));
      const [statusLine = '', ...lines] = text.slice(0, headEnd).split('\r\n');
      const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      const length = Number(headers.get('content-length') ?? NaN);
      const rest = got.subarray(Buffer.byteLength(text.slice(0, headEnd + 4), 'latin1'));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: (Number.isNaN(length) ? rest : rest.subarray(0, length)).toString('utf8') });
    };
    socket.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
    // The server may answer and close while the client is still sending (a 100 KB
    // header): the reset that follows does not take back what was already read.
    socket.on('error', () => socket.destroy());
    socket.on('close', done);
    socket.setTimeout(10_000, () => socket.destroy());
  });
}

interface Surface {
  name: string;
  port: number;
  close: () => Promise<void>;
}

/** What a case expects of one surface: the code (its status follows from the registry) and, for 405, Allow. */
interface Want {
  code: ErrorCode;
  allow?: string;
}

interface Case {
  name: string;
  request: (s: string) => string;
  want: Record<string, Want>;
}

const LONG_URI = `/${'a'.repeat(20 * 1024)}`;
const BIG_HEADER = `X-Big: ${'b'.repeat(100 * 1024)}\r\n`;
const close = 'Host: kfn.test\r\nConnection: close\r\n';
const post = (path: string, contentType: string, body: string): string =>
  `POST ${path} HTTP/1.1\r\n${close}Content-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
/** A route each surface has that takes a JSON body (the activator: a function's path; the ops server has none). */
const BODY_ROUTE: Record<string, string> = { activator: '/default/hello/', autoscaler: '/stats', ingress: '/in.orders', admin: '/api/apply', ops: '/metrics' };

const everywhere = (want: Want): Record<string, Want> => Object.fromEntries(['activator', 'autoscaler', 'ingress', 'admin', 'ops'].map((s) => [s, want]));

const CASES: Case[] = [
  {
    name: 'a 20 KB URI: 414 (Node counts the request line toward its 16 KiB header limit; fastify never sees it)',
    request: () => `GET ${LONG_URI} HTTP/1.1\r\n${close}\r\n`,
    want: everywhere({ code: 'uri_too_long' }),
  },
  {
    name: 'a 100 KB header: 431 from the HTTP parser',
    request: () => `GET / HTTP/1.1\r\n${close}${BIG_HEADER}\r\n`,
    want: everywhere({ code: 'headers_too_large' }),
  },
  {
    name: 'a method the parser does not know: 501 (RFC 9110 §9.1)',
    request: () => `BREW / HTTP/1.1\r\n${close}\r\n`,
    want: everywhere({ code: 'method_not_implemented' }),
  },
  {
    name: 'a header with a bare LF inside its value: 400 from the parser',
    request: () => `GET / HTTP/1.1\r\n${close}X-Bad: a\rb\r\n\r\n`,
    want: everywhere({ code: 'bad_request' }),
  },
  {
    name: 'an unknown route: 404',
    request: () => `GET /no/such/route/here HTTP/1.1\r\n${close}\r\n`,
    want: { ...everywhere({ code: 'not_found' }), activator: { code: 'function_not_found' } },
  },
  {
    name: 'a known route with a method it does not take: 405 with Allow (the activator passes every method to the function)',
    request: (s) => `PUT ${BODY_ROUTE[s] === '/api/apply' ? '/api/apply' : s === 'ops' ? '/healthz' : (BODY_ROUTE[s] ?? '/')} HTTP/1.1\r\n${close}Content-Length: 0\r\n\r\n`,
    want: {
      autoscaler: { code: 'method_not_allowed', allow: 'POST' },
      ingress: { code: 'method_not_allowed', allow: 'POST' },
      admin: { code: 'method_not_allowed', allow: 'POST' },
      ops: { code: 'method_not_allowed', allow: 'GET, HEAD' },
      activator: { code: 'function_not_found' },
    },
  },
  {
    name: 'a Content-Type nothing parses: 415 (the ingress: a malformed event; the ops server: no POST at all)',
    request: (s) => post(BODY_ROUTE[s] ?? '/', 'text/xml', '<a/>'),
    want: {
      autoscaler: { code: 'unsupported_media_type' },
      admin: { code: 'unsupported_media_type' },
      ingress: { code: 'malformed_event' },
      ops: { code: 'method_not_allowed', allow: 'GET, HEAD' },
      activator: { code: 'function_not_found' },
    },
  },
  {
    name: 'a Content-Type that is not a media type at all',
    request: (s) => post(BODY_ROUTE[s] ?? '/', 'nonsense', 'x'),
    want: {
      autoscaler: { code: 'unsupported_media_type' },
      admin: { code: 'unsupported_media_type' },
      ingress: { code: 'malformed_event' },
      ops: { code: 'method_not_allowed', allow: 'GET, HEAD' },
      activator: { code: 'function_not_found' },
    },
  },
  {
    name: 'malformed JSON: 400',
    request: (s) => post(BODY_ROUTE[s] ?? '/', s === 'ingress' ? 'application/cloudevents+json' : 'application/json', '{"manifest": '),
    want: {
      autoscaler: { code: 'invalid_json' },
      admin: { code: 'invalid_json' },
      ingress: { code: 'malformed_event' },
      ops: { code: 'method_not_allowed', allow: 'GET, HEAD' },
      activator: { code: 'function_not_found' },
    },
  },
  {
    name: 'a body over the surface\'s limit: 413',
    request: (s) => post(s === 'activator' ? '/default/own/' : (BODY_ROUTE[s] ?? '/'), 'application/json', `[${'1,'.repeat(40 * 1024)}1]`),
    want: { ...everywhere({ code: 'body_too_large' }), ops: { code: 'method_not_allowed', allow: 'GET, HEAD' } },
  },
  {
    name: 'bad percent-encoding in the path: 400',
    request: (s) => `GET ${s === 'admin' ? '/api/functions/%zz/a' : s === 'autoscaler' ? '/poke/%zz/a' : '/%zz'} HTTP/1.1\r\n${close}\r\n`,
    want: {
      admin: { code: 'bad_request' },
      autoscaler: { code: 'bad_request' },
      ingress: { code: 'bad_request' },
      ops: { code: 'bad_request' },
      activator: { code: 'function_not_found' },
    },
  },
  {
    name: 'a path parameter over fastify\'s maxParamLength: 414',
    request: (s) => `GET ${s === 'admin' ? `/api/functions/default/${'n'.repeat(200)}` : s === 'autoscaler' ? `/poke/default/${'n'.repeat(200)}` : `/${'s'.repeat(2000)}`} HTTP/1.1\r\n${close}\r\n`,
    want: {
      admin: { code: 'uri_too_long' },
      autoscaler: { code: 'uri_too_long' },
      ingress: { code: 'uri_too_long' },
      ops: { code: 'not_found' },
      activator: { code: 'function_not_found' },
    },
  },
  {
    name: 'a handler that throws: 500, its message not sent',
    request: (s) => (s === 'admin' ? `GET /api/info HTTP/1.1\r\n${close}\r\n` : s === 'ops' ? `GET /metrics HTTP/1.1\r\n${close}\r\n` : post('/stats', 'application/json', JSON.stringify([{ key: { namespace: 'boom', name: 'x' }, source: 'a', averageConcurrency: 1, requestCount: 1, time: 1 }]))),
    want: { admin: { code: 'internal' }, ops: { code: 'internal' }, autoscaler: { code: 'internal' } },
  },
];

const SMALL = 64 * 1024;

describe('one error envelope on every surface, raw clients', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  const surfaces = new Map<string, Surface>();
  let replica: http.Server;

  before(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    await ensureStream(await nc.jetstreamManager(), { name: 'KFN', subjects: ['in.>'], duplicateWindowMs: 60_000 });
    const secret = 'secret detail of the failure';

    const act = createActivator({ log: quietLogger(), statSink: { record() {}, poke() {} }, metrics: new Registry(), options: { maxBodyBytes: SMALL, drainTimeoutMs: 1000 } });
    const activator = await listenActivator(act, { port: 0, host: '127.0.0.1', closeGraceMs: 1000 });
    surfaces.set('activator', { name: 'activator', port: activator.port, close: async () => (await activator.close(), await act.close()) });

    const listen = async (name: string, app: { listen: (o: { port: number; host: string }) => Promise<string>; close: () => Promise<unknown>; server: http.Server }): Promise<void> => {
      await app.listen({ port: 0, host: '127.0.0.1' });
      surfaces.set(name, { name, port: (app.server.address() as AddressInfo).port, close: async () => void (await app.close()) });
    };
    const sink = {
      record(stat: { key: { namespace: string } }) {
        if (stat.key.namespace === 'boom') throw new Error(secret);
      },
      poke() {},
    };
    await listen('autoscaler', buildStatServer(sink, { bodyLimit: SMALL, log: quietLogger() }));
    await listen('ingress', buildIngress({ nc, log: quietLogger(), maxBodyBytes: SMALL, streams: () => ['KFN'] }));
    await listen(
      'admin',
      buildAdminApp({
        stores: { functions: new FunctionStore(), triggers: new TriggerStore() },
        metrics: new Registry(),
        info: () => {
          throw new Error(secret);
        },
        bodyLimit: SMALL,
        log: quietLogger(),
        // The raw requests here say Host: kfn.test.
        access: { extraHosts: ['kfn.test'] },
      }),
    );
    const broken = Object.assign(new Registry(), {
      metrics: () => Promise.reject(new Error(secret)),
    });
    await listen('ops', buildOpsServer({ name: 'test', log: quietLogger(), metrics: broken, ready: () => true }));

    // A replica whose own error the activator must pass through untouched.
    replica = http.createServer((_req, res) => {
      const own = '{"statusCode":404,"error":"Not Found","message":"no such order"}';
      res.writeHead(404, { 'content-type': 'application/json', 'content-length': own.length });
      res.end(own);
    });
    await new Promise<void>((resolve) => replica.listen(0, '127.0.0.1', resolve));
    const own = { namespace: 'default', name: 'own' };
    act.upsertFunction(own, { timeoutSeconds: 10 });
    act.updateEndpoints({ key: own, endpoints: [{ id: 'r1', host: '127.0.0.1', port: (replica.address() as AddressInfo).port }] });
  });

  after(async () => {
    for (const s of surfaces.values()) await s.close();
    await new Promise<void>((resolve) => replica.close(() => resolve()));
    await nc.close();
    await nats.stop();
  });

  for (const c of CASES) {
    for (const name of ['activator', 'autoscaler', 'ingress', 'admin', 'ops']) {
      const want = c.want[name];
      if (!want) continue;
      it(`${name}: ${c.name}`, async () => {
        const s = surfaces.get(name);
        assert.ok(s);
        const res = await rawRequest(s.port, c.request(name));
        assert.equal(res.status, ERROR_STATUS[want.code], res.body);
        assert.match(res.headers.get('content-type') ?? '', /^application\/json\b/);
        const body = JSON.parse(res.body) as Record<string, unknown>;
        assert.deepEqual(Object.keys(body), ['error'], 'nothing beside the envelope (no fastify statusCode)');
        const e = errorOf(body);
        assert.ok(e, res.body);
        assert.equal(e.code, want.code);
        assert.ok(e.message.length > 0);
        assert.doesNotMatch(e.message, /secret detail/);
        if (want.allow) assert.equal(res.headers.get('allow'), want.allow);
      });
    }
  }

  it('activator: the function\'s own error response is passed through, not wrapped', async () => {
    const s = surfaces.get('activator');
    assert.ok(s);
    const res = await rawRequest(s.port, `GET /default/own/x HTTP/1.1\r\n${close}\r\n`, false);
    assert.equal(res.status, 404);
    assert.equal(res.body, '{"statusCode":404,"error":"Not Found","message":"no such order"}');
  });
});

describe('health answers', () => {
  it('a component\'s /healthz is the envelope with not_ready until it is ready, then text ok', async () => {
    let ready = false;
    const ops = buildOpsServer({ name: 'kfn-test', log: quietLogger(), metrics: new Registry(), ready: () => ready });
    try {
      const starting = await ops.inject({ url: '/healthz' });
      assert.equal(starting.statusCode, 503);
      assert.deepEqual(starting.json(), { error: { code: 'not_ready', message: 'kfn-test is starting' } });
      ready = true;
      const up = await ops.inject({ url: '/healthz' });
      assert.equal(up.statusCode, 200);
      assert.equal(up.body, 'ok');
    } finally {
      await ops.close();
    }
  });
});

describe('parseFailure: what Node\'s parser refused', () => {
  const overflow = (packet: string): Error & { code: string; rawPacket: Buffer } => Object.assign(new Error('Parse Error'), { code: 'HPE_HEADER_OVERFLOW', rawPacket: Buffer.from(packet, 'latin1') });
  const rows: Array<{ name: string; err: Error & { code?: string; rawPacket?: Buffer }; want: ErrorCode }> = [
    { name: 'request line alone over the limit', err: overflow(`GET /${'a'.repeat(100)} HTTP/1.1\r\nHost: x\r\n`), want: 'uri_too_long' },
    { name: 'request line cut off before its end', err: overflow(`GET /${'a'.repeat(100)}`), want: 'uri_too_long' },
    { name: 'short request line, long headers', err: overflow(`GET / HTTP/1.1\r\nX: ${'b'.repeat(100)}`), want: 'headers_too_large' },
    { name: 'a packet from the middle of the headers', err: overflow(`bbbbbbbb\r\nX: ${'b'.repeat(100)}`), want: 'headers_too_large' },
    { name: 'headers timeout', err: Object.assign(new Error('timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }), want: 'request_timeout' },
    { name: 'unknown method', err: Object.assign(new Error('Invalid method'), { code: 'HPE_INVALID_METHOD' }), want: 'method_not_implemented' },
    { name: 'anything else', err: Object.assign(new Error('bad'), { code: 'HPE_INVALID_HEADER_TOKEN' }), want: 'bad_request' },
  ];
  for (const row of rows) {
    it(row.name, () => assert.equal(parseFailure(row.err, 50).code, row.want));
  }
});

describe('errorOf: kfn\'s refusal or someone else\'s body', () => {
  const rows: Array<{ name: string; body: unknown; want: ReturnType<typeof errorOf> }> = [
    { name: 'the envelope', body: { error: { code: 'queue_full', message: 'full' } }, want: { code: 'queue_full', message: 'full' } },
    { name: 'with problems, non-strings dropped', body: { error: { code: 'invalid_manifest', message: 'm', problems: ['a', 1, 'b'] } }, want: { code: 'invalid_manifest', message: 'm', problems: ['a', 'b'] } },
    { name: 'a code this build does not know is still read', body: { error: { code: 'from_the_future', message: 'x' } }, want: { code: 'from_the_future', message: 'x' } },
    { name: 'fastify\'s default shape is not kfn\'s', body: { statusCode: 404, error: 'Not Found', message: 'Route GET:/x not found' }, want: undefined },
    { name: 'the old flat shape is not the envelope', body: { error: 'queue_full', message: 'full' }, want: undefined },
    { name: 'an error object without a message', body: { error: { code: 'x' } }, want: undefined },
    { name: 'text', body: 'boom', want: undefined },
    { name: 'null', body: null, want: undefined },
  ];
  for (const row of rows) {
    it(row.name, () => assert.deepEqual(errorOf(row.body), row.want));
  }
});
