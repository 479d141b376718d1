// wrk (closed loop: every connection sends its next request when the previous answer
// arrives) for the most requests per second a target sustains. A Lua `done` hook prints
// the summary as JSON, latencies in microseconds.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runToEnd } from './proc.js';

export interface WrkOptions {
  url: string;
  /** Sent as the Host header (the activator routes by it). */
  host?: string;
  connections: number;
  threads: number;
  durationS: number;
}

export interface WrkResult {
  requests: number;
  /** The run's real length. */
  seconds: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Socket errors and non-2xx/3xx responses; a run with any is not a valid figure. */
  errors: { connect: number; read: number; write: number; timeout: number; status: number };
}

const REPORT_LUA = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%f}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
`;

export async function wrkUnavailable(): Promise<string | undefined> {
  const r = await runToEnd('wrk', ['-v'], 5000);
  return r.code === null ? 'wrk is not installed (apt-get install wrk, as root)' : undefined;
}

export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kfn-bench-wrk-'));
  try {
    const script = path.join(dir, 'report.lua');
    await writeFile(script, REPORT_LUA);
    const args = ['-t', String(o.threads), '-c', String(o.connections), '-d', `${o.durationS}s`, '--timeout', '5s', '-s', script];
    if (o.host) args.push('-H', `Host: ${o.host}`);
    args.push(o.url);
    const r = await runToEnd('wrk', args, (o.durationS + 30) * 1000);
    const line = r.stdout.split('\n').find((l) => l.startsWith('{"requests"'));
    if (r.code !== 0 || !line) throw new Error(`wrk ${args.join(' ')} failed (code ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
    const j = JSON.parse(line) as Record<string, number>;
    const n = (k: string): number => j[k] ?? 0;
    const ms = (k: string): number => Math.round(n(k)) / 1000;
    return {
      requests: n('requests'),
      seconds: n('durationUs') / 1e6,
      requestsPerSecond: Math.round(n('requests') / (n('durationUs') / 1e6)),
      latencyMs: { p50: ms('p50'), p90: ms('p90'), p99: ms('p99'), max: ms('max'), mean: Math.round(n('mean')) / 1000 },
      errors: { connect: n('connect'), read: n('read'), write: n('write'), timeout: n('timeout'), status: n('status') },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function wrkErrorCount(r: WrkResult): number {
  const e = r.errors;
  return e.connect + e.read + e.write + e.timeout + e.status;
}
