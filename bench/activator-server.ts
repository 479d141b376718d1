// The activator alone in its own process, for the data-path benchmark: one function
// (default/hello) routed to one replica, a stat sink that drops everything. Run by
// bench/data-path.ts; the replica is BENCH_REPLICA=host:port. Prints
// {"msg":"listening","port":N} and serves until SIGTERM.
import { Registry } from 'prom-client';
import { createActivator, listenActivator } from '../pkg/activator/activator.js';
import type { StatSink } from '../pkg/autoscaler/stats.js';
import { quietLogger } from '../pkg/shared/log.js';

const replica = process.env.BENCH_REPLICA ?? '';
const colon = replica.lastIndexOf(':');
const host = replica.slice(0, colon);
const port = Number(replica.slice(colon + 1));
if (colon <= 0 || !Number.isInteger(port) || port <= 0) {
  console.error('usage: BENCH_REPLICA=host:port node activator-server.js');
  process.exit(2);
}

const dropStats: StatSink = { record: () => {}, poke: () => {} };
const key = { namespace: 'default', name: 'hello' };
// Metrics registered as in `kfn dev`: they cost nothing per request, only per scrape.
const activator = createActivator({ log: quietLogger(), statSink: dropStats, metrics: new Registry() });
activator.upsertFunction(key, { containerConcurrency: 0, timeoutSeconds: 300 });
activator.updateEndpoints({ key, endpoints: [{ id: 'hello-00001-1', host, port }] });

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
