// Requests per second, CPU per request and latency of the same replica reached directly
// and through each proxy, each its own process: the activator; the peers people would
// otherwise run — Go's httputil.ReverseProxy as Knative's activator configures it
// (bench/go-proxy, GOMAXPROCS 1), nginx (one worker) and HAProxy (one thread), both
// with keep-alive upstreams; and a bare node relay (bench/node-relay.ts), the floor of a
// proxy written in node. wrk gives the most each sustains with N keep-alive
// connections, and /proc the CPU the proxy process used meanwhile; the fixed-rate
// generator gives latency at a rate all of them handle easily. Both alternate between
// the paths (rounds of wrk, slices of the fixed rate), so a disturbance on the machine
// hits all of them.
//
// The node-based proxies can run under several node binaries in the same run
// (`nodes`): each entry is a node binary and the checkout whose dist/ it runs (a tree
// built against another undici, for a node that cannot load this one's).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { FixedRateOptions, FixedRateResult } from './fixed-rate.js';
import { cpuMicros } from './lib/cpu.js';
import { buildGoProxy, startGoProxy } from './lib/go-proxy.js';
import { haproxyUnavailable, startHaproxy, type RunningHaproxy } from './lib/haproxy.js';
import { getOnce } from './lib/http.js';
import { LoadMeter, type MachineLoad } from './lib/load.js';
import { nginxUnavailable, startNginx, type RunningNginx } from './lib/nginx.js';
import { benchDist, repoRoot } from './lib/paths.js';
import { runToEnd, startChild, type Child } from './lib/proc.js';
import { startReplica, type RunningReplica } from './lib/replica.js';
import { runWrk, wrkErrorCount, wrkUnavailable, type WrkOptions, type WrkResult } from './lib/wrk.js';

/** A node binary and the checkout (with dist/ built) whose activator and relay it runs. */
export interface NodeRuntime {
  node: string;
  root: string;
}

export interface DataPathOptions {
  /** Measured wrk seconds per path, in rounds of `roundS`. */
  durationS: number;
  roundS: number;
  /** wrk seconds per path before measuring, not counted. */
  warmupS: number;
  connections: number;
  wrkThreads: number;
  rate: number;
  rateDurationS: number;
  rateWarmupS: number;
  /** The fixed rate goes to one path at a time, for this long each. */
  rateSliceMs: number;
  /** Awaited before each wrk round and before the fixed-rate run: waits for a quiet machine. */
  gate?: () => Promise<void>;
  /** Write a CPU profile of the (first) activator process here (node --cpu-prof). */
  cpuProfileDir?: string;
  /** The node-based proxies run once per entry; the first is the one judged. Default: this node, this checkout. */
  nodes?: NodeRuntime[];
  /** GOMAXPROCS of the Go proxy. Default 1. */
  goMaxProcs?: number;
}

export type PathKind = 'direct' | 'activator' | 'node-relay' | 'nginx' | 'haproxy' | 'go-proxy';

export interface Throughput {
  requestsPerSecond: number;
  requests: number;
  rounds: number;
  /** Median of the rounds' p50s, and the worst of their p99s. */
  latencyMs: { p50: number; p99: number };
  errors: number;
  /** CPU (user + system) of the proxy's processes per request over the measured rounds; not for direct. */
  cpuPerRequestUs?: number;
  perRound: WrkResult[];
}

export interface TargetResult {
  name: string;
  kind: PathKind;
  /** Node-based paths: the node version and the checkout they ran. */
  node?: string;
  tree?: string;
  /** The activator and relay judged by the targets (the first node runtime). */
  primary?: boolean;
  throughput?: Throughput;
  fixedRate?: FixedRateResult;
  /** Why this target was not measured at all. */
  skipped?: string;
  errors: string[];
}

export interface DataPathResult {
  options: DataPathOptions;
  replicaListeningAfterMs: number;
  nginxVersion?: string;
  haproxyVersion?: string;
  goVersion?: string;
  targets: TargetResult[];
  /** Other processes' CPU use during the measured rounds and the fixed-rate run. */
  othersDuringMeasurement?: MachineLoad;
}

interface Target {
  result: TargetResult;
  port: number;
  hostHeader: string;
  /** The proxy's process (for nginx, the master, whose worker is its child). */
  pid?: number;
}

function nodeVersion(node: string): string {
  return execFileSync(node, ['-v'], { encoding: 'utf8', timeout: 10_000 }).trim();
}

export async function benchDataPath(o: DataPathOptions): Promise<DataPathResult> {
  const missingWrk = await wrkUnavailable();
  if (missingWrk) throw new Error(missingWrk);
  let replica: RunningReplica | undefined;
  const children: Child[] = [];
  let nginx: RunningNginx | undefined;
  let haproxy: RunningHaproxy | undefined;
  const result: DataPathResult = { options: o, replicaListeningAfterMs: 0, targets: [] };
  const skipped: TargetResult[] = [];
  try {
    replica = await startReplica();
    const upstream = { host: replica.host, port: replica.port };
    result.replicaListeningAfterMs = replica.listeningAfterMs;
    const targets: Target[] = [{ result: { name: 'direct', kind: 'direct', errors: [] }, port: replica.port, hostHeader: `127.0.0.1:${replica.port}` }];
    const replicaEnv = { ...process.env, BENCH_REPLICA: `${replica.host}:${replica.port}` };

    const nodes = o.nodes && o.nodes.length > 0 ? o.nodes : [{ node: process.execPath, root: repoRoot }];
    for (const [i, rt] of nodes.entries()) {
      const version = nodeVersion(rt.node);
      const tree = path.resolve(rt.root) === repoRoot ? undefined : rt.root;
      const label = nodes.length === 1 ? '' : ` (node ${version}${tree ? `, ${tree}` : ''})`;
      const dist = path.join(rt.root, 'dist/bench');
      for (const kind of ['activator', 'node-relay'] as const) {
        const profile = kind === 'activator' && i === 0 && o.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfileDir}`] : [];
        const script = path.join(dist, kind === 'activator' ? 'activator-server.js' : 'node-relay.js');
        const child = startChild(`${kind}${label}`, rt.node, [...profile, script], { env: replicaEnv });
        children.push(child);
        const line = await child.waitForJson((l) => l.msg === 'listening', 15_000);
        targets.push({
          result: { name: `${kind}${label}`, kind, node: version, ...(tree ? { tree } : {}), primary: i === 0, errors: [] },
          port: Number(line.port),
          hostHeader: 'hello.default.kfn.local',
          pid: child.proc.pid,
        });
      }
    }

    const go = await buildGoProxy();
    if ('unavailable' in go) skipped.push({ name: 'go-proxy', kind: 'go-proxy', skipped: go.unavailable, errors: [] });
    else {
      result.goVersion = go.goVersion;
      const maxProcs = o.goMaxProcs ?? 1;
      const child = startGoProxy(go.binary, upstream, maxProcs);
      children.push(child);
      const line = await child.waitForJson((l) => l.msg === 'listening', 15_000);
      targets.push({ result: { name: `go-proxy (GOMAXPROCS ${maxProcs})`, kind: 'go-proxy', errors: [] }, port: Number(line.port), hostHeader: 'hello.default.kfn.local', pid: child.proc.pid });
    }

    const noNginx = await nginxUnavailable();
    if (noNginx) skipped.push({ name: 'nginx', kind: 'nginx', skipped: noNginx, errors: [] });
    else {
      nginx = await startNginx(upstream);
      result.nginxVersion = nginx.version;
      targets.push({ result: { name: 'nginx', kind: 'nginx', errors: [] }, port: nginx.port, hostHeader: 'hello.default.kfn.local', pid: nginx.pid });
    }
    const noHaproxy = await haproxyUnavailable();
    if (noHaproxy) skipped.push({ name: 'haproxy', kind: 'haproxy', skipped: noHaproxy, errors: [] });
    else {
      haproxy = await startHaproxy(upstream);
      result.haproxyVersion = haproxy.version;
      targets.push({ result: { name: 'haproxy', kind: 'haproxy', errors: [] }, port: haproxy.port, hostHeader: 'hello.default.kfn.local', pid: haproxy.pid });
    }

    for (const t of targets) {
      const answer = await getOnce(t.port, t.hostHeader, '/', undefined, 10_000);
      if (answer.status !== 200 || !answer.body.includes('"method":"GET"')) {
        throw new Error(`${t.result.name}: sanity GET got ${answer.status} ${answer.body.slice(0, 200)}`);
      }
    }
    result.targets.push(...targets.map((t) => t.result), ...skipped);

    const wrkOf = (t: Target, durationS: number): WrkOptions => ({
      url: `http://127.0.0.1:${t.port}/`,
      host: t.hostHeader,
      connections: o.connections,
      threads: o.wrkThreads,
      durationS,
    });
    const rounds = Math.max(1, Math.round(o.durationS / o.roundS));
    // wrk takes whole seconds.
    const roundSeconds = Math.max(1, Math.round(o.durationS / rounds));
    const perRound = new Map<Target, WrkResult[]>(targets.map((t) => [t, []]));
    const cpuUs = new Map<Target, number>(targets.map((t) => [t, 0]));
    const meter = new LoadMeter();
    try {
      if (o.warmupS > 0) for (const t of targets) await runWrk(wrkOf(t, Math.max(1, Math.round(o.warmupS))));
      for (let i = 0; i < rounds; i++) {
        await o.gate?.();
        await meter.start();
        for (const t of targets) {
          const [before] = t.pid ? await cpuMicros([t.pid]) : [undefined];
          perRound.get(t)?.push(await runWrk(wrkOf(t, roundSeconds)));
          const [after] = t.pid ? await cpuMicros([t.pid]) : [undefined];
          if (before !== undefined && after !== undefined) cpuUs.set(t, (cpuUs.get(t) ?? 0) + after - before);
        }
        await meter.stop();
      }
      for (const t of targets) {
        const r = t.result;
        const runs = perRound.get(t) ?? [];
        r.throughput = combine(runs);
        if (t.pid && r.throughput.requests > 0) r.throughput.cpuPerRequestUs = Math.round((cpuUs.get(t) ?? 0) / r.throughput.requests);
        if (r.throughput.errors > 0) r.errors.push(`wrk saw ${r.throughput.errors} errors: ${runs.map((w) => JSON.stringify(w.errors)).join(' ')}`);
      }
    } catch (err) {
      for (const t of targets) t.result.errors.push(`throughput: ${(err as Error).message}`);
    }

    try {
      await o.gate?.();
      await meter.start();
      const byName = new Map(targets.map((t) => [t.result.name, t.result]));
      const fixed = await fixedRateInChild({
        targets: targets.map((t) => ({ name: t.result.name, host: '127.0.0.1', port: t.port, path: '/', hostHeader: t.hostHeader })),
        rate: o.rate,
        durationMs: o.rateDurationS * 1000,
        warmupMs: o.rateWarmupS * 1000,
        sliceMs: o.rateSliceMs,
        connections: o.connections,
      });
      await meter.stop();
      for (const f of fixed) {
        const r = byName.get(f.name);
        if (!r) continue;
        r.fixedRate = f;
        if (f.errors > 0) r.errors.push(`fixed rate: ${f.errors} requests failed`);
      }
    } catch (err) {
      for (const t of targets) t.result.errors.push(`fixed rate: ${(err as Error).message}`);
    }
    const load = meter.result();
    if (load) result.othersDuringMeasurement = load;
    return result;
  } finally {
    await nginx?.stop();
    await haproxy?.stop();
    // SIGTERM, not SIGKILL: node writes the --cpu-prof profile on a clean exit.
    for (const c of children) await c.stop('SIGTERM', 10_000);
    await replica?.child.stop('SIGTERM', 5000);
  }
}

function combine(runs: WrkResult[]): Throughput {
  const requests = runs.reduce((a, w) => a + w.requests, 0);
  const seconds = runs.reduce((a, w) => a + w.seconds, 0);
  const p50s = runs.map((w) => w.latencyMs.p50).sort((a, b) => a - b);
  return {
    requestsPerSecond: Math.round(requests / Math.max(seconds, 1e-9)),
    requests,
    rounds: runs.length,
    latencyMs: { p50: p50s[Math.floor((p50s.length - 1) / 2)] ?? 0, p99: Math.max(0, ...runs.map((w) => w.latencyMs.p99)) },
    errors: runs.reduce((a, w) => a + wrkErrorCount(w), 0),
    perRound: runs,
  };
}

/** The generator in its own process, so it shares no event loop with this one. */
async function fixedRateInChild(o: FixedRateOptions): Promise<FixedRateResult[]> {
  const bound = (o.warmupMs + o.durationMs) * o.targets.length + 30_000;
  const r = await runToEnd(process.execPath, [path.join(benchDist, 'fixed-rate.js'), JSON.stringify(o)], bound);
  const line = r.stdout.split('\n').find((l) => l.startsWith('['));
  if (r.code !== 0 || !line) throw new Error(`fixed-rate generator failed (code ${r.code}, signal ${r.signal}): ${r.stderr.trim()}`);
  return JSON.parse(line) as FixedRateResult[];
}
