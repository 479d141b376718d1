// A bounded load generator for loopback tests: N workers on keep-alive connections, each
// sending requests back to back until a count or a deadline is reached.
import http from 'node:http';

export interface LoadResult {
  total: number;
  byStatus: Map<number, number>;
  /** Transport errors (no HTTP response at all). */
  errors: string[];
  /** Highest in-flight count any replica reported (hello sample's header). */
  peakInFlight: number;
  replicas: Set<string>;
}

export interface LoadOptions {
  url: string;
  concurrency: number;
  /** Stop after this many requests in all... */
  requests?: number;
  /** ...or when this returns true (checked before each request). */
  until?: () => boolean;
  /** Hard bound: no load test runs longer than this. */
  maxMs?: number;
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const result: LoadResult = { total: 0, byStatus: new Map(), errors: [], peakInFlight: 0, replicas: new Set() };
  const deadline = Date.now() + (opts.maxMs ?? 60_000);
  let started = 0;
  const more = (): boolean =>
    Date.now() < deadline && (opts.requests === undefined || started < opts.requests) && !(opts.until?.() ?? false);

  async function worker(): Promise<void> {
    while (more()) {
      started++;
      try {
        const { status, headers } = await get(opts.url, agent);
        result.byStatus.set(status, (result.byStatus.get(status) ?? 0) + 1);
        const peak = Number(headers['x-kfn-peak-inflight'] ?? 0);
        if (peak > result.peakInFlight) result.peakInFlight = peak;
        const replica = headers['x-kfn-replica'];
        if (typeof replica === 'string') result.replicas.add(replica);
      } catch (err) {
        result.errors.push((err as Error).message);
      }
      result.total++;
    }
  }
  await Promise.all(Array.from({ length: opts.concurrency }, () => worker()));
  agent.destroy();
  return result;
}

export function get(url: string, agent?: http.Agent): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

export function count(r: LoadResult, status: number): number {
  return r.byStatus.get(status) ?? 0;
}

export function describe(r: LoadResult): string {
  return JSON.stringify({ total: r.total, byStatus: Object.fromEntries(r.byStatus), errors: r.errors.slice(0, 5), peak: r.peakInFlight });
}
