// gRPC echo: a real gRPC server (@grpc/grpc-js) on $PORT, speaking HTTP/2 cleartext, as a
// function with `spec.portName: h2c` does. Prints one JSON line once it listens.
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const definition = protoLoader.loadSync(fileURLToPath(new URL('./echo.proto', import.meta.url)), { keepCase: true });
const { Echo } = grpc.loadPackageDefinition(definition).kfn.echo;
const name = process.env.REPLICA_NAME ?? process.env.K_SERVICE ?? 'grpc-echo';
let inFlight = 0;
let peak = 0;

/** Counts a call in flight for as long as `run` takes. */
async function counted(run) {
  inFlight++;
  peak = Math.max(peak, inFlight);
  try {
    return await run();
  } finally {
    inFlight--;
  }
}

async function answer(text) {
  const sleep = /^sleep:(\d+)$/.exec(text);
  if (sleep) await new Promise((resolve) => setTimeout(resolve, Math.min(Number(sleep[1]), 60_000)));
  return { text: `${name}:${text}` };
}

const server = new grpc.Server();
server.addService(Echo.service, {
  say(call, callback) {
    if (call.request.text === 'fail') {
      callback({ code: grpc.status.INVALID_ARGUMENT, details: '' });
      return;
    }
    counted(() => answer(call.request.text)).then((msg) => callback(null, msg), callback);
  },
  count(call) {
    void counted(async () => {
      for (let i = 1; i <= call.request.n; i++) call.write({ text: String(i) });
      call.end();
    });
  },
  chat(call) {
    void counted(
      () =>
        new Promise((resolve) => {
          call.on('data', (m) => void answer(m.text).then((msg) => call.write(msg)));
          call.on('end', () => {
            call.end();
            resolve();
          });
          call.on('cancelled', resolve);
        }),
    );
  },
  peak(_call, callback) {
    callback(null, { text: String(peak) });
  },
});

const host = process.env.HOST ?? '127.0.0.1';
server.bindAsync(`${host}:${process.env.PORT ?? 8080}`, grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) {
    console.error(err);
    process.exit(1);
  }
  console.log(JSON.stringify({ msg: 'listening', port }));
});
process.once('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
