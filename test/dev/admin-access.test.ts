// Who may use kfn dev's admin API, tested with raw HTTP/1.1 requests against a real server
// on a loopback port: exactly the bytes a rebinding page, a cross-origin form or another
// machine would send. The admin API applies manifests, and a manifest names a command to run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildAdminApp } from '../../pkg/dev/admin.js';
import { assertSafeListen, isLoopbackAddress } from '../../pkg/dev/admin-access.js';
import type { AdminAccess } from '../../pkg/dev/admin-access.js';
import { FunctionStore, TriggerStore } from '../../pkg/dev/store.js';
import { newRegistry } from '../../pkg/shared/metrics.js';

const TOKEN = 'a-token-of-32-characters-0123456';
const manifest = 'apiVersion: kfn.dev/v1alpha1\nkind: Function\nmetadata: {name: a}\nspec: {image: x, command: [touch, /tmp/pwned]}\n';

interface Raw {
  status: number;
  headers: string;
  body: string;
}

/** Sends `head` (and `body`) as written, over a fresh connection, and reads the whole answer. */
function raw(port: number, head: string, body = ''): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('end', () => {
      const [headers = '', rest = ''] = data.split('\r\n\r\n', 2);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1] ?? 0), headers, body: rest });
    });
    socket.end(`${head.replaceAll('\n', '\r\n')}Connection: close\r\n${body ? `Content-Length: ${Buffer.byteLength(body)}\r\n` : ''}\r\n${body}`);
  });
}

async function serve(t: { after(fn: () => Promise<unknown>): void }, access?: AdminAccess): Promise<{ port: number; functions: FunctionStore }> {
  const functions = new FunctionStore();
  const app: FastifyInstance = buildAdminApp({ stores: { functions, triggers: new TriggerStore() }, metrics: newRegistry(), info: () => ({}), ...(access ? { access } : {}) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  t.after(() => app.close());
  const addr = app.server.address();
  return { port: typeof addr === 'object' && addr ? addr.port : 0, functions };
}

const code = (r: Raw): string => (JSON.parse(r.body) as { error: { code: string } }).error.code;

test('admin API: a Host other than a loopback name with its port is refused 421 (DNS rebinding)', async (t) => {
  const { port, functions } = await serve(t);
  const apply = JSON.stringify({ manifest, dir: '/tmp' });
  // What a browser sends after attacker.example was re-pointed at 127.0.0.1: its own name.
  for (const host of ['attacker.example', `attacker.example:${port}`, '127.0.0.1', `127.0.0.1:${port + 1}`, `localhost.attacker.example:${port}`]) {
    const r = await raw(port, `POST /api/apply HTTP/1.1\nHost: ${host}\nContent-Type: application/json\n`, apply);
    assert.equal(r.status, 421, `Host ${host}: ${r.headers}`);
    assert.equal(code(r), 'misdirected_request');
    assert.match((JSON.parse(r.body) as { error: { message: string } }).error.message, /--admin-allow-host/);
    const get = await raw(port, `GET /api/functions HTTP/1.1\nHost: ${host}\n`);
    assert.equal(get.status, 421, `GET with Host ${host}`);
  }
  assert.equal(functions.list().length, 0, 'nothing applied');
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
    const r = await raw(port, `GET /api/functions HTTP/1.1\nHost: ${host}\n`);
    assert.equal(r.status, 200, `Host ${host}: ${r.body}`);
  }
});

test('admin API: names given with --admin-allow-host are served too', async (t) => {
  const { port } = await serve(t, { extraHosts: ['devbox.lan'] });
  assert.equal((await raw(port, `GET /healthz HTTP/1.1\nHost: devbox.lan:${port}\n`)).status, 200);
  assert.equal((await raw(port, `GET /healthz HTTP/1.1\nHost: other.lan:${port}\n`)).status, 421);
});

test('admin API: a cross-origin page cannot apply: simple (no-preflight) bodies and foreign Origins are refused', async (t) => {
  const { port, functions } = await serve(t);
  const host = `Host: 127.0.0.1:${port}\n`;
  const json = JSON.stringify({ manifest, dir: '/tmp' });
  // The Fetch standard's CORS-safelisted content types: a page may send these without asking.
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
    const r = await raw(port, `POST /api/apply HTTP/1.1\n${host}Content-Type: ${type}\n`, json);
    assert.equal(r.status, 415, `${type}: ${r.body}`);
    assert.equal(code(r), 'unsupported_media_type');
  }
  const foreign = await raw(port, `POST /api/apply HTTP/1.1\n${host}Origin: http://attacker.example\nContent-Type: application/json\n`, json);
  assert.equal(foreign.status, 403);
  assert.equal(code(foreign), 'forbidden');
  const opaque = await raw(port, `POST /api/apply HTTP/1.1\n${host}Origin: null\nContent-Type: application/json\n`, json);
  assert.equal(opaque.status, 403);
  assert.equal(functions.list().length, 0, 'nothing applied');
  const own = await raw(port, `POST /api/apply HTTP/1.1\n${host}Origin: http://127.0.0.1:${port}\nContent-Type: application/json\n`, json);
  assert.equal(own.status, 200, own.body);
});

test('admin API: with a token, every route wants Authorization: Bearer <token>', async (t) => {
  const { port, functions } = await serve(t, { token: TOKEN });
  const host = `Host: 127.0.0.1:${port}\n`;
  const json = JSON.stringify({ manifest, dir: '/tmp' });
  for (const auth of ['', 'Authorization: Bearer wrong\n', `Authorization: Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}\n`, `Authorization: Bearer ${TOKEN}x\n`, `Authorization: Bearer ${TOKEN.slice(1)}\n`, 'Authorization: Bearer\n']) {
    for (const [method, path] of [['GET', '/healthz'], ['GET', '/metrics'], ['GET', '/api/info'], ['GET', '/api/functions'], ['DELETE', '/api/functions/default/a'], ['GET', '/nowhere']]) {
      const r = await raw(port, `${method} ${path} HTTP/1.1\n${host}${auth}`);
      assert.equal(r.status, 401, `${method} ${path} with ${JSON.stringify(auth)}`);
      assert.equal(code(r), 'unauthorized');
      assert.match(r.headers, /^www-authenticate: Bearer/im);
    }
    const r = await raw(port, `POST /api/apply HTTP/1.1\n${host}${auth}Content-Type: application/json\n`, json);
    assert.equal(r.status, 401);
  }
  assert.equal(functions.list().length, 0);
  const ok = await raw(port, `POST /api/apply HTTP/1.1\n${host}Authorization: Bearer ${TOKEN}\nContent-Type: application/json\n`, json);
  assert.equal(ok.status, 200, ok.body);
  // The token does not replace the Host check.
  assert.equal((await raw(port, `GET /healthz HTTP/1.1\nHost: attacker.example\nAuthorization: Bearer ${TOKEN}\n`)).status, 421);
});

test('admin API: listening beyond loopback without a token is refused, naming the fix', () => {
  for (const host of ['0.0.0.0', '::', '192.168.1.5', 'fe80::1', 'devbox.lan']) {
    assert.throws(() => assertSafeListen(host, undefined), /refusing to listen on .*KFN_ADMIN_TOKEN/, host);
    assert.doesNotThrow(() => assertSafeListen(host, TOKEN));
  }
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) {
    assert.ok(isLoopbackAddress(host), host);
    assert.doesNotThrow(() => assertSafeListen(host, undefined));
  }
  assert.throws(() => assertSafeListen('0.0.0.0', 'short'), /at least 16 characters/);
});
