// The connections to replicas: kept alive per replica, closed when the replica leaves,
// when its function is removed, when idle too long or too many, and when the activator closes; what travels over them
// (repeated headers, trailers, 1xx) and how a connection lost or gone silent is handled.
import assert from 'node:assert/strict';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { waitFor } from '../util/wait.js';
import { hello, send, startActivator, startReplica, type Harness, type TestReplica } from './helpers.js';

interface Server {
  port: number;
  close(): Promise<void>;
}

async function startServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('connections to replicas', () => {
  let h: Harness;
  const replicas: TestReplica[] = [];
  const servers: Server[] = [];
  async function replica(name: string): Promise<TestReplica> {
    const r = await startReplica(name);
    replicas.push(r);
    return r;
  }
  async function server(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
    const s = await startServer(handler);
    servers.push(s);
    return s;
  }
  beforeEach(async () => {
    h = await startActivator();
  });
  afterEach(async () => {
    await h.close();
    for (const r of replicas.splice(0)) await r.close();
    for (const s of servers.splice(0)) await s.close();
  });

  // Idle connections would close by themselves after the keep-alive timeout (4 s): closing
  // them must not wait for it.
  const promptly = { timeoutMs: 2000 };

  /** Opens `n` keep-alive connections to the function's replica with `n` concurrent requests. */
  async function warm(n: number): Promise<void> {
    const replies = await Promise.all(Array.from({ length: n }, () => send(h.port, { path: '/default/hello/?sleep=20' })));
    assert.deepEqual(new Set(replies.map((r) => r.status)), new Set([200]));
  }

  it('reuses keep-alive connections to a replica', async () => {
    h.act.upsertFunction(hello, {});
    const r1 = await replica('r1');
    h.act.updateEndpoints({ key: hello, endpoints: [r1.endpoint()] });
    for (let i = 0; i < 10; i++) assert.equal((await send(h.port, { path: '/default/hello/' })).status, 200);
    assert.equal(await r1.connections(), 1, 'ten requests in a row, one connection');
  });

  it('keeps client and replica connections alive across requests with bodies', async () => {
    h.act.upsertFunction(hello, {});
    const r1 = await replica('r1');
    h.act.updateEndpoints({ key: hello, endpoints: [r1.endpoint()] });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 5; i++) {
        const sized = await send(h.port, { method: 'POST', path: '/default/hello/?echo', body: `sized ${i}`, agent });
        assert.equal(sized.text, `sized ${i}`);
        const chunked = await send(h.port, { method: 'PUT', path: '/default/hello/?echo', body: `chunked ${i}`, chunkSize: 3, agent });
        assert.equal(chunked.text, `chunked ${i}`);
      }
    } finally {
      agent.destroy();
    }
    assert.equal(await r1.connections(), 1, 'one connection to the replica');
  });

  it('closes the connections to a removed endpoint, after its requests in flight finish', async () => {
    h.act.upsertFunction(hello, {});
    const [old, fresh] = [await replica('old'), await replica('fresh')];
    h.act.updateEndpoints({ key: hello, endpoints: [old.endpoint()] });
    await warm(4);
    assert.equal(await old.connections(), 4);
    const held = send(h.port, { path: '/default/hello/?hold' });
    await waitFor('held at the old replica', () => old.inFlight === 1);

    h.act.updateEndpoints({ key: hello, endpoints: [fresh.endpoint()] });
    await waitFor('idle connections to the old replica closed', async () => (await old.connections()) === 1, promptly);
    assert.equal((await send(h.port, { path: '/default/hello/' })).json().replica, 'fresh');
    old.openGate();
    const r = await held;
    assert.equal(r.status, 200);
    assert.equal(r.json().replica, 'old', 'the request in flight finished on its replica');
    await waitFor('no connection left to the old replica', async () => (await old.connections()) === 0);
  });

  it('closes the connections to the replicas of a removed function', async () => {
    h.act.upsertFunction(hello, {});
    const r1 = await replica('r1');
    h.act.updateEndpoints({ key: hello, endpoints: [r1.endpoint()] });
    await warm(3);
    assert.equal(await r1.connections(), 3);
    h.act.removeFunction(hello);
    await waitFor('no connection left to the replica', async () => (await r1.connections()) === 0, promptly);
  });

  it('leaves no connection open to any replica once closed', async () => {
    h.act.upsertFunction(hello, {});
    const r1 = await replica('r1');
    h.act.updateEndpoints({ key: hello, endpoints: [r1.endpoint()] });
    await warm(3);
    assert.equal(await r1.connections(), 3);
    await h.close();
    await waitFor('no connection left to the replica', async () => (await r1.connections()) === 0, promptly);
  });

  it('stops the replica working on a request whose client went away', async () => {
    h.act.upsertFunction(hello, {});
    const r1 = await replica('r1');
    h.act.updateEndpoints({ key: hello, endpoints: [r1.endpoint()] });
    const abort = new AbortController();
    const gone = send(h.port, { path: '/default/hello/?hold', signal: abort.signal }).catch((err: unknown) => err);
    await waitFor('held at the replica', () => r1.inFlight === 1);
    abort.abort();
    await gone;
    await waitFor('the replica saw its request closed', () => r1.inFlight === 0);
    assert.match(await h.registry.metrics(), /requests_total\{namespace="default",name="hello",code="499"\} 1/);
  });

  it('relays repeated response headers, status text and trailers', async () => {
    const s = await server((_req, res) => {
      res.writeHead(201, 'Made It', [
        ['Set-Cookie', 'a=1'],
        ['Set-Cookie', 'b=2'],
        ['Trailer', 'X-Checksum'],
      ]);
      res.addTrailers({ 'X-Checksum': 'abc123' });
      res.end('body');
    });
    h.act.upsertFunction(hello, {});
    h.act.updateEndpoints({ key: hello, endpoints: [{ id: 's', host: '127.0.0.1', port: s.port }] });
    const got = await new Promise<{ status: number; message: string; cookies: string[]; body: string; trailers: NodeJS.Dict<string> }>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: h.port, path: '/default/hello/', agent: false, headers: { te: 'trailers' } }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, message: res.statusMessage ?? '', cookies: res.headers['set-cookie'] ?? [], body, trailers: res.trailers }));
        })
        .on('error', reject);
    });
    assert.equal(got.status, 201);
    assert.equal(got.message, 'Made It');
    assert.deepEqual(got.cookies, ['a=1', 'b=2']);
    assert.equal(got.body, 'body');
    assert.equal(got.trailers['x-checksum'], 'abc123');
  });

  it('answers with the final response after a 103 Early Hints', async () => {
    const s = await server((_req, res) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('final');
    });
    h.act.upsertFunction(hello, {});
    h.act.updateEndpoints({ key: hello, endpoints: [{ id: 's', host: '127.0.0.1', port: s.port }] });
    const r = await send(h.port, { path: '/default/hello/' });
    assert.equal(r.status, 200);
    assert.equal(r.text, 'final');
  });

  it('answers 502 when the replica closes a kept-alive connection after reading the request on it, and retries only with spec.retries.idempotent', async () => {
    // Every connection answers its first request and closes without answering its second:
    // the race of a keep-alive timeout on the replica's side, made certain.
    const answered = new WeakSet<Socket>();
    let cut = 0;
    const s = await server((req, res) => {
      const socket = req.socket;
      if (answered.has(socket)) {
        cut++;
        socket.destroy();
        return;
      }
      answered.add(socket);
      res.end('ok');
    });
    h.act.upsertFunction(hello, {});
    h.act.updateEndpoints({ key: hello, endpoints: [{ id: 's', host: '127.0.0.1', port: s.port }] });
    assert.equal((await send(h.port, { path: '/default/hello/' })).status, 200);
    // The replica read the second request: it may have acted on it, so it is not repeated.
    const refused = await send(h.port, { path: '/default/hello/' });
    assert.equal(refused.status, 502, refused.text);
    assert.equal(cut, 1);
    // A function whose GETs are idempotent has it sent again, on a new connection.
    h.act.upsertFunction(hello, { retryIdempotent: true });
    for (let i = 0; i < 3; i++) {
      const r = await send(h.port, { path: '/default/hello/' });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.text, 'ok');
    }
    assert.ok(cut > 1, 'a reused connection was cut at least once more');
  });

  it('cuts the client connection when the replica goes silent in the middle of its response', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
    });
    h.act.upsertFunction(hello, { timeoutSeconds: 0.3 });
    h.act.updateEndpoints({ key: hello, endpoints: [{ id: 's', host: '127.0.0.1', port: s.port }] });
    await assert.rejects(send(h.port, { path: '/default/hello/' }), /aborted|ECONNRESET|socket hang up/);
  });
  it('closes the connection to a replica nobody called for the idle period, and opens one on the next request', async () => {
    await h.close();
    h = await startActivator({ idleConnectionMs: 50 });
    h.act.upsertFunction(hello, {});
    const r1 = await replica('r1');
    h.act.updateEndpoints({ key: hello, endpoints: [r1.endpoint()] });
    assert.equal((await send(h.port, { path: '/default/hello/' })).status, 200);
    await waitFor('the idle pool to be closed', async () => (await r1.connections()) === 0, promptly);
    assert.equal((await send(h.port, { path: '/default/hello/' })).status, 200);
  });

  it('keeps at most maxIdleConnections idle connections over all replicas, closing the least recently used', async () => {
    await h.close();
    h = await startActivator({ maxIdleConnections: 1 });
    const other = { namespace: 'default', name: 'other' };
    const [r1, r2] = [await replica('r1'), await replica('r2')];
    h.act.upsertFunction(hello, {});
    h.act.upsertFunction(other, {});
    h.act.updateEndpoints({ key: hello, endpoints: [r1.endpoint()] });
    h.act.updateEndpoints({ key: other, endpoints: [r2.endpoint()] });
    assert.equal((await send(h.port, { path: '/default/hello/' })).status, 200);
    assert.equal(await r1.connections(), 1, 'one idle connection is within the bound');
    assert.equal((await send(h.port, { path: '/default/other/' })).status, 200);
    await waitFor("r1's connection, now the older idle one, to be closed", async () => (await r1.connections()) === 0, promptly);
    assert.equal(await r2.connections(), 1);
    assert.equal((await send(h.port, { path: '/default/hello/' })).status, 200, 'a new connection for the next request');
  });

  it('opens a second connection to a replica only while the first is busy, and reuses the first after', async () => {
    h.act.upsertFunction(hello, {});
    const r1 = await replica('r1');
    h.act.updateEndpoints({ key: hello, endpoints: [r1.endpoint()] });
    await warm(2);
    assert.equal(await r1.connections(), 2, 'two requests at once, two connections');
    for (let i = 0; i < 5; i++) assert.equal((await send(h.port, { path: '/default/hello/' })).status, 200);
    assert.equal(await r1.connections(), 2, 'requests one at a time open no more');
  });
});
