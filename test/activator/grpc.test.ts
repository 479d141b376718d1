// gRPC through the activator over h2c, against a real gRPC server as the replica (the
// grpc-echo sample, @grpc/grpc-js, run as a child process on a free port) and a real gRPC
// client: unary, server streaming and bidi streaming calls, trailers (grpc-status) intact,
// warm and from zero, with containerConcurrency counted per stream.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http2 from 'node:http2';
import { fileURLToPath } from 'node:url';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { FunctionKey } from '../../pkg/apis/meta.js';
import type { ReadyEndpoint } from '../../pkg/platform/types.js';
import { h2RequestHeaders, h2ResponseHeaders } from '../../pkg/activator/h2c.js';
import { isH2Preface } from '../../pkg/activator/h2c-listen.js';
import { waitFor } from '../util/wait.js';
import { hello, send, startActivator, startReplica, type Harness } from './helpers.js';

const SAMPLE = fileURLToPath(new URL('../../../samples/grpc-echo/', import.meta.url));
const fnKey: FunctionKey = { namespace: 'default', name: 'grpc' };
const AUTHORITY = 'grpc.default.kfn.local';

interface Msg {
  text: string;
}
type Unary<Req> = (req: Req, cb: (err: grpc.ServiceError | null, res?: Msg) => void) => grpc.ClientUnaryCall;
interface EchoClient extends grpc.Client {
  Say: Unary<Msg>;
  Peak: Unary<Msg>;
  Count(req: { n: number }): grpc.ClientReadableStream<Msg>;
  Chat(): grpc.ClientDuplexStream<Msg, Msg>;
}

const definition = protoLoader.loadSync(`${SAMPLE}echo.proto`, { keepCase: true });
const loaded = grpc.loadPackageDefinition(definition) as unknown as { kfn: { echo: { Echo: new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => EchoClient } } };

function client(port: number): EchoClient {
  return new loaded.kfn.echo.Echo(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': AUTHORITY });
}

function say(c: EchoClient, text: string): Promise<string> {
  return new Promise((resolve, reject) => c.Say({ text }, (err, res) => (err ? reject(err) : resolve(res?.text ?? ''))));
}

function peak(c: EchoClient): Promise<string> {
  return new Promise((resolve, reject) => c.Peak({ text: '' }, (err, res) => (err ? reject(err) : resolve(res?.text ?? ''))));
}

interface GrpcReplica {
  endpoint(): ReadyEndpoint;
  close(): Promise<void>;
}

/** The grpc-echo sample as a child process on a free port. */
async function startGrpcReplica(name: string): Promise<GrpcReplica> {
  const child: ChildProcess = spawn(process.execPath, ['server.mjs'], { cwd: SAMPLE, env: { ...process.env, PORT: '0', REPLICA_NAME: name }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"port":(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`grpc replica exited with ${code}: ${out}`)));
  });
  return {
    endpoint: () => ({ id: name, host: '127.0.0.1', port }),
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

describe('isH2Preface', () => {
  const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
  const rows: Array<[string, Buffer, boolean | undefined]> = [
    ['the whole preface', preface, true],
    ['the preface and a SETTINGS frame', Buffer.concat([preface, Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]), true],
    ['its first byte only', preface.subarray(0, 1), undefined],
    ['its first 23 bytes', preface.subarray(0, 23), undefined],
    ['an HTTP/1.1 GET', Buffer.from('GET / HTTP/1.1\r\n'), false],
    ['a PROPFIND, which shares "PR"', Buffer.from('PROPFIND / HTTP/1.1\r\n'), false],
    ['a PRI request line of HTTP/1.1', Buffer.from('PRI / HTTP/1.1\r\n'), false],
  ];
  for (const [name, given, want] of rows) it(name, () => assert.equal(isH2Preface(given), want));
});

describe('gRPC through the activator (h2c)', () => {
  let h: Harness;
  let r1: GrpcReplica;
  let c: EchoClient;
  const extra: GrpcReplica[] = [];
  before(async () => {
    r1 = await startGrpcReplica('r1');
  });
  after(async () => {
    await r1.close();
  });
  beforeEach(async () => {
    h = await startActivator();
    c = client(h.port);
  });
  afterEach(async () => {
    c.close();
    await h.close();
    for (const r of extra.splice(0)) await r.close();
  });

  it('makes a unary call to a warm replica', async () => {
    h.act.upsertFunction(fnKey, { portName: 'h2c' });
    h.act.updateEndpoints({ key: fnKey, endpoints: [r1.endpoint()] });
    assert.equal(await say(c, 'hi'), 'r1:hi');
    assert.equal(await say(c, 'again'), 'r1:again');
  });

  it("relays a replica's error status (a trailers-only answer) as the client's status", async () => {
    h.act.upsertFunction(fnKey, { portName: 'h2c' });
    h.act.updateEndpoints({ key: fnKey, endpoints: [r1.endpoint()] });
    await assert.rejects(say(c, 'fail'), (err: grpc.ServiceError) => err.code === grpc.status.INVALID_ARGUMENT);
  });

  it('streams from the server, with grpc-status OK in the trailers', async () => {
    h.act.upsertFunction(fnKey, { portName: 'h2c' });
    h.act.updateEndpoints({ key: fnKey, endpoints: [r1.endpoint()] });
    const call = c.Count({ n: 5 });
    const got: string[] = [];
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    for await (const m of call as AsyncIterable<Msg>) got.push(m.text);
    assert.deepEqual(got, ['1', '2', '3', '4', '5']);
    assert.equal((await status).code, grpc.status.OK);
  });

  it('streams both ways at once (bidi)', async () => {
    h.act.upsertFunction(fnKey, { portName: 'h2c' });
    h.act.updateEndpoints({ key: fnKey, endpoints: [r1.endpoint()] });
    const call = c.Chat();
    const next = (): Promise<string> => new Promise((resolve) => call.once('data', (m: Msg) => resolve(m.text)));
    for (const text of ['a', 'b', 'c']) {
      const answer = next();
      call.write({ text });
      // Each answer comes back before the next message is sent: both directions are open.
      assert.equal(await answer, `r1:${text}`);
    }
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.end();
    assert.equal((await status).code, grpc.status.OK);
  });

  it('waits for a cold function (poking the autoscaler once), then answers unary and streaming calls', async () => {
    h.act.upsertFunction(fnKey, { portName: 'h2c', timeoutSeconds: 30 });
    const answer = say(c, 'cold');
    const stream = c.Count({ n: 3 });
    const counted: string[] = [];
    stream.on('data', (m: Msg) => counted.push(m.text));
    const streamed = new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
    await waitFor('a poke', () => h.sink.pokes.length === 1);
    const cold = await startGrpcReplica('cold');
    extra.push(cold);
    h.act.updateEndpoints({ key: fnKey, endpoints: [cold.endpoint()] });
    assert.equal(await answer, 'cold:cold');
    assert.equal((await streamed).code, grpc.status.OK);
    assert.deepEqual(counted, ['1', '2', '3']);
  });

  it('counts containerConcurrency per stream: at cc=1 concurrent calls queue and the replica never runs two', async () => {
    const solo = await startGrpcReplica('solo');
    extra.push(solo);
    h.act.upsertFunction(fnKey, { portName: 'h2c', containerConcurrency: 1, timeoutSeconds: 30 });
    h.act.updateEndpoints({ key: fnKey, endpoints: [solo.endpoint()] });
    const calls = [say(c, 'sleep:150'), say(c, 'sleep:150'), say(c, 'sleep:150')];
    await waitFor('two queued behind the first', async () => (await queueDepth(h, 'grpc')) === 2);
    assert.deepEqual(await Promise.all(calls), ['solo:sleep:150', 'solo:sleep:150', 'solo:sleep:150']);
    assert.equal(await peak(c), '1');
  });

  it('refuses HTTP/1.1 to an h2c function, and HTTP/2 to an http1 one, with 501 naming portName', async () => {
    const plain = await startReplica('plain');
    try {
      h.act.upsertFunction(fnKey, { portName: 'h2c' });
      h.act.upsertFunction(hello, {});
      h.act.updateEndpoints({ key: hello, endpoints: [plain.endpoint()] });
      const r = await send(h.port, { path: '/default/grpc/' });
      assert.equal(r.status, 501);
      assert.match(r.text, /"code":"unsupported_protocol".*spec.portName h2c/);
      // HTTP/1.1 still works on the same port beside HTTP/2.
      assert.equal((await send(h.port, { path: '/default/hello/' })).status, 200);

      const session = http2.connect(`http://127.0.0.1:${h.port}`);
      try {
        const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = session.request({ ':path': '/default/hello/', ':authority': 'x' });
          let status = 0;
          let body = '';
          req.on('response', (head) => (status = Number(head[':status'])));
          req.on('data', (d: Buffer) => (body += d.toString()));
          req.on('end', () => resolve({ status, body }));
          req.on('error', reject);
          req.end();
        });
        assert.equal(status, 501);
        assert.match(body, /"code":"unsupported_protocol".*spec.portName http1/);
      } finally {
        session.close();
      }
    } finally {
      await plain.close();
    }
  });
});

describe('HTTP/2 requests the activator answers itself', () => {
  let h: Harness;
  let session: http2.ClientHttp2Session;
  beforeEach(async () => {
    h = await startActivator();
    session = http2.connect(`http://127.0.0.1:${h.port}`);
  });
  afterEach(async () => {
    session.close();
    await h.close();
  });

  function request(headers: http2.OutgoingHttpHeaders): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = session.request(headers);
      let status = 0;
      let body = '';
      req.on('response', (head) => (status = Number(head[':status'])));
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => resolve({ status, body }));
      req.on('error', reject);
      req.end();
    });
  }

  it('answers 503 replica_unavailable with the envelope when the replica refuses the connection', async () => {
    const { deadPort } = await import('./helpers.js');
    h.act.upsertFunction(fnKey, { portName: 'h2c' });
    h.act.updateEndpoints({ key: fnKey, endpoints: [{ id: 'dead', host: '127.0.0.1', port: await deadPort() }] });
    const r = await request({ ':path': '/kfn.echo.Echo/Say', ':method': 'POST', ':authority': AUTHORITY });
    assert.equal(r.status, 503);
    assert.match(r.body, /"code":"replica_unavailable".*ECONNREFUSED/);
  });

  const rows: Array<{ name: string; headers: http2.OutgoingHttpHeaders; status: number; code: string }> = [
    // nghttp2 already resets streams whose :authority has a space, a slash or userinfo; a
    // sub-delimiter it lets through is no DNS name either.
    { name: "an :authority nghttp2 lets through but no host has ('a!b')", headers: { ':path': '/', ':authority': 'a!b' }, status: 400, code: 'bad_request' },
    { name: 'an unknown function', headers: { ':path': '/default/ghost/', ':authority': 'x' }, status: 404, code: 'function_not_found' },
  ];
  for (const row of rows) {
    it(`answers ${row.status} ${row.code} for ${row.name}`, async () => {
      const r = await request(row.headers);
      assert.equal(r.status, row.status);
      assert.match(r.body, new RegExp(`"error":\\{"code":"${row.code}"`));
    });
  }
});

async function queueDepth(h: Harness, name: string): Promise<number> {
  const metric = await h.registry.getSingleMetric('kfn_activator_queue_depth')?.get();
  return metric?.values.find((v) => v.labels.name === name)?.value ?? 0;
}

describe('h2RequestHeaders / h2ResponseHeaders', () => {
  it('sets the pseudo-headers for the replica, drops connection fields, keeps te: trailers, appends X-Forwarded-For', () => {
    const got = h2RequestHeaders(
      { ':method': 'POST', ':path': '/default/grpc/kfn.echo.Echo/Say', ':authority': 'x', ':scheme': 'https', te: 'trailers', 'content-type': 'application/grpc', host: 'x', 'proxy-authorization': 'p', 'x-forwarded-for': '1.1.1.1' },
      '/kfn.echo.Echo/Say',
      'x',
      '10.0.0.7',
    );
    assert.deepEqual(got, {
      ':method': 'POST',
      ':scheme': 'http',
      ':authority': 'x',
      ':path': '/kfn.echo.Echo/Say',
      te: 'trailers',
      'content-type': 'application/grpc',
      'x-forwarded-for': '1.1.1.1, 10.0.0.7',
      'x-forwarded-host': 'x',
      'x-forwarded-proto': 'http',
    });
  });

  it('keeps :status and the fields of a response or trailers, nothing connection-specific', () => {
    assert.deepEqual(h2ResponseHeaders({ ':status': '200', 'content-type': 'application/grpc', 'grpc-status': '0', connection: 'x' }), {
      ':status': '200',
      'content-type': 'application/grpc',
      'grpc-status': '0',
    });
  });
});
