// The floor of a proxy written in node, for the data-path benchmark: node's HTTP server
// relaying to the replica over undici, one keep-alive connection per request in flight,
// with nothing else (no routing, limits, header hygiene, stats or timeouts). What the
// activator's data path costs beyond this is kfn's own; what this costs is node's.
// Run by bench/data-path.ts; the replica is BENCH_REPLICA=host:port. Prints
// {"msg":"listening","port":N} and serves until SIGTERM.
import http from 'node:http';
import { Client, type Dispatcher } from 'undici';

const replica = process.env.BENCH_REPLICA ?? '';
const colon = replica.lastIndexOf(':');
if (colon <= 0) {
  console.error('usage: BENCH_REPLICA=host:port node node-relay.js');
  process.exit(2);
}
const origin = `http://${replica}`;
const idle: Client[] = [];

function relay(req: http.IncomingMessage, res: http.ServerResponse): void {
  const client = idle.pop() ?? new Client(origin, { pipelining: 1 });
  const handler: Dispatcher.DispatchHandler = {
    onRequestStart: () => {},
    onResponseStart: (controller, status, _headers, statusText) => {
      const raw = controller.rawHeaders as Buffer[];
      res.writeHead(status, statusText, raw.map((b) => b.toString('latin1')));
    },
    onResponseData: (_controller, chunk) => void res.write(chunk),
    onResponseEnd: () => {
      idle.push(client);
      res.end();
    },
    onResponseError: () => {
      void client.destroy();
      res.destroy();
    },
  };
  client.dispatch({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.rawHeaders, body: req.method === 'GET' || req.method === 'HEAD' ? null : req }, handler);
}

const server = http.createServer({ noDelay: true }, relay);
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  console.log(JSON.stringify({ msg: 'listening', port: typeof addr === 'object' && addr ? addr.port : 0, pid: process.pid }));
});
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  for (const c of idle) void c.destroy();
  process.exit(0);
});
