// WebSockets and other Upgrade requests through the activator, against a real `ws` server
// as the replica and a real `ws` client (RFC 6455 handshakes neither of them is ours), and
// raw sockets for the header and refusal rules.
import assert from 'node:assert/strict';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import type { ReadyEndpoint } from '../../pkg/platform/types.js';
import { offersOnlyH2c, upgradeHeaders, upgradeRefusal } from '../../pkg/activator/upgrade-rules.js';
import { waitFor } from '../util/wait.js';
import { hello, raw, startActivator, startReplica, type Harness } from './helpers.js';

interface WsReplica {
  readonly port: number;
  /** The handshake requests as the replica saw them. */
  readonly seen: Array<{ url: string; headers: IncomingHttpHeaders }>;
  readonly open: number;
  readonly maxOpen: number;
  endpoint(): ReadyEndpoint;
  close(): Promise<void>;
}

/** An echo WebSocket server on port 0; echoes each message prefixed with its name. */
async function startWsReplica(name: string): Promise<WsReplica> {
  const server = http.createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' });
    res.end('upgrade required');
  });
  const wss = new WebSocketServer({ server });
  const seen: WsReplica['seen'] = [];
  let open = 0;
  let maxOpen = 0;
  wss.on('connection', (ws, req) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    open++;
    maxOpen = Math.max(maxOpen, open);
    ws.on('close', () => open--);
    ws.on('message', (data, isBinary) => ws.send(isBinary ? data : `${name}:${(data as Buffer).toString()}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    seen,
    get open() {
      return open;
    },
    get maxOpen() {
      return maxOpen;
    },
    endpoint: () => ({ id: name, host: '127.0.0.1', port }),
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A client WebSocket through the activator; resolves when open, rejects on a refused handshake. */
function connect(port: number, path = '/default/hello/chat', headers?: Record<string, string>, protocols: string[] = []): { ws: WebSocket; opened: Promise<void>; closed: Promise<number> } {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, protocols, { headers });
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`handshake answered ${res.statusCode}`)));
  });
  opened.catch(() => {});
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  return { ws, opened, closed };
}

function echo(ws: WebSocket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    ws.once('message', (data) => resolve((data as Buffer).toString()));
    ws.once('error', reject);
    ws.send(text);
  });
}

describe('upgradeRefusal', () => {
  const rows: Array<{ upgrade: string; bodyLength?: number; refused: RegExp | undefined }> = [
    { upgrade: 'websocket', refused: undefined },
    { upgrade: 'WebSocket', refused: undefined },
    { upgrade: 'foo/2, websocket', refused: undefined },
    // RFC 9113 §3.1: "This usage was never widely deployed and is deprecated by this document."
    { upgrade: 'h2c', refused: /h2c is not supported.*RFC 9113/ },
    { upgrade: 'websocket, H2C', refused: /h2c/ },
    { upgrade: 'websocket', bodyLength: 5, refused: /with a body/ },
    { upgrade: 'websocket', bodyLength: -1, refused: /with a body/ },
  ];
  for (const row of rows) {
    it(`${row.upgrade} with body ${row.bodyLength ?? 0}`, () => {
      const got = upgradeRefusal(row.upgrade, row.bodyLength ?? 0);
      if (!row.refused) assert.equal(got, undefined);
      else assert.match(got?.message ?? '', row.refused);
    });
  }

  it('upgradeHeaders asks for the switch again and joins repeats', () => {
    const got = upgradeHeaders(['Host', 'a', 'Cookie', 'a=1', 'cookie', 'b=2', 'X-A', '1', 'x-a', '2'], 'websocket');
    assert.deepEqual({ ...got }, { host: 'a', cookie: 'a=1; b=2', 'x-a': '1, 2', connection: 'Upgrade', upgrade: 'websocket' });
  });
});

describe('WebSockets through the activator', () => {
  let h: Harness;
  const stops: Array<() => Promise<void>> = [];
  beforeEach(async () => {
    h = await startActivator({ statIntervalMs: 50 });
  });
  afterEach(async () => {
    await h.close();
    for (const stop of stops.splice(0)) await stop();
  });

  async function wsReplica(name: string): Promise<WsReplica> {
    const r = await startWsReplica(name);
    stops.push(() => r.close());
    return r;
  }

  it('echoes through a warm replica, which sees the handshake with its own path and Host', async () => {
    const r = await wsReplica('r1');
    h.act.upsertFunction(hello, {});
    h.act.updateEndpoints({ key: hello, endpoints: [r.endpoint()] });
    const c = connect(h.port, '/default/hello/chat?room=1', { 'x-trace': 't1' }, ['chat']);
    await c.opened;
    assert.equal(c.ws.protocol, 'chat', 'the subprotocol the replica chose reaches the client');
    assert.equal(await echo(c.ws, 'hi'), 'r1:hi');
    assert.equal(await echo(c.ws, 'again'), 'r1:again');
    const seen = r.seen[0];
    assert.ok(seen);
    assert.equal(seen.url, '/chat?room=1');
    assert.equal(seen.headers.upgrade, 'websocket');
    assert.match(String(seen.headers.connection), /upgrade/i);
    assert.equal(seen.headers['x-trace'], 't1');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    c.ws.close();
    await c.closed;
    await waitFor('the replica to see it closed', () => r.open === 0);
  });

  it('waits for a cold function (poking the autoscaler once), then echoes', async () => {
    h.act.upsertFunction(hello, { timeoutSeconds: 30 });
    const c = connect(h.port, '/default/hello/');
    await waitFor('a poke', () => h.sink.pokes.length === 1);
    const r = await wsReplica('cold');
    h.act.updateEndpoints({ key: hello, endpoints: [r.endpoint()] });
    await c.opened;
    assert.equal(await echo(c.ws, 'x'), 'cold:x');
    c.ws.close();
    await c.closed;
  });

  it('holds one containerConcurrency slot while open: at cc=1 a second WebSocket waits for the first to close', async () => {
    const r = await wsReplica('r1');
    h.act.upsertFunction(hello, { containerConcurrency: 1, timeoutSeconds: 30 });
    h.act.updateEndpoints({ key: hello, endpoints: [r.endpoint()] });
    const stop = new AbortController();
    const reporting = h.act.run(stop.signal);
    const first = connect(h.port);
    await first.opened;
    const second = connect(h.port);
    let secondOpen = false;
    void second.opened.then(() => (secondOpen = true));
    await waitFor('the second to queue', async () => (await queueDepth(h)) === 1);
    // The open tunnel counts in the concurrency the autoscaler sees.
    await waitFor('a stat with both in flight', () => h.sink.stats.some((s) => s.averageConcurrency >= 1.5));
    assert.equal(secondOpen, false);
    assert.equal(r.open, 1);
    first.ws.close();
    await first.closed;
    await second.opened;
    assert.equal(await echo(second.ws, 'b'), 'r1:b');
    assert.equal(r.maxOpen, 1, 'never two at once on the replica');
    second.ws.close();
    await second.closed;
    stop.abort();
    await reporting;
  });

  it('answers a waiting WebSocket past the queue bound with a 503 envelope', async () => {
    await h.close();
    h = await startActivator({ maxQueue: 1 });
    h.act.upsertFunction(hello, { timeoutSeconds: 30 });
    const waiting = connect(h.port);
    await waitFor('one queued', async () => (await queueDepth(h)) === 1);
    const out = await raw(h.port, handshake('/default/hello/'), false);
    assert.match(out, /^HTTP\/1\.1 503 /);
    assert.match(out, /"code":"queue_full"/);
    waiting.ws.terminate();
  });

  it('answers 504 activation_timeout on the socket when the function stays cold past its timeout', async () => {
    h.act.upsertFunction(hello, { timeoutSeconds: 1 });
    const out = await raw(h.port, handshake('/default/hello/'), false);
    assert.match(out, /^HTTP\/1\.1 504 /);
    assert.match(out, /"code":"activation_timeout".*default\/hello/);
  });

  it('gives up the queue place of a client that goes away while waiting', async () => {
    h.act.upsertFunction(hello, { timeoutSeconds: 30 });
    const c = connect(h.port);
    await waitFor('one queued', async () => (await queueDepth(h)) === 1);
    c.ws.terminate();
    await waitFor('the queue to empty', async () => (await queueDepth(h)) === 0);
  });

  it('cuts an open tunnel within timeoutSeconds after its replica leaves, and frees its slot', async () => {
    const r = await wsReplica('r1');
    h.act.upsertFunction(hello, { containerConcurrency: 1, timeoutSeconds: 1 });
    h.act.updateEndpoints({ key: hello, endpoints: [r.endpoint()] });
    const c = connect(h.port);
    await c.opened;
    h.act.updateEndpoints({ key: hello, endpoints: [] });
    // Still usable while it drains.
    assert.equal(await echo(c.ws, 'draining'), 'r1:draining');
    await c.closed;
    await waitFor('the replica to see it closed', () => r.open === 0);
  });

  it("relays a replica's non-101 answer to the switch as it is, having asked it to switch", async () => {
    const plain = await startReplica('plain');
    stops.push(() => plain.close());
    h.act.upsertFunction(hello, {});
    h.act.updateEndpoints({ key: hello, endpoints: [plain.endpoint()] });
    const out = await raw(h.port, handshake('/default/hello/'), false);
    // The plain replica answers every request 200 with JSON: relayed as it is, not a 101.
    assert.match(out, /^HTTP\/1\.1 200 /);
    assert.doesNotMatch(out, /101 Switching/);
    const seen = plain.seen.at(-1);
    assert.ok(seen);
    assert.equal(seen.headers.upgrade, 'websocket', 'the replica was asked to switch');
  });
});

describe('Upgrade requests the activator refuses, over raw sockets', () => {
  let h: Harness;
  let plainSeen: () => number;
  let stop: () => Promise<void>;
  beforeEach(async () => {
    h = await startActivator();
    const plain = await startReplica('plain');
    plainSeen = () => plain.seen.length;
    stop = () => plain.close();
    h.act.upsertFunction(hello, {});
    h.act.updateEndpoints({ key: hello, endpoints: [plain.endpoint()] });
  });
  afterEach(async () => {
    await h.close();
    await stop();
  });

  const rows: Array<{ name: string; request: string; status: number; code: string; message?: RegExp }> = [
    {
      name: 'h2c offered beside websocket (RFC 9113 §3.1 deprecated the h2c upgrade)',
      request: 'GET /default/hello/ HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: websocket, h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n',
      status: 501,
      code: 'unsupported_protocol',
      message: /h2c.*prior knowledge/,
    },
    { name: 'CONNECT', request: 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', status: 501, code: 'unsupported_protocol', message: /CONNECT/ },
    { name: 'an Upgrade with a body', request: 'POST /default/hello/ HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 3\r\n\r\nabc', status: 501, code: 'unsupported_protocol', message: /body/ },
    { name: 'an unknown function', request: handshake('/default/ghost/', 'a'), status: 404, code: 'function_not_found', message: /ghost/ },
    { name: 'two Host headers', request: 'GET /default/hello/ HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n', status: 400, code: 'bad_request', message: /more than one Host/ },
  ];
  for (const row of rows) {
    it(`answers ${row.status} ${row.code} for ${row.name}, reaching no replica`, async () => {
      const before = plainSeen();
      const out = await raw(h.port, row.request, false);
      assert.match(out, new RegExp(`^HTTP/1\\.1 ${row.status} `));
      assert.match(out, /content-type: application\/json/i);
      assert.match(out, new RegExp(`"error":\\{"code":"${row.code}"`));
      if (row.message) assert.match(out, row.message);
      assert.equal(plainSeen(), before);
    });
  }
});

describe('an offer of h2c alone (what curl --http2 sends over plain http)', () => {
  // RFC 9110 §7.8: "A server MAY ignore a received Upgrade header field if it wishes to
  // continue using the current protocol on that connection."
  let h: Harness;
  let stop: () => Promise<void>;
  let seen: () => IncomingHttpHeaders[];
  beforeEach(async () => {
    h = await startActivator();
    const plain = await startReplica('plain');
    seen = () => plain.seen.map((r) => r.headers);
    stop = () => plain.close();
    h.act.upsertFunction(hello, {});
    h.act.updateEndpoints({ key: hello, endpoints: [plain.endpoint()] });
  });
  afterEach(async () => {
    await h.close();
    await stop();
  });

  it('is answered as the HTTP/1.1 request it also is, with the offer not passed on', async () => {
    // The head curl 8 sends for `curl --http2 http://…`.
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.get({
        port: h.port,
        host: '127.0.0.1',
        path: '/default/hello/',
        agent: false,
        headers: { Connection: 'Upgrade, HTTP2-Settings', Upgrade: 'h2c', 'HTTP2-Settings': 'AAMAAABkAAQAAP__' },
      });
      req.on('response', resolve);
      req.on('upgrade', () => reject(new Error('the activator switched protocols')));
      req.on('error', reject);
    });
    res.resume();
    await new Promise((resolve) => res.on('end', resolve));
    assert.equal(res.httpVersion, '1.1');
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers.upgrade, undefined, 'no switch is announced');
    const got = seen();
    assert.equal(got.length, 1);
    assert.equal(got[0]?.upgrade, undefined);
    assert.equal(got[0]?.['http2-settings'], undefined);
    assert.doesNotMatch(String(got[0]?.connection ?? ''), /upgrade/i);
  });

  const rows: Array<{ upgrade: string | undefined; only: boolean }> = [
    { upgrade: 'h2c', only: true },
    { upgrade: 'H2C', only: true },
    { upgrade: ' h2c , h2c ', only: true },
    { upgrade: 'h2c/2', only: true },
    { upgrade: 'websocket, h2c', only: false },
    { upgrade: 'websocket', only: false },
    { upgrade: '', only: false },
    { upgrade: ' , ', only: false },
    { upgrade: undefined, only: false },
  ];
  for (const row of rows) {
    it(`offersOnlyH2c(${JSON.stringify(row.upgrade)}) is ${row.only}`, () => {
      assert.equal(offersOnlyH2c(row.upgrade), row.only);
    });
  }
});

/** A WebSocket handshake as RFC 6455 §1.3 shows it. */
function handshake(path: string, host = 'hello.default.kfn.local'): string {
  return `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
}

async function queueDepth(h: Harness): Promise<number> {
  const metric = await h.registry.getSingleMetric('kfn_activator_queue_depth')?.get();
  return metric?.values.find((v) => v.labels.name === 'hello')?.value ?? 0;
}
