// When a request goes to a second replica (DESIGN.md: "A request is replayed on another
// replica only if it provably never reached the first"): a connection that failed before
// a byte was written (refused) is retried; a request the replica may have received (it was
// killed mid-request) is not, unless its method is idempotent and the function says its
// handlers are (spec.retries.idempotent). Real replica processes, killed with SIGKILL.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { mayRetry } from '../../pkg/activator/call.js';
import { waitFor } from '../util/wait.js';
import { codeOf, deadPort, hello, messageOf, send, startActivator, startReplica, type Harness, type TestReplica } from './helpers.js';

/**
 * A replica in its own process: it writes `seen <method> <url>` to stdout (synchronously,
 * so the line is out before anything else can happen) for every request it receives,
 * answers `/ok` at once and never answers `/hold`.
 */
const REPLICA = `
const http = require('node:http');
const fs = require('node:fs');
const server = http.createServer((req, res) => {
  fs.writeSync(1, 'seen ' + req.method + ' ' + req.url + '\\n');
  req.resume();
  if (req.url.startsWith('/hold')) return;
  req.on('end', () => res.end('ok from child'));
});
server.listen(0, '127.0.0.1', () => fs.writeSync(1, 'listening ' + server.address().port + '\\n'));
`;

interface ChildReplica {
  port: number;
  proc: ChildProcess;
  /** The `seen` lines so far. */
  seen(): string[];
}

async function startChildReplica(): Promise<ChildReplica> {
  const proc = spawn(process.execPath, ['-e', REPLICA], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const port = await waitFor('the child replica to listen', () => {
    const m = /listening (\d+)/.exec(out);
    return m ? Number(m[1]) : undefined;
  });
  return { port, proc, seen: () => out.split('\n').filter((l) => l.startsWith('seen ')) };
}

describe('retries to another replica', () => {
  let h: Harness;
  const replicas: TestReplica[] = [];
  const children: ChildProcess[] = [];
  async function replica(name: string): Promise<TestReplica> {
    const r = await startReplica(name);
    replicas.push(r);
    return r;
  }
  async function child(): Promise<ChildReplica> {
    const c = await startChildReplica();
    children.push(c.proc);
    return c;
  }
  beforeEach(async () => {
    h = await startActivator();
  });
  afterEach(async () => {
    await h.close();
    for (const r of replicas.splice(0)) await r.close();
    for (const p of children.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  });

  /** `first` gets the first request: containerConcurrency 1 is first-available, in endpoint order. */
  function serveFrom(first: { id: string; port: number }, second: TestReplica, serving: { retryIdempotent?: boolean } = {}): void {
    h.act.upsertFunction(hello, { containerConcurrency: 1, timeoutSeconds: 30, ...serving });
    h.act.updateEndpoints({ key: hello, endpoints: [{ id: first.id, host: '127.0.0.1', port: first.port }, second.endpoint()] });
  }

  it('runs a POST at most once when its replica is killed mid-request: the client gets 502 naming the failure', async () => {
    const victim = await child();
    const other = await replica('other');
    serveFrom({ id: 'victim', port: victim.port }, other);
    // No body: the whole request is in hand, so the old rule ("replayable") retried it.
    const reply = send(h.port, { method: 'POST', path: '/default/hello/hold-charge' });
    await waitFor('the victim to receive the POST', () => victim.seen().length === 1);
    victim.proc.kill('SIGKILL');
    const r = await reply;
    assert.equal(r.status, 502, r.text);
    assert.equal(codeOf(r), 'replica_reset');
    assert.match(messageOf(r), new RegExp(`function default/hello: replica 127\\.0\\.0\\.1:${victim.port} closed the connection before answering`));
    assert.deepEqual(victim.seen(), ['seen POST /hold-charge']);
    assert.equal(other.seen.length, 0, 'the POST was not sent to another replica');
  });

  it('runs a POST whose body was buffered while queued at most once too', async () => {
    h.act.upsertFunction(hello, { containerConcurrency: 1, timeoutSeconds: 30 });
    const reply = send(h.port, { method: 'POST', path: '/default/hello/hold-order', body: 'order 17' });
    await waitFor('queued', async () => /queue_depth\{namespace="default",name="hello"\} 1/.test(await h.registry.metrics()));
    const victim = await child();
    const other = await replica('other');
    serveFrom({ id: 'victim', port: victim.port }, other);
    await waitFor('the victim to receive the POST', () => victim.seen().length === 1);
    victim.proc.kill('SIGKILL');
    const r = await reply;
    assert.equal(r.status, 502, r.text);
    assert.equal(other.seen.length, 0);
  });

  it('does not repeat a GET either unless the function says its handlers are idempotent', async () => {
    const victim = await child();
    const other = await replica('other');
    serveFrom({ id: 'victim', port: victim.port }, other);
    const reply = send(h.port, { path: '/default/hello/hold-get' });
    await waitFor('the victim to receive the GET', () => victim.seen().length === 1);
    victim.proc.kill('SIGKILL');
    assert.equal((await reply).status, 502);
    assert.equal(other.seen.length, 0);
  });

  it('repeats an idempotent request on another replica when spec.retries.idempotent is set', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const victim = await child();
      const other = await replica(`other-${method}`);
      serveFrom({ id: `victim-${method}`, port: victim.port }, other, { retryIdempotent: true });
      const reply = send(h.port, { method, path: '/default/hello/hold-idempotent', body: method === 'PUT' ? '' : undefined });
      await waitFor('the victim to receive the request', () => victim.seen().length === 1);
      victim.proc.kill('SIGKILL');
      const r = await reply;
      assert.equal(r.status, 200, `${method}: ${r.text}`);
      assert.equal(r.json().replica, `other-${method}`);
      assert.equal(other.seen.length, 1);
    }
  });

  it('still runs a POST once with spec.retries.idempotent set: POST is not idempotent', async () => {
    const victim = await child();
    const other = await replica('other');
    serveFrom({ id: 'victim', port: victim.port }, other, { retryIdempotent: true });
    const reply = send(h.port, { method: 'POST', path: '/default/hello/hold-charge' });
    await waitFor('the victim to receive the POST', () => victim.seen().length === 1);
    victim.proc.kill('SIGKILL');
    assert.equal((await reply).status, 502);
    assert.equal(other.seen.length, 0);
  });

  it('retries a POST refused by a replica whose port is closed: it never got a byte', async () => {
    const other = await replica('other');
    serveFrom({ id: 'closed', port: await deadPort() }, other);
    const r = await send(h.port, { method: 'POST', path: '/default/hello/charge', body: 'streamed straight through' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json().replica, 'other');
    assert.deepEqual(other.seen.map((s) => s.method), ['POST']);
  });

  it('retries a POST on another replica when the killed replica is reached again over its kept-alive connection', async () => {
    // The first request leaves a kept-alive connection; the kill closes it between
    // requests. undici finds it closed before writing and connects again, which is refused:
    // nothing of the second request was written, so it may go elsewhere.
    const victim = await child();
    const other = await replica('other');
    serveFrom({ id: 'victim', port: victim.port }, other);
    const first = await send(h.port, { method: 'POST', path: '/default/hello/ok' });
    assert.equal(first.text, 'ok from child');
    victim.proc.kill('SIGKILL');
    await new Promise((resolve) => victim.proc.once('exit', resolve));
    const r = await send(h.port, { method: 'POST', path: '/default/hello/ok' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json().replica, 'other');
    assert.deepEqual(victim.seen(), ['seen POST /ok']);
  });
});

describe('a kept-alive connection the replica closes between requests', () => {
  let h: Harness;
  let server: http.Server;
  beforeEach(async () => {
    h = await startActivator();
  });
  afterEach(async () => {
    await h.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  });

  it('sends the next POST on a new connection, once, when the replica closed the idle one', async () => {
    const seen: string[] = [];
    const sockets = new Set<Socket>();
    server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
      seen.push(`${req.method} ${req.url}`);
      sockets.add(req.socket);
      req.resume();
      req.on('end', () => res.end('done'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    h.act.upsertFunction(hello, {});
    h.act.updateEndpoints({ key: hello, endpoints: [{ id: 's', host: '127.0.0.1', port }] });
    assert.equal((await send(h.port, { method: 'POST', path: '/default/hello/1', body: 'a' })).status, 200);
    // The replica closes the idle kept-alive connection (its keep-alive timeout, made certain).
    server.closeIdleConnections();
    await waitFor('the activator to see the connection closed', async () => (await new Promise<number>((r) => server.getConnections((_e, n) => r(n)))) === 0);
    const r = await send(h.port, { method: 'POST', path: '/default/hello/2', body: 'b' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(seen, ['POST /1', 'POST /2']);
    assert.equal(sockets.size, 2, 'the second POST came on a new connection');
  });
});

describe('mayRetry', () => {
  // RFC 9110 §9.2.2: "the request methods defined by this specification [as idempotent are]
  // PUT, DELETE, and safe request methods" (GET, HEAD, OPTIONS, TRACE, §9.2.1).
  const table: Array<[string, boolean, string, string, boolean, boolean]> = [
    ['nothing written: any method, any error', false, 'POST', 'ECONNREFUSED', false, true],
    ['nothing written: connect timeout', false, 'PATCH', 'UND_ERR_CONNECT_TIMEOUT', false, true],
    ['written POST, reset', true, 'POST', 'ECONNRESET', true, false],
    ['written PATCH, closed', true, 'PATCH', 'UND_ERR_SOCKET', true, false],
    ['written GET, reset, not declared idempotent', true, 'GET', 'ECONNRESET', false, false],
    ['written GET, reset, declared idempotent', true, 'GET', 'ECONNRESET', true, true],
    ['written PUT, closed, declared', true, 'PUT', 'UND_ERR_SOCKET', true, true],
    ['written DELETE, EPIPE, declared', true, 'DELETE', 'EPIPE', true, true],
    ['written HEAD, OPTIONS, TRACE declared', true, 'OPTIONS', 'ECONNRESET', true, true],
    ['written GET, timeout: the replica is slow, not gone', true, 'GET', 'UND_ERR_HEADERS_TIMEOUT', true, false],
    ['written GET, an unknown error', true, 'GET', 'ERR_SOMETHING', true, false],
  ];
  for (const [name, written, method, code, idempotent, want] of table) {
    it(name, () => assert.equal(mayRetry(written, method, code, idempotent), want));
  }
});
