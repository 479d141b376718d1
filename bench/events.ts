// Events delivered end to end against HTTP calls to the same function, in one run, on
// loopback. Processes:
//
//   nats-server (JetStream, file store in a temp dir)
//   the event server: this file run as a script — the activator and the dispatcher in one
//     process, delivering through it in process, as `kfn dev` runs them, routed to one replica
//   the replica: the hello sample on the real runtime
//   this process: publishes events (a NATS client, as any producer), drives wrk, measures
//
// Throughput: rounds taking turns between wrk (closed loop, N connections, POSTs of a
// binary CloudEvent through the activator to the function) and a batch of events
// published to JetStream and delivered by a trigger with maxInFlight N (publish → stored
// → consumer → activator → function 2xx → ack), timed from the first publish until the
// consumer has nothing pending or unacknowledged. Latency: events published at a fixed
// rate to the warm function, each carrying its publish time; the event server notes,
// when the function's 2xx comes back to the dispatcher, how long after its publish that
// was (one clock: performance.timeOrigin + now(), epoch ms with sub-ms precision).
//
// Usage as the event server: node events.js '<ServerOptions as JSON>'; prints
// {"msg":"listening","port":N} once its trigger is ready, serves until SIGTERM.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { connect, headers as natsHeaders, type JetStreamClient, type NatsConnection } from 'nats';
import { Registry } from 'prom-client';
import { createActivator, listenActivator } from '../pkg/activator/activator.js';
import type { KfnTrigger } from '../pkg/apis/trigger/types.js';
import type { StatSink } from '../pkg/autoscaler/stats.js';
import { Dispatcher } from '../pkg/events/dispatcher/dispatcher.js';
import type { Deliverer } from '../pkg/events/dispatcher/deliver-http.js';
import { activatorDeliverer } from '../pkg/dev/deliver-local.js';
import { consumerNameFor } from '../pkg/events/jetstream/consumer.js';
import { ensureStream } from '../pkg/events/jetstream/stream.js';
import { quietLogger } from '../pkg/shared/log.js';
import { LoadMeter, type MachineLoad } from './lib/load.js';
import { freePort } from './lib/ports.js';
import { runToEnd, startChild, type Child } from './lib/proc.js';
import { startReplica, type RunningReplica } from './lib/replica.js';
import { percentile, round } from './lib/stats.js';
import { wrkErrorCount, wrkUnavailable, type WrkResult } from './lib/wrk.js';
import { isEntry } from './lib/paths.js';

export interface EventsOptions {
  /** Measured rounds, each one wrk run and one batch of events, taking turns. */
  rounds: number;
  /** wrk seconds per round. */
  wrkS: number;
  /** Events published per round. */
  eventsPerRound: number;
  /** Events delivered (and a wrk second) before measuring, not counted. */
  warmupEvents: number;
  /** wrk connections, and the trigger's maxInFlight: the same concurrency both ways. */
  concurrency: number;
  /** Events per second for the latency run. */
  rate: number;
  rateDurationS: number;
  rateWarmupS: number;
  /** Awaited before each round and the latency run: waits for a quiet machine. */
  gate?: () => Promise<void>;
}

export interface EventsThroughput {
  eventsPerSecond: number;
  events: number;
  seconds: number;
  perRound: number[];
  /** Deliveries that did not end in a 2xx (retried or dead-lettered): none in a valid run. */
  failures: number;
}

export interface HttpThroughput {
  requestsPerSecond: number;
  requests: number;
  seconds: number;
  perRound: number[];
  errors: number;
}

export interface EventsLatency {
  rate: number;
  published: number;
  measured: number;
  /** Publish → the function's 2xx back at the dispatcher. */
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number };
  /** The two halves: publish → the dispatcher hands the event to HTTP (JetStream, consumer, decode), and that → the 2xx. */
  phasesMs: { toDispatcher: { p50: number; p99: number }; delivery: { p50: number; p99: number } };
  /** How late the publisher's timer sent events; its own noise, not the platform's. */
  sendLagMs: { p50: number; p99: number };
  failures: number;
}

/** CPU time per request or event, µs, by process, over the throughput rounds: where the cost is. */
export interface CpuPerItem {
  http: { activator: number; replica: number };
  events: { eventServer: number; natsServer: number; publisher: number; replica: number };
}

export interface EventsResult {
  options: EventsOptions;
  natsServer: string;
  http?: HttpThroughput;
  events?: EventsThroughput;
  cpuPerItemUs?: CpuPerItem;
  latency?: EventsLatency;
  errors: string[];
  othersDuringMeasurement?: MachineLoad;
}

const STREAM = 'KFNBENCH';
const SUBJECT = 'bench.events';
const CONTROL = 'kfnbench.control';
const fnKey = { namespace: 'default', name: 'hello' };
/** Per round: the most any batch of events may take to be delivered. */
const ROUND_MAX_MS = 120_000;

/** Epoch ms with sub-ms precision, comparable across processes on this machine. */
function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function benchEvents(o: EventsOptions): Promise<EventsResult> {
  const missingWrk = await wrkUnavailable();
  if (missingWrk) throw new Error(missingWrk);
  const version = await runToEnd('nats-server', ['--version'], 5000);
  if (version.code !== 0) throw new Error('nats-server is not installed (apt-get install nats-server)');
  const result: EventsResult = { options: o, natsServer: version.stdout.trim() || version.stderr.trim(), errors: [] };

  const dataDir = await mkdtemp(path.join(tmpdir(), 'kfn-bench-nats-'));
  let nats: Child | undefined;
  let replica: RunningReplica | undefined;
  let server: Child | undefined;
  let nc: NatsConnection | undefined;
  const meter = new LoadMeter();
  try {
    const natsPort = await freePort();
    nats = startChild('nats-server', 'nats-server', ['-js', '-a', '127.0.0.1', '-p', String(natsPort), '-sd', dataDir]);
    const natsUrl = `nats://127.0.0.1:${natsPort}`;
    nc = await connectWhenUp(natsUrl, nats);
    replica = await startReplica();
    const serverOpts: ServerOptions = { natsUrl, replica: `${replica.host}:${replica.port}`, maxInFlight: o.concurrency };
    const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
    server = startChild('event-server', process.execPath, [...profile, fileURLToPath(import.meta.url), JSON.stringify(serverOpts)]);
    const line = await server.waitForJson((l) => l.msg === 'listening', 30_000);
    const activatorUrl = `http://127.0.0.1:${Number(line.port)}`;
    const js = nc.jetstream();
    const jsm = await nc.jetstreamManager();
    const consumer = consumerNameFor({ metadata: { name: 'bench', namespace: 'default' } });
    const control = async (cmd: 'report'): Promise<ServerReport> => {
      const reply = await (nc as NatsConnection).request(CONTROL, new TextEncoder().encode(cmd), { timeout: 10_000 });
      return JSON.parse(new TextDecoder().decode(reply.data)) as ServerReport;
    };
    let seq = 0;
    const batch = async (n: number): Promise<number> => {
      const t0 = preciseNow();
      const last = await publishBatch(js, n, seq);
      seq += n;
      const deadline = Date.now() + ROUND_MAX_MS;
      for (;;) {
        const ci = await jsm.consumers.info(STREAM, consumer);
        if (ci.delivered.stream_seq >= last && ci.num_pending === 0 && ci.num_ack_pending === 0) break;
        if (Date.now() > deadline) throw new Error(`events: ${n} events not delivered within ${ROUND_MAX_MS} ms: ${JSON.stringify({ pending: ci.num_pending, ackPending: ci.num_ack_pending })}`);
        await sleep(5);
      }
      return (preciseNow() - t0) / 1000;
    };

    const wrkDir = await mkdtemp(path.join(tmpdir(), 'kfn-bench-wrk-'));
    try {
      const script = path.join(wrkDir, 'post.lua');
      await writeFile(script, POST_LUA);
      // Warm-up: JIT, connections, the stream's first blocks.
      await runPostWrk(script, `${activatorUrl}/default/hello/`, o.concurrency, 1);
      await batch(o.warmupEvents);
      await control('report');

      const http: WrkResult[] = [];
      const ev: { n: number; s: number }[] = [];
      const pids = { server: server.proc.pid, nats: nats.proc.pid, replica: replica.child.proc.pid, publisher: process.pid };
      const httpCpu = new CpuTally(pids);
      const eventsCpu = new CpuTally(pids);
      for (let i = 0; i < o.rounds; i++) {
        await o.gate?.();
        await meter.start();
        await httpCpu.start();
        http.push(await runPostWrk(script, `${activatorUrl}/default/hello/`, o.concurrency, o.wrkS));
        await httpCpu.stop();
        await eventsCpu.start();
        ev.push({ n: o.eventsPerRound, s: await batch(o.eventsPerRound) });
        await eventsCpu.stop();
        await meter.stop();
      }
      const afterThroughput = await control('report');
      const httpRequests = http.reduce((a, w) => a + w.requests, 0);
      const httpSeconds = http.reduce((a, w) => a + w.seconds, 0);
      const httpErrors = http.reduce((a, w) => a + wrkErrorCount(w), 0);
      result.http = {
        requestsPerSecond: Math.round(httpRequests / httpSeconds),
        requests: httpRequests,
        seconds: round(httpSeconds, 3),
        perRound: http.map((w) => w.requestsPerSecond),
        errors: httpErrors,
      };
      if (httpErrors > 0) result.errors.push(`wrk saw ${httpErrors} errors`);
      const events = ev.reduce((a, r) => a + r.n, 0);
      const seconds = ev.reduce((a, r) => a + r.s, 0);
      result.events = {
        eventsPerSecond: Math.round(events / seconds),
        events,
        seconds: round(seconds, 3),
        perRound: ev.map((r) => Math.round(r.n / r.s)),
        failures: afterThroughput.failures,
      };
      const perItem = (ms: number, n: number): number => Math.round((ms * 1000) / Math.max(n, 1));
      const hc = httpCpu.ms();
      const ec = eventsCpu.ms();
      if (hc && ec) {
        result.cpuPerItemUs = {
          http: { activator: perItem(hc.server, httpRequests), replica: perItem(hc.replica, httpRequests) },
          events: { eventServer: perItem(ec.server, events), natsServer: perItem(ec.nats, events), publisher: perItem(ec.publisher, events), replica: perItem(ec.replica, events) },
        };
      }
      if (afterThroughput.failures > 0) result.errors.push(`${afterThroughput.failures} deliveries failed during the throughput rounds`);
    } finally {
      await rm(wrkDir, { recursive: true, force: true });
    }

    await o.gate?.();
    await meter.start();
    const sent = await publishAtRate(js, o.rate, o.rateWarmupS, o.rateDurationS, seq);
    seq += sent.published;
    const deadline = Date.now() + ROUND_MAX_MS;
    for (;;) {
      const ci = await jsm.consumers.info(STREAM, consumer);
      if (ci.delivered.stream_seq >= sent.lastSeq && ci.num_pending === 0 && ci.num_ack_pending === 0) break;
      if (Date.now() > deadline) throw new Error('latency run: events not delivered in time');
      await sleep(5);
    }
    await meter.stop();
    const report = await control('report');
    const sorted = report.latencies.sort((a, b) => a - b);
    const half = (xs: number[]): { p50: number; p99: number } => {
      const sortedXs = xs.sort((a, b) => a - b);
      return { p50: round(percentile(sortedXs, 50), 3), p99: round(percentile(sortedXs, 99), 3) };
    };
    const lag = sent.sendLagMs.sort((a, b) => a - b);
    result.latency = {
      rate: o.rate,
      published: sent.published,
      measured: sorted.length,
      latencyMs: {
        p50: round(percentile(sorted, 50), 3),
        p90: round(percentile(sorted, 90), 3),
        p99: round(percentile(sorted, 99), 3),
        p999: round(percentile(sorted, 99.9), 3),
        max: round(sorted[sorted.length - 1] ?? 0, 3),
      },
      phasesMs: { toDispatcher: half(report.toDispatcher), delivery: half(report.delivery) },
      sendLagMs: { p50: round(percentile(lag, 50), 3), p99: round(percentile(lag, 99), 3) },
      failures: report.failures,
    };
    if (report.failures > 0) result.errors.push(`${report.failures} deliveries failed during the latency run`);
    if (sorted.length !== sent.measured) result.errors.push(`latency: ${sent.measured} measured events published, ${sorted.length} delivered`);
    const load = meter.result();
    if (load) result.othersDuringMeasurement = load;
    return result;
  } finally {
    await nc?.close().catch(() => {});
    await server?.stop('SIGTERM', 10_000);
    await replica?.child.stop('SIGTERM', 5000);
    await nats?.stop('SIGTERM', 10_000);
    await rm(dataDir, { recursive: true, force: true });
  }
}

type Role = 'server' | 'nats' | 'replica' | 'publisher';

/** CPU time (user + system) of our processes, summed over the windows between start() and stop(). */
class CpuTally {
  private readonly total: Record<Role, number> = { server: 0, nats: 0, replica: 0, publisher: 0 };
  private open: Record<Role, number> | undefined;
  private ok = true;

  constructor(private readonly pids: Record<Role, number | undefined>) {}

  async start(): Promise<void> {
    this.open = await this.read();
  }

  async stop(): Promise<void> {
    const a = this.open;
    const b = await this.read();
    if (!a || !b) return;
    for (const k of Object.keys(this.total) as Role[]) this.total[k] += b[k] - a[k];
  }

  /** Milliseconds per process, or undefined without /proc. */
  ms(): Record<Role, number> | undefined {
    return this.ok ? { ...this.total } : undefined;
  }

  private async read(): Promise<Record<Role, number> | undefined> {
    try {
      const out = { server: 0, nats: 0, replica: 0, publisher: 0 };
      for (const k of Object.keys(out) as Role[]) out[k] = await cpuMs(this.pids[k]);
      return out;
    } catch {
      this.ok = false;
      return undefined;
    }
  }
}

/** utime + stime of one process from /proc, in ms (clock ticks of 10 ms, as on every Linux we run on). */
async function cpuMs(pid: number | undefined): Promise<number> {
  if (pid === undefined) throw new Error('no pid');
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces; fields count from after its closing parenthesis.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

async function connectWhenUp(url: string, nats: Child): Promise<NatsConnection> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const nc = await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
      // JetStream answers once the server has recovered its store.
      await (await nc.jetstreamManager()).getAccountInfo();
      return nc;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`nats-server did not come up on ${url}: ${(err as Error).message}\n${nats.tail()}`, { cause: err });
      await sleep(50);
    }
  }
}

/** The binary-mode CloudEvent headers a producer sets; `t` (publish time) and `m` (measured) ride in the data. */
function eventHeaders(id: string): ReturnType<typeof natsHeaders> {
  const h = natsHeaders();
  h.set('ce-specversion', '1.0');
  h.set('ce-id', id);
  h.set('ce-type', 'dev.kfn.bench');
  h.set('ce-source', '/bench');
  h.set('content-type', 'application/json');
  return h;
}

const encoder = new TextEncoder();
/** Publishes acknowledged by JetStream but not yet answered, at most. */
const PUBLISH_WINDOW = 256;

/** Publishes n events as fast as JetStream acknowledges them (a window in flight); resolves with the last stream sequence. */
async function publishBatch(js: JetStreamClient, n: number, from: number): Promise<number> {
  let last = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = from + next++;
      const ack = await js.publish(SUBJECT, encoder.encode(JSON.stringify({ i })), { headers: eventHeaders(`bench-${i}`), msgID: `bench-${i}` });
      if (ack.seq > last) last = ack.seq;
    }
  };
  await Promise.all(Array.from({ length: Math.min(PUBLISH_WINDOW, n) }, () => worker()));
  return last;
}

/** Open loop: event k is due at start + k/rate, whatever happened to earlier ones. */
async function publishAtRate(
  js: JetStreamClient,
  rate: number,
  warmupS: number,
  durationS: number,
  from: number,
): Promise<{ published: number; measured: number; lastSeq: number; sendLagMs: number[] }> {
  const total = Math.round(rate * (warmupS + durationS));
  const warmup = Math.round(rate * warmupS);
  const interval = 1000 / rate;
  const lags: number[] = [];
  const acks: Promise<void>[] = [];
  let lastSeq = 0;
  const start = preciseNow() + 20;
  let k = 0;
  while (k < total) {
    const now = preciseNow();
    const due = start + k * interval;
    if (now < due) {
      await sleep(Math.max(0, Math.floor(due - now)));
      continue;
    }
    // Everything due by now goes out, each stamped with its own send time.
    while (k < total && start + k * interval <= preciseNow()) {
      const i = from + k;
      const measured = k >= warmup;
      const sentAt = preciseNow();
      if (measured) lags.push(sentAt - (start + k * interval));
      const data = encoder.encode(JSON.stringify({ i, t: sentAt, m: measured ? 1 : 0 }));
      acks.push(
        js.publish(SUBJECT, data, { headers: eventHeaders(`bench-${i}`), msgID: `bench-${i}` }).then((ack) => {
          if (ack.seq > lastSeq) lastSeq = ack.seq;
        }),
      );
      k++;
    }
  }
  await Promise.all(acks);
  return { published: total, measured: total - warmup, lastSeq, sendLagMs: lags };
}

// wrk's own summary as one JSON line, as bench/lib/wrk.ts prints it, for POSTs of the
// same binary CloudEvent the dispatcher sends.
const POST_LUA = `
wrk.method = "POST"
wrk.body = '{"i":0}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["ce-specversion"] = "1.0"
wrk.headers["ce-id"] = "bench-http"
wrk.headers["ce-type"] = "dev.kfn.bench"
wrk.headers["ce-source"] = "/bench"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d,"p50":%d,"p99":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
`;

async function runPostWrk(script: string, url: string, connections: number, durationS: number): Promise<WrkResult> {
  const args = ['-t', '1', '-c', String(connections), '-d', `${durationS}s`, '--timeout', '5s', '-s', script, url];
  const r = await runToEnd('wrk', args, (durationS + 30) * 1000);
  const line = r.stdout.split('\n').find((l) => l.startsWith('{"requests"'));
  if (r.code !== 0 || !line) throw new Error(`wrk ${args.join(' ')} failed (code ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  const j = JSON.parse(line) as Record<string, number>;
  const n = (k: string): number => j[k] ?? 0;
  const seconds = n('durationUs') / 1e6;
  return {
    requests: n('requests'),
    seconds,
    requestsPerSecond: Math.round(n('requests') / seconds),
    latencyMs: { p50: n('p50') / 1000, p90: 0, p99: n('p99') / 1000, max: 0, mean: 0 },
    errors: { connect: n('connect'), read: n('read'), write: n('write'), timeout: n('timeout'), status: n('status') },
  };
}

// ---- the event server (this file run as a script) ----

interface ServerOptions {
  natsUrl: string;
  /** host:port of the replica. */
  replica: string;
  maxInFlight: number;
}

interface ServerReport {
  /** Latencies of measured events since the last report, ms. */
  latencies: number[];
  /** Their first part: publish → handed to HTTP. */
  toDispatcher: number[];
  /** Their second part: handed to HTTP → the 2xx back. */
  delivery: number[];
  /** Deliveries since the last report that did not end in 2xx. */
  failures: number;
}

async function serve(o: ServerOptions): Promise<void> {
  const log = quietLogger();
  const colon = o.replica.lastIndexOf(':');
  const dropStats: StatSink = { record: () => {}, poke: () => {} };
  const activator = createActivator({ log, statSink: dropStats, metrics: new Registry() });
  activator.upsertFunction(fnKey, { containerConcurrency: 0, timeoutSeconds: 300 });
  activator.updateEndpoints({ key: fnKey, endpoints: [{ id: 'hello-00001-1', host: o.replica.slice(0, colon), port: Number(o.replica.slice(colon + 1)) }] });
  const stop = new AbortController();
  const server = await listenActivator(activator, { port: 0, host: '127.0.0.1', closeGraceMs: 1000 }, stop.signal);

  let latencies: number[] = [];
  let toDispatcher: number[] = [];
  let delivery: number[] = [];
  let failures = 0;
  // As kfn dev wires it (pkg/dev/dev.ts): deliveries through the activator in this process.
  const inProcess = activatorDeliverer(activator);
  const deliver: Deliverer = async (req) => {
    const handedAt = preciseNow();
    const res = await inProcess(req);
    const now = preciseNow();
    if ('error' in res || res.status >= 300) {
      failures++;
      return res;
    }
    // The data is the publisher's bytes; its stamps are read once the delivery is timed.
    const data = req.event.data === undefined ? undefined : (JSON.parse(req.event.data.toString('utf8')) as { t?: unknown; m?: unknown });
    if (data?.m === 1 && typeof data.t === 'number') {
      latencies.push(now - data.t);
      toDispatcher.push(handedAt - data.t);
      delivery.push(now - handedAt);
    }
    return res;
  };

  const nc = await connect({ servers: o.natsUrl, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  await ensureStream(await nc.jetstreamManager(), { name: STREAM, subjects: [SUBJECT], duplicateWindowMs: 120_000 });
  const dispatcher = new Dispatcher({ nc, log, deliver, streamName: STREAM, registry: new Registry() });
  const trigger: KfnTrigger = {
    apiVersion: 'kfn.dev/v1alpha1',
    kind: 'Trigger',
    metadata: { name: 'bench', namespace: 'default' },
    spec: { subject: SUBJECT, function: 'hello', delivery: { retries: 0, maxInFlight: o.maxInFlight, timeout: '30s' } },
  };
  await dispatcher.upsertTrigger(trigger);
  const dispatching = dispatcher.run(stop.signal);
  const reporting = activator.run(stop.signal);

  const sub = nc.subscribe(CONTROL);
  void (async () => {
    for await (const m of sub) {
      const report: ServerReport = { latencies, toDispatcher, delivery, failures };
      latencies = [];
      toDispatcher = [];
      delivery = [];
      failures = 0;
      m.respond(encoder.encode(JSON.stringify(report)));
    }
  })();

  console.log(JSON.stringify({ msg: 'listening', port: server.port, pid: process.pid }));
  process.once('SIGTERM', () => {
    stop.abort();
    void (async () => {
      sub.unsubscribe();
      await dispatching;
      await nc.close();
      await server.close();
      await reporting;
      await activator.close();
      process.exit(0);
    })();
  });
}

if (isEntry(import.meta.url)) {
  await serve(JSON.parse(process.argv[2] ?? '{}') as ServerOptions);
}
