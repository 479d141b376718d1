// Requests per second and latency of the same replica reached three ways: directly,
// through the activator (its own process), and through nginx (one worker, keep-alive
// upstream). wrk gives the most each sustains with N keep-alive connections; the
// fixed-rate generator gives latency at a rate all three handle easily, which is what
// the activator's overhead budget is about. Both alternate between the three (rounds of
// wrk, slices of the fixed rate), so a disturbance on the machine hits all of them.
import path from 'node:path';
import type { FixedRateOptions, FixedRateResult } from './fixed-rate.js';
import { getOnce } from './lib/http.js';
import { LoadMeter, type MachineLoad } from './lib/load.js';
import { nginxUnavailable, startNginx, type RunningNginx } from './lib/nginx.js';
import { benchDist } from './lib/paths.js';
import { runToEnd, startChild, type Child } from './lib/proc.js';
import { startReplica, type RunningReplica } from './lib/replica.js';
import { runWrk, wrkErrorCount, wrkUnavailable, type WrkOptions, type WrkResult } from './lib/wrk.js';

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
  /** Write a CPU profile of the activator process here (node --cpu-prof). */
  cpuProfileDir?: string;
}

/** `node-relay`: the floor of any proxy in node (bench/node-relay.ts), for comparison. */
export type TargetName = 'direct' | 'activator' | 'nginx' | 'node-relay';

export interface Throughput {
  requestsPerSecond: number;
  requests: number;
  rounds: number;
  /** Median of the rounds' p50s, and the worst of their p99s. */
  latencyMs: { p50: number; p99: number };
  errors: number;
  perRound: WrkResult[];
}

export interface TargetResult {
  name: TargetName;
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
  targets: TargetResult[];
  /** Other processes' CPU use during the measured rounds and the fixed-rate run. */
  othersDuringMeasurement?: MachineLoad;
}

interface Target {
  name: TargetName;
  port: number;
  hostHeader: string;
}

export async function benchDataPath(o: DataPathOptions): Promise<DataPathResult> {
  const missingWrk = await wrkUnavailable();
  if (missingWrk) throw new Error(missingWrk);
  let replica: RunningReplica | undefined;
  let activator: Child | undefined;
  let relay: Child | undefined;
  let nginx: RunningNginx | undefined;
  const result: DataPathResult = { options: o, replicaListeningAfterMs: 0, targets: [] };
  try {
    replica = await startReplica();
    result.replicaListeningAfterMs = replica.listeningAfterMs;
    const targets: Target[] = [{ name: 'direct', port: replica.port, hostHeader: `127.0.0.1:${replica.port}` }];

    const profileArgs = o.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfileDir}`] : [];
    activator = startChild('activator', process.execPath, [...profileArgs, path.join(benchDist, 'activator-server.js')], {
      env: { ...process.env, BENCH_REPLICA: `${replica.host}:${replica.port}` },
    });
    const line = await activator.waitForJson((l) => l.msg === 'listening', 15_000);
    targets.push({ name: 'activator', port: Number(line.port), hostHeader: 'hello.default.kfn.local' });
    relay = startChild('node-relay', process.execPath, [path.join(benchDist, 'node-relay.js')], {
      env: { ...process.env, BENCH_REPLICA: `${replica.host}:${replica.port}` },
    });
    const relayLine = await relay.waitForJson((l) => l.msg === 'listening', 15_000);
    targets.push({ name: 'node-relay', port: Number(relayLine.port), hostHeader: 'hello.default.kfn.local' });

    const noNginx = await nginxUnavailable();
    if (!noNginx) {
      nginx = await startNginx({ host: replica.host, port: replica.port });
      result.nginxVersion = nginx.version;
      targets.push({ name: 'nginx', port: nginx.port, hostHeader: 'hello.default.kfn.local' });
    }

    for (const t of targets) {
      const answer = await getOnce(t.port, t.hostHeader, '/', undefined, 10_000);
      if (answer.status !== 200 || !answer.body.includes('"method":"GET"')) {
        throw new Error(`${t.name}: sanity GET got ${answer.status} ${answer.body.slice(0, 200)}`);
      }
    }

    const byName = new Map<TargetName, TargetResult>();
    for (const t of targets) {
      const r: TargetResult = { name: t.name, errors: [] };
      byName.set(t.name, r);
      result.targets.push(r);
    }
    if (noNginx) result.targets.push({ name: 'nginx', skipped: noNginx, errors: [] });

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
    const perRound = new Map<TargetName, WrkResult[]>(targets.map((t) => [t.name, []]));
    const meter = new LoadMeter();
    try {
      if (o.warmupS > 0) for (const t of targets) await runWrk(wrkOf(t, Math.max(1, Math.round(o.warmupS))));
      for (let i = 0; i < rounds; i++) {
        await o.gate?.();
        await meter.start();
        for (const t of targets) perRound.get(t.name)?.push(await runWrk(wrkOf(t, roundSeconds)));
        await meter.stop();
      }
      for (const t of targets) {
        const r = byName.get(t.name);
        const runs = perRound.get(t.name) ?? [];
        if (!r) continue;
        r.throughput = combine(runs);
        if (r.throughput.errors > 0) r.errors.push(`wrk saw ${r.throughput.errors} errors: ${runs.map((w) => JSON.stringify(w.errors)).join(' ')}`);
      }
    } catch (err) {
      for (const r of byName.values()) r.errors.push(`throughput: ${(err as Error).message}`);
    }

    try {
      await o.gate?.();
      await meter.start();
      const fixed = await fixedRateInChild({
        targets: targets.map((t) => ({ name: t.name, host: '127.0.0.1', port: t.port, path: '/', hostHeader: t.hostHeader })),
        rate: o.rate,
        durationMs: o.rateDurationS * 1000,
        warmupMs: o.rateWarmupS * 1000,
        sliceMs: o.rateSliceMs,
        connections: o.connections,
      });
      await meter.stop();
      for (const f of fixed) {
        const r = byName.get(f.name as TargetName);
        if (!r) continue;
        r.fixedRate = f;
        if (f.errors > 0) r.errors.push(`fixed rate: ${f.errors} requests failed`);
      }
    } catch (err) {
      for (const r of byName.values()) r.errors.push(`fixed rate: ${(err as Error).message}`);
    }
    const load = meter.result();
    if (load) result.othersDuringMeasurement = load;
    return result;
  } finally {
    await nginx?.stop();
    // SIGTERM, not SIGKILL: node writes the --cpu-prof profile on a clean exit.
    await activator?.stop('SIGTERM', 10_000);
    await relay?.stop('SIGTERM', 5000);
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
