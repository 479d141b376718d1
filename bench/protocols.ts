// WebSocket messages/s and gRPC calls/s through the activator against the same load
// straight to the replica. Replicas and the activator each run in their own process: a
// `ws` echo server (ws-echo-replica.ts), the grpc-echo sample (@grpc/grpc-js over h2c)
// and activator-server.ts routing default/ws and default/grpc (portName h2c) to them.
// Closed loop: `connections` WebSockets each send a 64-byte message and wait for its echo
// before the next; `concurrency` unary gRPC calls in flight at once on one channel (one
// HTTP/2 connection, as a gRPC client keeps). Targets take turns in rounds of `roundS`
// after `warmupS`, so drift in the machine's load hits both alike.
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { WebSocket } from 'ws';
import { benchDist, repoRoot } from './lib/paths.js';
import { startChild, type Child } from './lib/proc.js';
import { round } from './lib/stats.js';

export interface ProtocolsOptions {
  roundS: number;
  rounds: number;
  warmupS: number;
  /** WebSockets open at once per target. */
  connections: number;
  /** Unary gRPC calls in flight at once per target. */
  concurrency: number;
  gate?: () => Promise<void>;
}

export interface ProtocolFigures {
  direct: number;
  activator: number;
  /** activator / direct. */
  ratio: number;
  errors: string[];
}

export interface ProtocolsResult {
  options: ProtocolsOptions;
  websocketMessagesPerSecond: ProtocolFigures;
  grpcCallsPerSecond: ProtocolFigures;
}

const GRPC_SAMPLE = path.join(repoRoot, 'samples/grpc-echo');
const MESSAGE = Buffer.alloc(64, 'k');

interface Msg {
  text: string;
}
interface EchoClient extends grpc.Client {
  Say(req: Msg, cb: (err: grpc.ServiceError | null, res?: Msg) => void): grpc.ClientUnaryCall;
}

export async function benchProtocols(o: ProtocolsOptions): Promise<ProtocolsResult> {
  const children: Child[] = [];
  try {
    const wsReplica = startChild('ws-echo', process.execPath, [path.join(benchDist, 'ws-echo-replica.js')]);
    children.push(wsReplica);
    const grpcReplica = startChild('grpc-echo', process.execPath, ['server.mjs'], { cwd: GRPC_SAMPLE, env: { ...process.env, PORT: '0' } });
    children.push(grpcReplica);
    const wsPort = Number((await wsReplica.waitForJson((l) => l.msg === 'listening', 15_000)).port);
    const grpcPort = Number((await grpcReplica.waitForJson((l) => l.msg === 'listening', 15_000)).port);
    const activator = startChild('activator', process.execPath, [path.join(benchDist, 'activator-server.js')], {
      env: { ...process.env, BENCH_REPLICA: `127.0.0.1:${wsPort}`, BENCH_WS_REPLICA: `127.0.0.1:${wsPort}`, BENCH_GRPC_REPLICA: `127.0.0.1:${grpcPort}` },
    });
    children.push(activator);
    const actPort = Number((await activator.waitForJson((l) => l.msg === 'listening', 15_000)).port);

    const ws = await compare(o, (seconds) => websocketRate(`ws://127.0.0.1:${wsPort}/`, o.connections, seconds), (seconds) =>
      websocketRate(`ws://127.0.0.1:${actPort}/default/ws/`, o.connections, seconds),
    );
    const definition = protoLoader.loadSync(path.join(GRPC_SAMPLE, 'echo.proto'), { keepCase: true });
    const Echo = (grpc.loadPackageDefinition(definition) as unknown as { kfn: { echo: { Echo: new (a: string, c: grpc.ChannelCredentials, o?: grpc.ChannelOptions) => EchoClient } } }).kfn.echo.Echo;
    const direct = new Echo(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
    const through = new Echo(`127.0.0.1:${actPort}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'grpc.default.kfn.local' });
    try {
      const calls = await compare(o, (seconds) => grpcRate(direct, o.concurrency, seconds), (seconds) => grpcRate(through, o.concurrency, seconds));
      return { options: { ...o, gate: undefined }, websocketMessagesPerSecond: ws, grpcCallsPerSecond: calls };
    } finally {
      direct.close();
      through.close();
    }
  } finally {
    for (const c of children.reverse()) await c.stop('SIGTERM', 2000);
  }
}

type Rate = (seconds: number) => Promise<{ count: number; seconds: number; errors: string[] }>;

/** Warm-up on each, then `rounds` rounds taking turns; per second over the measured rounds. */
async function compare(o: ProtocolsOptions, direct: Rate, activator: Rate): Promise<ProtocolFigures> {
  await direct(o.warmupS);
  await activator(o.warmupS);
  const total = { direct: { count: 0, seconds: 0 }, activator: { count: 0, seconds: 0 } };
  const errors = new Set<string>();
  for (let i = 0; i < o.rounds; i++) {
    for (const [name, run] of [['direct', direct], ['activator', activator]] as const) {
      await o.gate?.();
      const r = await run(o.roundS);
      total[name].count += r.count;
      total[name].seconds += r.seconds;
      for (const e of r.errors) errors.add(`${name}: ${e}`);
    }
  }
  const perSecond = (t: { count: number; seconds: number }): number => (t.seconds > 0 ? Math.round(t.count / t.seconds) : 0);
  const d = perSecond(total.direct);
  const a = perSecond(total.activator);
  return { direct: d, activator: a, ratio: d > 0 ? round(a / d) : 0, errors: [...errors] };
}

/** Echo round trips over `connections` WebSockets for `seconds`. */
async function websocketRate(url: string, connections: number, seconds: number): Promise<{ count: number; seconds: number; errors: string[] }> {
  const errors: string[] = [];
  const sockets = await Promise.all(
    Array.from({ length: connections }, () => new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    })),
  );
  let count = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          ws.on('message', () => {
            count++;
            if (performance.now() < until) ws.send(MESSAGE);
            else resolve();
          });
          ws.once('error', (err) => {
            errors.push(err.message);
            resolve();
          });
          ws.send(MESSAGE);
        }),
    ),
  );
  const elapsed = (performance.now() - started) / 1000;
  await Promise.all(sockets.map((ws) => new Promise<void>((resolve) => (ws.readyState === WebSocket.CLOSED ? resolve() : (ws.once('close', () => resolve()), ws.close())))));
  return { count, seconds: elapsed, errors };
}

/** Unary calls, `concurrency` at once, for `seconds`. */
async function grpcRate(client: EchoClient, concurrency: number, seconds: number): Promise<{ count: number; seconds: number; errors: string[] }> {
  const errors = new Set<string>();
  let count = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  const loop = async (): Promise<void> => {
    while (performance.now() < until) {
      await new Promise<void>((resolve) =>
        client.Say({ text: 'x' }, (err) => {
          if (err) errors.add(err.message);
          else count++;
          resolve();
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { count, seconds: (performance.now() - started) / 1000, errors: [...errors] };
}
