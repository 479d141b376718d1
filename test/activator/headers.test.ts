import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { inspectRequest, responseHeaders, type ForwardedFrom } from '../../pkg/activator/headers.js';
import { hello, raw, send, startActivator, startReplica, type Harness, type TestReplica } from './helpers.js';

const plain: ForwardedFrom = { remoteAddress: '10.0.0.7', encrypted: false };
/** The X-Forwarded-* a first hop over plain HTTP adds for Host `h`. */
const xf = (h: string): string[] => ['X-Forwarded-For', '10.0.0.7', 'X-Forwarded-Host', h, 'X-Forwarded-Proto', 'http'];

describe('inspectRequest: headers for the replica', () => {
  const rows: Array<{ name: string; given: string[]; from?: ForwardedFrom; want: string[] }> = [
    { name: 'keeps ordinary headers and their spelling', given: ['Host', 'a', 'X-Trace', '1', 'accept', '*/*'], want: ['Host', 'a', 'X-Trace', '1', 'accept', '*/*', ...xf('a')] },
    {
      name: 'drops the fixed hop-by-hop set',
      given: ['Host', 'a', 'Connection', 'keep-alive', 'Keep-Alive', 'timeout=5', 'TE', 'trailers', 'Trailer', 'X-T', 'Upgrade', 'h2c', 'X-Ok', '1'],
      want: ['Host', 'a', 'X-Ok', '1', ...xf('a')],
    },
    {
      name: 'drops the fields Connection names, in any case and position',
      given: ['X-Secret', 's', 'Host', 'a', 'Connection', 'close, x-secret ,X-Other', 'x-other', 'o', 'X-Kept', 'k'],
      want: ['Host', 'a', 'X-Kept', 'k', ...xf('a')],
    },
    // RFC 9110 §7.6.1: "A sender MUST NOT send a connection option corresponding to a field
    // that is intended for all recipients of the content." A client that does anyway must not
    // make the replica see another request than the one the activator routed and framed.
    {
      name: 'Connection never drops Host, Content-Length or X-Forwarded-*',
      given: ['Host', 'a', 'Content-Length', '3', 'X-Forwarded-Proto', 'https', 'Connection', 'host, Content-Length,x-forwarded-proto, x-forwarded-host, x-forwarded-for, x-drop', 'X-Drop', '1'],
      want: ['Host', 'a', 'Content-Length', '3', 'X-Forwarded-Proto', 'https', 'X-Forwarded-For', '10.0.0.7', 'X-Forwarded-Host', 'a'],
    },
    { name: 'drops Proxy-*', given: ['Host', 'a', 'Proxy-Authorization', 'Basic x', 'proxy-connection', 'keep-alive', 'X-Proxy-Id', 'kept'], want: ['Host', 'a', 'X-Proxy-Id', 'kept', ...xf('a')] },
    { name: 'drops Expect, which node already answered', given: ['Host', 'a', 'Expect', '100-continue', 'Content-Length', '3'], want: ['Host', 'a', 'Content-Length', '3', ...xf('a')] },
    // The transport frames the unsized body as chunked again (proxy.test.ts: chunked DELETE).
    { name: 'leaves the framing of a chunked body to the transport', given: ['Host', 'a', 'Transfer-Encoding', 'chunked'], want: ['Host', 'a', ...xf('a')] },
    {
      name: 'appends to X-Forwarded-For, keeps Host and Proto set by a proxy in front',
      given: ['Host', 'internal', 'X-Forwarded-For', '1.1.1.1', 'x-forwarded-for', '2.2.2.2', 'X-Forwarded-Host', 'public.example', 'X-Forwarded-Proto', 'https'],
      want: ['Host', 'internal', 'X-Forwarded-Host', 'public.example', 'X-Forwarded-Proto', 'https', 'X-Forwarded-For', '1.1.1.1, 2.2.2.2, 10.0.0.7'],
    },
    { name: 'TLS hop without Host', given: [], from: { remoteAddress: '::1', encrypted: true }, want: ['X-Forwarded-For', '::1', 'X-Forwarded-Proto', 'https'] },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const got = inspectRequest(row.given, row.from ?? plain);
      assert.equal(got.problem, undefined);
      assert.deepEqual(got.headers, row.want);
    });
  }
});

describe('inspectRequest: what Connection may not remove', () => {
  it('keeps Host and Content-Length as sent whatever Connection lists', () => {
    const token = fc.oneof(fc.constantFrom('host', 'HOST', 'Host', 'content-length', 'close', 'keep-alive', 'upgrade', 'x-a', ''), fc.stringMatching(/^[a-z-]{1,12}$/));
    fc.assert(
      fc.property(fc.array(token, { maxLength: 8 }), fc.constantFrom(', ', ',', ' , '), (tokens, sep) => {
        const got = inspectRequest(['Host', 'h.d.kfn.local', 'Content-Length', '7', 'Connection', tokens.join(sep)], plain);
        assert.equal(got.problem, undefined);
        const at = got.headers.indexOf('Host');
        assert.equal(got.headers[at + 1], 'h.d.kfn.local');
        assert.equal(got.headers[got.headers.indexOf('Content-Length') + 1], '7');
      }),
    );
  });
});

describe('inspectRequest: routing facts and hostile headers', () => {
  const rows: Array<{ name: string; given: string[]; host?: string; bodyLength?: number; problem?: { code: string; message: RegExp } }> = [
    { name: 'no body', given: ['Host', 'h.d.kfn.local:80'], host: 'h.d.kfn.local:80', bodyLength: 0 },
    { name: 'Content-Length', given: ['Host', 'a', 'Content-Length', '1234'], host: 'a', bodyLength: 1234 },
    { name: 'chunked in any case', given: ['Host', 'a', 'Transfer-Encoding', 'Chunked'], host: 'a', bodyLength: -1 },
    { name: 'IPv6 host', given: ['Host', '[::1]:8080'], host: '[::1]:8080', bodyLength: 0 },
    { name: 'no Host (HTTP/1.0)', given: [], bodyLength: 0 },
    { name: 'two Host headers', given: ['Host', 'a', 'host', 'b'], problem: { code: 'bad_request', message: /more than one Host/ } },
    { name: 'space in Host', given: ['Host', 'a b'], problem: { code: 'bad_request', message: /invalid Host header "a b"/ } },
    { name: 'slash in Host', given: ['Host', 'a/b'], problem: { code: 'bad_request', message: /invalid Host/ } },
    { name: 'userinfo in Host', given: ['Host', 'u@a'], problem: { code: 'bad_request', message: /invalid Host/ } },
    { name: 'coded transfer', given: ['Host', 'a', 'Transfer-Encoding', 'gzip, chunked'], problem: { code: 'unsupported_transfer_encoding', message: /"gzip, chunked"/ } },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const got = inspectRequest(row.given, plain);
      if (row.problem) {
        assert.ok(got.problem);
        assert.equal(got.problem.code, row.problem.code);
        assert.match(got.problem.message, row.problem.message);
        return;
      }
      assert.equal(got.problem, undefined);
      assert.equal(got.host, row.host);
      assert.equal(got.bodyLength, row.bodyLength);
    });
  }
});

describe('responseHeaders', () => {
  const rows: Array<{ name: string; given: string[]; want: string[] }> = [
    {
      name: "drops the replica hop's framing and keep-alive",
      given: ['Content-Type', 'text/plain', 'Date', 'x', 'Connection', 'keep-alive', 'Keep-Alive', 'timeout=5', 'Transfer-Encoding', 'chunked'],
      want: ['Content-Type', 'text/plain', 'Date', 'x'],
    },
    { name: 'drops what Connection names', given: ['X-Hop', 's', 'Connection', 'keep-alive, x-hop', 'X-Replica', 'r1'], want: ['X-Replica', 'r1'] },
    { name: 'drops TE, Trailer and Upgrade in any case', given: ['TE', 'trailers', 'trailer', 'X-Sum', 'UPGRADE', 'h2c', 'X-Ok', '1', 'Upgraded', 'kept'], want: ['X-Ok', '1', 'Upgraded', 'kept'] },
    { name: 'keeps repeated Set-Cookie', given: ['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Proxy-Authenticate', 'Basic'], want: ['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'] },
  ];
  for (const row of rows) it(row.name, () => assert.deepEqual(responseHeaders(row.given), row.want));
});

describe('headers through the activator', () => {
  let h: Harness;
  let replica: TestReplica;
  before(async () => {
    h = await startActivator();
    replica = await startReplica('r1');
    h.act.upsertFunction(hello, {});
    h.act.updateEndpoints({ key: hello, endpoints: [replica.endpoint()] });
  });
  after(async () => {
    await h.close();
    await replica.close();
  });

  it('strips hop-by-hop headers and sets X-Forwarded-* at the replica', async () => {
    const before = replica.seen.length;
    const r = await send(h.port, {
      path: '/default/hello/x',
      headers: {
        connection: 'keep-alive, x-drop-me',
        'x-drop-me': '1',
        'keep-alive': 'timeout=9',
        te: 'trailers',
        'proxy-authorization': 'Basic c2VjcmV0',
        upgrade: 'websocket',
        'x-forwarded-for': '203.0.113.9',
        'x-keep': 'yes',
      },
    });
    assert.equal(r.status, 200);
    const seen = replica.seen[before];
    assert.ok(seen);
    for (const name of ['x-drop-me', 'keep-alive', 'te', 'proxy-authorization', 'upgrade']) assert.equal(seen.headers[name], undefined, name);
    assert.notEqual(seen.headers.connection, 'keep-alive, x-drop-me');
    assert.equal(seen.headers['x-keep'], 'yes');
    assert.equal(seen.headers['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
    assert.equal(seen.headers['x-forwarded-host'], `127.0.0.1:${h.port}`);
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.url, '/x');
  });

  it("strips the replica's hop-by-hop response headers", async () => {
    const r = await send(h.port, { path: '/default/hello/' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-hop'], undefined, 'named by the replica in Connection');
    assert.equal(r.headers['x-replica'], 'r1');
    assert.notEqual(r.headers['keep-alive'], 'timeout=5');
  });

  it('keeps Host at the replica when a raw client lists it in Connection', async () => {
    const before = replica.seen.length;
    const out = await raw(h.port, 'GET /by-host HTTP/1.1\r\nHost: hello.default.kfn.local\r\nConnection: host, close\r\n\r\n', false);
    assert.match(out, /^HTTP\/1\.1 200 /);
    const seen = replica.seen[before];
    assert.ok(seen);
    assert.equal(seen.headers.host, 'hello.default.kfn.local');
    assert.equal(seen.url, '/by-host');
  });

  it('keeps Content-Length at the replica when a raw client lists it in Connection', async () => {
    const before = replica.seen.length;
    const out = await raw(h.port, 'POST /default/hello/?echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: content-length, close\r\n\r\nhello', false);
    assert.match(out, /^HTTP\/1\.1 200 /);
    assert.match(out, /\r\n\r\n5\r\nhello\r\n0\r\n/);
    assert.equal(replica.seen[before]?.headers['content-length'], '5');
  });

  it('rejects two Host headers with 400 before routing', async () => {
    const out = await raw(h.port, 'GET /default/hello/ HTTP/1.1\r\nHost: hello.default.kfn.local\r\nHost: evil.default.kfn.local\r\nConnection: close\r\n\r\n');
    assert.match(out, /^HTTP\/1\.1 400 /);
    assert.match(out, /"error":\{"code":"bad_request".*more than one Host/);
  });

  it('rejects a coded Transfer-Encoding with 501', async () => {
    const out = await raw(h.port, 'POST /default/hello/ HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n0\r\n\r\n');
    assert.match(out, /^HTTP\/1\.1 501 /);
    assert.match(out, /unsupported_transfer_encoding/);
  });

  // What node's parser rejects never reaches handle(): these prove it, and that the
  // client still gets a JSON error rather than a dropped connection.
  const parserRejects: Array<[string, string]> = [
    ['CR inside a header value', 'GET /default/hello/ HTTP/1.1\r\nHost: a\r\nX-A: a\rb\r\n\r\n'],
    ['LF inside a header value', 'GET /default/hello/ HTTP/1.1\r\nHost: a\r\nX-A: a\nX-Injected: 1\r\n\r\n'],
    ['NUL in a header value', 'GET /default/hello/ HTTP/1.1\r\nHost: a\r\nX-A: a\0b\r\n\r\n'],
    ['obs-fold continuation', 'GET /default/hello/ HTTP/1.1\r\nHost: a\r\nX-A: a\r\n b\r\n\r\n'],
    ['Content-Length with Transfer-Encoding', 'POST /default/hello/ HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['two Content-Lengths', 'POST /default/hello/ HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd'],
  ];
  for (const [name, request] of parserRejects) {
    it(`answers 400 JSON for ${name} (rejected by node's parser)`, async () => {
      const before = replica.seen.length;
      const out = await raw(h.port, request);
      assert.match(out, /^HTTP\/1\.1 400 /);
      assert.match(out, /"error":\{"code":"bad_request"/);
      assert.equal(replica.seen.length, before, 'nothing reached the replica');
    });
  }
});
