// Forwarding to ready replicas: limits per replica, bodies both ways, endpoint changes
// under load, and retries when a replica refuses the connection.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { waitFor } from '../util/wait.js';
import { codeOf, deadPort, hello, messageOf, raw, send, startActivator, startReplica, type Harness, type TestReplica } from './helpers.js';

describe('proxying to ready replicas', () => {
  let h: Harness;
  const replicas: TestReplica[] = [];
  async function replica(name: string): Promise<TestReplica> {
    const r = await startReplica(name);
    replicas.push(r);
    return r;
  }
  beforeEach(async () => {
    h = await startActivator({ maxBodyBytes: 1024 * 1024 });
  });
  afterEach(async () => {
    await h.close();
    for (const r of replicas.splice(0)) await r.close();
  });

  it('never gives a replica more than containerConcurrency (2 × 3 replicas, 30 concurrent slow requests)', async () => {
    h.act.upsertFunction(hello, { containerConcurrency: 2, timeoutSeconds: 30 });
    const rs = await Promise.all(['r1', 'r2', 'r3'].map(replica));
    h.act.updateEndpoints({ key: hello, endpoints: rs.map((r) => r.endpoint()) });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 30 });
    const replies = await Promise.all(Array.from({ length: 30 }, (_, i) => send(h.port, { path: `/default/hello/${i}?sleep=40`, agent })));
    agent.destroy();
    assert.deepEqual(new Set(replies.map((r) => r.status)), new Set([200]));
    for (const r of rs) {
      assert.ok(r.maxInFlight <= 2, `${r.name} saw ${r.maxInFlight} at once`);
      assert.ok(r.seen.length > 0, `${r.name} got traffic`);
    }
    assert.equal(rs.reduce((n, r) => n + r.seen.length, 0), 30);
    assert.equal(rs.reduce((n, r) => n + r.maxInFlight, 0), 6, 'all six slots were used');
  });

  it('streams a large POST to the replica and its echo back', async () => {
    h.act.upsertFunction(hello, {});
    h.act.updateEndpoints({ key: hello, endpoints: [(await replica('r1')).endpoint()] });
    const body = randomBytes(900 * 1024);
    const sized = await send(h.port, { method: 'POST', path: '/default/hello/?echo', body });
    assert.equal(sized.status, 200);
    assert.ok(sized.body.equals(body), 'Content-Length body echoed intact');
    const chunked = await send(h.port, { method: 'POST', path: '/default/hello/?echo', body, chunkSize: 64 * 1024 });
    assert.equal(chunked.status, 200);
    assert.ok(chunked.body.equals(body), 'chunked body echoed intact');
  });

  it('streams the response before the request body has finished', async () => {
    h.act.upsertFunction(hello, {});
    h.act.updateEndpoints({ key: hello, endpoints: [(await replica('r1')).endpoint()] });
    // Send half the body, wait for its echo to come back through the activator, then the rest.
    const firstEcho = await new Promise<{ req: http.ClientRequest; res: http.IncomingMessage; got: Buffer[] }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: h.port, method: 'POST', path: '/default/hello/?echo', agent: false }, (res) => {
        const got: Buffer[] = [];
        res.once('data', (c: Buffer) => {
          got.push(c);
          res.on('data', (more: Buffer) => got.push(more));
          resolve({ req, res, got });
        });
      });
      req.on('error', reject);
      req.write(Buffer.alloc(1000, 'a'));
    });
    assert.equal(firstEcho.got[0]?.toString().slice(0, 3), 'aaa');
    const done = new Promise((resolve) => firstEcho.res.on('end', resolve));
    firstEcho.req.end(Buffer.alloc(1000, 'b'));
    await done;
    assert.equal(Buffer.concat(firstEcho.got).toString(), 'a'.repeat(1000) + 'b'.repeat(1000));
  });

  it('answers 413 at once for a Content-Length above the limit, before reading the body', async () => {
    h.act.upsertFunction(hello, {});
    const r1 = await replica('r1');
    h.act.updateEndpoints({ key: hello, endpoints: [r1.endpoint()] });
    // Only the head is sent: the answer must not wait for the 2 MiB it announces.
    const out = await raw(h.port, `POST /default/hello/ HTTP/1.1\r\nHost: a\r\nContent-Length: ${2 * 1024 * 1024}\r\n\r\n`, false);
    assert.match(out, /^HTTP\/1\.1 413 /);
    assert.match(out, /\r\nconnection: close\r\n/i);
    assert.match(out, /"error":\{"code":"body_too_large","message":"function default\/hello: request body of 2097152 bytes is larger than the limit of 1048576 bytes"/);
    assert.equal(r1.seen.length, 0);
  });

  it('answers 413 and stops forwarding when a chunked body grows past the limit', async () => {
    h.act.upsertFunction(hello, {});
    h.act.updateEndpoints({ key: hello, endpoints: [(await replica('r1')).endpoint()] });
    const chunk = Buffer.concat([Buffer.from(`${(64 * 1024).toString(16)}\r\n`), Buffer.alloc(64 * 1024, 'x'), Buffer.from('\r\n')]);
    // 18 × 64 KiB > 1 MiB, and the body never ends: the activator must cut it off itself.
    const out = await raw(h.port, ['POST /default/hello/?hold HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n', ...Array.from({ length: 18 }, () => chunk)], false);
    assert.match(out, /^HTTP\/1\.1 413 /);
    assert.match(out, /"error":\{"code":"body_too_large","message":"function default\/hello: request body is larger than the limit of 1048576 bytes"/);
    assert.match(await h.registry.metrics(), /code="413"\} 1/);
  });

  it('answers 413 to an oversized chunked body while queued', async () => {
    h.act.upsertFunction(hello, { timeoutSeconds: 30 });
    const chunk = Buffer.concat([Buffer.from(`${(64 * 1024).toString(16)}\r\n`), Buffer.alloc(64 * 1024, 'x'), Buffer.from('\r\n')]);
    const out = await raw(h.port, ['POST /default/hello/ HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n', ...Array.from({ length: 18 }, () => chunk)], false);
    assert.match(out, /^HTTP\/1\.1 413 /);
    assert.match(await h.registry.metrics(), /queue_depth\{namespace="default",name="hello"\} 0/);
  });

  it('lets requests in flight on a removed endpoint finish, and sends new ones elsewhere', async () => {
    h.act.upsertFunction(hello, { containerConcurrency: 0 });
    const [old, fresh] = [await replica('old'), await replica('fresh')];
    h.act.updateEndpoints({ key: hello, endpoints: [old.endpoint()] });
    const inFlight = [1, 2, 3].map((i) => send(h.port, { path: `/default/hello/${i}?hold` }));
    await waitFor('three held at the old replica', () => old.inFlight === 3);
    h.act.updateEndpoints({ key: hello, endpoints: [fresh.endpoint()] });
    const after = await send(h.port, { path: '/default/hello/after' });
    assert.equal(after.json().replica, 'fresh');
    old.openGate();
    const replies = await Promise.all(inFlight);
    assert.deepEqual(replies.map((r) => [r.status, r.json().replica]), [
      [200, 'old'],
      [200, 'old'],
      [200, 'old'],
    ]);
  });

  it('retries a request on another replica when the first refuses the connection', async () => {
    h.act.upsertFunction(hello, { containerConcurrency: 1 });
    const good = await replica('good');
    // First-available puts the dead endpoint first, so every request tries it first.
    h.act.updateEndpoints({ key: hello, endpoints: [{ id: 'dead', host: '127.0.0.1', port: await deadPort() }, good.endpoint()] });
    const get = await send(h.port, { path: '/default/hello/get' });
    assert.equal(get.status, 200);
    assert.equal(get.json().replica, 'good');
  });

  it('answers 503 naming the replica when the only replica refuses and a retry also fails', async () => {
    h.act.upsertFunction(hello, {});
    const port = await deadPort();
    h.act.updateEndpoints({ key: hello, endpoints: [{ id: 'dead', host: '127.0.0.1', port }] });
    const r = await send(h.port, { path: '/default/hello/' });
    assert.equal(r.status, 503);
    assert.equal(codeOf(r), 'replica_unavailable');
    assert.match(messageOf(r), new RegExp(`default/hello: replica 127\\.0\\.0\\.1:${port} is not accepting connections \\(ECONNREFUSED\\)`));
  });

  it('retries a streamed body refused on connect: not a byte of it was read, let alone sent', async () => {
    h.act.upsertFunction(hello, { containerConcurrency: 1 });
    const good = await replica('good');
    h.act.updateEndpoints({ key: hello, endpoints: [{ id: 'dead', host: '127.0.0.1', port: await deadPort() }, good.endpoint()] });
    const r = await send(h.port, { method: 'POST', path: '/default/hello/?echo', body: 'payload', chunkSize: 3 });
    assert.equal(r.status, 200);
    assert.equal(r.text, 'payload');
    assert.equal(good.seen.length, 1);
  });

  it('retries a body that was fully buffered while queued', async () => {
    h.act.upsertFunction(hello, { containerConcurrency: 1, timeoutSeconds: 30 });
    const pending = send(h.port, { method: 'POST', path: '/default/hello/?echo', body: 'buffered payload' });
    await waitFor('queued', async () => /queue_depth\{namespace="default",name="hello"\} 1/.test(await h.registry.metrics()));
    const good = await replica('good');
    h.act.updateEndpoints({ key: hello, endpoints: [{ id: 'dead', host: '127.0.0.1', port: await deadPort() }, good.endpoint()] });
    const r = await pending;
    assert.equal(r.status, 200);
    assert.equal(r.text, 'buffered payload');
    assert.equal(r.headers['x-replica'], 'good');
  });

  it('answers 504 when the replica stays silent past the function timeout', async () => {
    h.act.upsertFunction(hello, { timeoutSeconds: 0.3 });
    const r1 = await replica('r1');
    h.act.updateEndpoints({ key: hello, endpoints: [r1.endpoint()] });
    const r = await send(h.port, { path: '/default/hello/?hold' });
    assert.equal(r.status, 504);
    assert.equal(codeOf(r), 'upstream_timeout');
    assert.match(messageOf(r), /default\/hello/);
  });

  it('passes a chunked DELETE body and an unusual path through untouched', async () => {
    h.act.upsertFunction(hello, {});
    h.act.updateEndpoints({ key: hello, endpoints: [(await replica('r1')).endpoint()] });
    // Pipelined on one connection: if the body were mis-framed towards the replica, its bytes
    // would turn into a second request there.
    const out = await raw(
      h.port,
      'DELETE /default/hello//a//b?x=//y&echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n' +
        'GET /default/hello/second HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
      false,
    );
    const [first, second] = out.split(/(?=HTTP\/1\.1 )/);
    assert.match(first ?? '', /^HTTP\/1\.1 200 [\s\S]*\r\n\r\n(4\r\n)?abcd/);
    assert.match(second ?? '', /^HTTP\/1\.1 200 [\s\S]*"url":"\/second"/);
    // Two requests, on two connections to the replica: which arrives there first is a race
    // (pipelined requests are forwarded as they are parsed), so the set is what is checked.
    assert.deepEqual(replicas[0]?.seen.map((s) => [s.method, s.url]).sort(), [
      ['DELETE', '//a//b?x=//y&echo'],
      ['GET', '/second'],
    ]);
  });

  it('cuts the client connection when the replica cuts its response short', async () => {
    const cut = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      setImmediate(() => res.socket?.destroy());
    });
    await new Promise<void>((resolve) => cut.listen(0, '127.0.0.1', resolve));
    try {
      const port = (cut.address() as { port: number }).port;
      h.act.upsertFunction(hello, {});
      h.act.updateEndpoints({ key: hello, endpoints: [{ id: 'cut', host: '127.0.0.1', port }] });
      await assert.rejects(send(h.port, { path: '/default/hello/' }), /aborted|ECONNRESET|socket hang up/);
    } finally {
      cut.closeAllConnections();
      await new Promise<void>((resolve) => cut.close(() => resolve()));
    }
  });

  it('keeps client connections alive across proxied requests', async () => {
    h.act.upsertFunction(hello, {});
    h.act.updateEndpoints({ key: hello, endpoints: [(await replica('r1')).endpoint()] });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: h.port, path: '/default/hello/', agent }, (res) => {
          sockets.add(res.socket);
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', reject);
      });
    }
    agent.destroy();
    assert.equal(sockets.size, 1);
  });
});
