// An open-loop load generator for latency at a fixed rate, run as its own process so it
// shares no event loop with what it measures. Requests are scheduled at exact intervals
// and do not wait for earlier answers (as wrk2 and autocannon's overallRate do), over a
// fixed set of keep-alive connections per target, used in turn. Latency is measured per
// request from the write to the last byte of the response, with sub-millisecond
// resolution (autocannon reports whole milliseconds, too coarse for a 0.5 ms budget).
//
// Several targets are measured in alternating slices of time (a second of A, a second
// of B, ...), so that anything else happening on the machine falls on all of them alike
// and the differences between them stay meaningful.
//
// Usage: node fixed-rate.js '<FixedRateOptions as JSON>'; prints one JSON line.
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { percentile, round } from './lib/stats.js';
import { isEntry } from './lib/paths.js';

export interface FixedRateTarget {
  name: string;
  host: string;
  port: number;
  path: string;
  /** Host header; the activator routes by it. */
  hostHeader: string;
}

export interface FixedRateOptions {
  targets: FixedRateTarget[];
  rate: number;
  /** Measured time per target. */
  durationMs: number;
  /** Time per target sent at the same rate before measuring, not counted. */
  warmupMs: number;
  /** Length of one slice of time given to one target. */
  sliceMs: number;
  /** Keep-alive connections per target. */
  connections: number;
}

export interface FixedRateResult {
  name: string;
  rate: number;
  measured: number;
  errors: number;
  /** Requests scheduled while every connection was busy (they waited in the generator). */
  queuedInGenerator: number;
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
  /** How late the generator's timer sent requests; its own noise, not the target's. */
  sendLagMs: { p50: number; p99: number };
}

type Done = (c: Conn, latencyMs: number, ok: boolean) => void;

class Conn {
  busy = false;
  measuring = false;
  private sentAt = 0;
  private buf: Buffer | undefined;
  private need = -1;
  private status200 = false;
  readonly socket: Socket;

  constructor(
    target: FixedRateTarget,
    private readonly request: Buffer,
    private readonly onDone: Done,
  ) {
    this.socket = connect({ host: target.host, port: target.port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      if (this.busy) this.finish(false);
    });
  }

  send(measuring: boolean): void {
    this.busy = true;
    this.measuring = measuring;
    this.sentAt = performance.now();
    this.socket.write(this.request);
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    if (this.need < 0) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.buf.toString('latin1', 0, end);
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (!m) {
        // Every target here answers with Content-Length; anything else is a failure to see.
        this.finish(false);
        this.socket.destroy();
        return;
      }
      this.need = end + 4 + Number(m[1]);
      this.status200 = head.startsWith('HTTP/1.1 200');
    }
    if (this.buf.length < this.need) return;
    this.finish(this.status200 && this.buf.length === this.need);
  }

  private finish(ok: boolean): void {
    const latency = performance.now() - this.sentAt;
    this.buf = undefined;
    this.need = -1;
    this.busy = false;
    this.onDone(this, latency, ok);
  }
}

/** One target's connections and figures. */
class TargetLoad {
  readonly latencies: Float64Array;
  readonly lags: Float64Array;
  measured = 0;
  lagCount = 0;
  errors = 0;
  queued = 0;
  outstanding = 0;
  private conns: Conn[];
  private cursor = 0;
  private readonly backlog: boolean[] = [];
  private readonly request: Buffer;

  constructor(
    readonly target: FixedRateTarget,
    connections: number,
    capacity: number,
  ) {
    this.request = Buffer.from(`GET ${target.path} HTTP/1.1\r\nHost: ${target.hostHeader}\r\nUser-Agent: kfn-bench\r\nAccept: */*\r\n\r\n`, 'latin1');
    this.latencies = new Float64Array(capacity);
    this.lags = new Float64Array(capacity);
    this.conns = Array.from({ length: connections }, () => this.newConn());
  }

  connected(): Promise<void> {
    return Promise.all(
      this.conns.map(
        (c) =>
          new Promise<void>((resolve, reject) => {
            c.socket.once('connect', resolve);
            c.socket.once('error', reject);
          }),
      ),
    ).then(() => undefined);
  }

  dispatch(measuring: boolean, lagMs: number): void {
    this.outstanding++;
    if (measuring && this.lagCount < this.lags.length) this.lags[this.lagCount++] = lagMs;
    const n = this.conns.length;
    for (let k = 0; k < n; k++) {
      const c = this.conns[(this.cursor + k) % n];
      if (c && !c.busy && !c.socket.destroyed) {
        this.cursor = (this.cursor + k + 1) % n;
        c.send(measuring);
        return;
      }
    }
    this.queued++;
    this.backlog.push(measuring);
  }

  close(): void {
    this.errors += this.outstanding; // never answered
    for (const c of this.conns) c.socket.destroy();
  }

  private newConn(): Conn {
    return new Conn(this.target, this.request, (c, latencyMs, ok) => this.onDone(c, latencyMs, ok));
  }

  private onDone(c: Conn, latencyMs: number, ok: boolean): void {
    this.outstanding--;
    if (c.measuring) {
      if (ok && this.measured < this.latencies.length) this.latencies[this.measured++] = latencyMs;
      if (!ok) this.errors++;
    }
    let next = c;
    if (c.socket.destroyed) {
      // Replace a connection the server closed, so the pool keeps its size.
      next = this.newConn();
      this.conns[this.conns.indexOf(c)] = next;
    }
    const waiting = this.backlog.shift();
    // Counted in `outstanding` when it was scheduled.
    if (waiting !== undefined) next.send(waiting);
  }

  result(rate: number): FixedRateResult {
    const lat = this.latencies.subarray(0, this.measured).sort();
    const lag = this.lags.subarray(0, this.lagCount).sort();
    let sum = 0;
    for (const v of lat) sum += v;
    const r3 = (n: number): number => round(n, 3);
    return {
      name: this.target.name,
      rate,
      measured: this.measured,
      errors: this.errors,
      queuedInGenerator: this.queued,
      latencyMs: {
        p50: r3(percentile(lat, 50)),
        p90: r3(percentile(lat, 90)),
        p99: r3(percentile(lat, 99)),
        p999: r3(percentile(lat, 99.9)),
        max: r3(lat[lat.length - 1] ?? 0),
        mean: r3(this.measured > 0 ? sum / this.measured : 0),
      },
      sendLagMs: { p50: r3(percentile(lag, 50)), p99: r3(percentile(lag, 99)) },
    };
  }
}

export async function runFixedRate(o: FixedRateOptions): Promise<FixedRateResult[]> {
  const n = o.targets.length;
  const capacity = Math.ceil((o.rate * o.durationMs) / 1000) + 16;
  const loads = o.targets.map((t) => new TargetLoad(t, o.connections, capacity));
  await Promise.all(loads.map((l) => l.connected()));

  const warmupSlices = Math.ceil(o.warmupMs / o.sliceMs);
  const measuredSlices = Math.ceil(o.durationMs / o.sliceMs);
  const totalMs = (warmupSlices + measuredSlices) * n * o.sliceMs;
  const interval = 1000 / o.rate;
  const start = performance.now() + 5;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      let offset = sent * interval;
      while (offset <= now - start && offset < totalMs) {
        const slice = Math.floor(offset / o.sliceMs);
        const load = loads[slice % n];
        load?.dispatch(slice >= warmupSlices * n, now - start - offset);
        sent++;
        offset = sent * interval;
      }
      if (offset >= totalMs) resolve();
      else setTimeout(tick, Math.max(0, start + offset - performance.now()));
    };
    setTimeout(tick, 5);
  });
  const drainBy = performance.now() + 10_000;
  while (loads.some((l) => l.outstanding > 0) && performance.now() < drainBy) await new Promise((r) => setTimeout(r, 5));
  for (const l of loads) l.close();
  return loads.map((l) => l.result(o.rate));
}

if (isEntry(import.meta.url)) {
  const opts = JSON.parse(process.argv[2] ?? '{}') as FixedRateOptions;
  console.log(JSON.stringify(await runFixedRate(opts)));
}
