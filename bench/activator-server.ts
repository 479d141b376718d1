// The activator alone in its own process, for the data-path benchmark: one function
// (default/hello) routed to one replica, a stat sink that drops everything. Run by
// bench/data-path.ts; the replica is BENCH_REPLICA=host:port. Prints
// {"msg":"listening","port":N} and serves until SIGTERM. For the protocols benchmark,
// BENCH_WS_REPLICA and BENCH_GRPC_REPLICA (host:port) route default/ws and default/grpc
// (portName h2c) too.
import { Registry } from 'prom-client';
import { createActivator, listenActivator } from '../pkg/activator/activator.js';
import type { StatSink } from '../pkg/autoscaler/stats.js';
import { quietLogger } from '../pkg/shared/log.js';

function hostPort(v: string | undefined): { host: string; port: number } | undefined {
  const colon = v?.lastIndexOf(':') ?? -1;
  const port = Number(v?.slice(colon + 1));
  return v && colon > 0 && Number.isInteger(port) && port > 0 ? { host: v.slice(0, colon), port } : undefined;
}
const replica = hostPort(process.env.BENCH_REPLICA);
if (!replica) {
  console.error('usage: BENCH_REPLICA=host:port [BENCH_WS_REPLICA=host:port] [BENCH_GRPC_REPLICA=host:port] node activator-server.js');
  process.exit(2);
}
const { host, port } = replica;

const dropStats: StatSink = { record: () => {}, poke: () => {} };
const key = { namespace: 'default', name: 'hello' };
// Metrics registered as in `kfn dev`: they cost nothing per request, only per scrape.
const activator = createActivator({ log: quietLogger(), statSink: dropStats, metrics: new Registry() });
activator.upsertFunction(key, { containerConcurrency: 0, timeoutSeconds: 300 });
activator.updateEndpoints({ key, endpoints: [{ id: 'hello-00001-1', host, port }] });
const ws = hostPort(process.env.BENCH_WS_REPLICA);
if (ws) {
  const wsKey = { namespace: 'default', name: 'ws' };
  activator.upsertFunction(wsKey, { containerConcurrency: 0, timeoutSeconds: 300 });
  activator.updateEndpoints({ key: wsKey, endpoints: [{ id: 'ws-1', ...ws }] });
}
const grpc = hostPort(process.env.BENCH_GRPC_REPLICA);
if (grpc) {
  const grpcKey = { namespace: 'default', name: 'grpc' };
  activator.upsertFunction(grpcKey, { containerConcurrency: 0, timeoutSeconds: 300, portName: 'h2c' });
  activator.updateEndpoints({ key: grpcKey, endpoints: [{ id: 'grpc-1', ...grpc }] });
}

const stop = new AbortController();
const server = await listenActivator(activator, { port: 0, host: '127.0.0.1', closeGraceMs: 1000 }, stop.signal);
const reporting = activator.run(stop.signal);
console.log(JSON.stringify({ msg: 'listening', port: server.port, pid: process.pid }));

process.once('SIGTERM', () => {
  stop.abort();
  void (async () => {
    await server.close();
    await reporting;
    await activator.close();
    process.exit(0);
  })();
});
