// spec.portName h2c end to end through kfn dev: the grpc-echo sample (a real gRPC server)
// as a local replica started from zero, a real gRPC client calling the activator over h2c.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { repoRoot, startDev } from '../util/dev.js';

const sample = path.join(repoRoot, 'samples', 'grpc-echo');

interface Msg {
  text: string;
}
interface EchoClient extends grpc.Client {
  Say(req: Msg, cb: (err: grpc.ServiceError | null, res?: Msg) => void): grpc.ClientUnaryCall;
  Count(req: { n: number }): grpc.ClientReadableStream<Msg>;
}

test('kfn dev serves an h2c function to a gRPC client from zero: unary and server streaming', async () => {
  const manifest = {
    apiVersion: 'kfn.dev/v1alpha1',
    kind: 'Function',
    metadata: { name: 'grpc-echo', namespace: 'default' },
    spec: { image: 'kfn/grpc-echo:dev', command: [process.execPath], args: [path.join(sample, 'server.mjs')], portName: 'h2c', scale: { initial: 0 } },
  };
  const dev = await startDev({ 'grpc.yaml': `${JSON.stringify(manifest)}\n` }, ['--nats-server', '/nonexistent/nats-server']);
  const definition = protoLoader.loadSync(path.join(sample, 'echo.proto'), { keepCase: true });
  const Echo = (grpc.loadPackageDefinition(definition) as unknown as { kfn: { echo: { Echo: new (a: string, c: grpc.ChannelCredentials, o?: grpc.ChannelOptions) => EchoClient } } }).kfn.echo.Echo;
  const client = new Echo(new URL(dev.activator).host, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'grpc-echo.default.kfn.local' });
  try {
    await dev.waitStatus('the function to be routed', 'grpc-echo', (fn) => fn.status?.conditions?.some((c) => c.type === 'Ready') === true);
    const said = await new Promise<string>((resolve, reject) => client.Say({ text: 'hi' }, (err, res) => (err ? reject(err) : resolve(res?.text ?? ''))));
    assert.match(said, /:hi$/);
    const got: string[] = [];
    for await (const m of client.Count({ n: 3 }) as AsyncIterable<Msg>) got.push(m.text);
    assert.deepEqual(got, ['1', '2', '3']);
    // HTTP/1.1 to it is refused, naming why.
    const res = await fetch(`${dev.activator}/default/grpc-echo/`);
    assert.equal(res.status, 501);
    assert.match(await res.text(), /unsupported_protocol.*portName h2c/);
  } finally {
    client.close();
    await dev.stop();
  }
});
