// Many functions called from zero at the same moment, wired as `kfn dev` wires them (the
// local platform, the real autoscaler and the activator in this process, kfn dev's one warm
// runtime, replicas as real runtime processes): one request to each of N functions at
// zero, all sent at once. Measured: the first responses (p50/p95 from the burst's start),
// when each scale decision was written to the platform (every decision of the
// burst should be within 100 ms of its start), the event-loop delay of this process (the
// activator's) during the burst, and the bound: N kfn-node-runtime processes started
// directly, all at once, with no kfn, to their `listening` lines. The burst's p95 is judged
// against 1.5× the bound's p95.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createActivator, listenActivator } from '../pkg/activator/activator.js';
import type { KfnFunction } from '../pkg/apis/function/types.js';
import { API_VERSION, type FunctionKey } from '../pkg/apis/meta.js';
import { Autoscaler } from '../pkg/autoscaler/autoscaler.js';
import { autoscalerConfig } from '../pkg/autoscaler/config.js';
import { LOCAL_DIR_ANNOTATION, LocalPlatform } from '../pkg/platform/local/index.js';
import { systemClock } from '../pkg/shared/clock.js';
import { quietLogger } from '../pkg/shared/log.js';
import { getOnce } from './lib/http.js';
import { benchDist, helloDir, repoRoot } from './lib/paths.js';
import { percentile, round } from './lib/stats.js';

export interface ColdBurstOptions {
  /** Burst sizes: functions called from zero at once. */
  sizes: number[];
  /** Bursts per size (each on a fresh platform, after its bound is measured). */
  rounds: number;
  gate?: () => Promise<void>;
}

export interface ColdBurstRun {
  functions: number;
  /** First responses, ms from the burst's start. */
  firstResponse: { p50: number; p95: number; max: number };
  /** Scale decisions (the autoscaler's first write above zero per function), ms from the burst's start: the first, the last, and last − first. */
  decisions: { first: number; last: number; spread: number };
  /** This process's event-loop delay during the burst, ms (monitorEventLoopDelay, 1 ms resolution). */
  eventLoopDelay: { max: number; p99: number };
  /** The bound: N runtime processes started directly, ms from the first spawn to each `listening` line. */
  bound: { p50: number; p95: number; max: number };
  /** firstResponse.p95 / bound.p95. */
  ratio: number;
  failures: number;
  /** The first failed request's status and body. */
  failureSample?: string;
}

export interface ColdBurstResult {
  options: ColdBurstOptions;
  runs: ColdBurstRun[];
}

const runtimeBin = path.join(repoRoot, 'bin', 'kfn-node-runtime');

function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

function fnAtZero(name: string): KfnFunction {
  return {
    apiVersion: API_VERSION,
    kind: 'Function',
    metadata: { name, namespace: 'default', annotations: { [LOCAL_DIR_ANNOTATION]: helloDir } },
    spec: { image: 'kfn/hello:dev', command: ['kfn-node-runtime'], args: ['handler.js'], timeoutSeconds: 60, scale: { initial: 0 } },
  };
}

function stats(xs: number[]): { p50: number; p95: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: round(percentile(s, 50)), p95: round(percentile(s, 95)), max: round(s.at(-1) ?? 0) };
}

/** Functions of the unmeasured burst that first runs this process's cold code (JIT, lazy loads), as a kfn dev that has served before. */
const WARMUP_FUNCTIONS = 5;

export async function benchColdBurst(o: ColdBurstOptions): Promise<ColdBurstResult> {
  const runs: ColdBurstRun[] = [];
  await burst(WARMUP_FUNCTIONS);
  for (const n of o.sizes) {
    for (let i = 0; i < o.rounds; i++) {
      await o.gate?.();
      const bound = await startDirectly(n);
      await o.gate?.();
      runs.push({ ...(await burst(n)), bound: stats(bound), ratio: 0 });
      const run = runs.at(-1);
      if (run) run.ratio = round(run.firstResponse.p95 / Math.max(1, run.bound.p95));
      if (run?.failureSample) console.error(`bench: cold burst of ${n}: ${run.failures} not served, e.g. ${run.failureSample}`);
      console.error(`bench: cold burst of ${n}: p95 ${run?.firstResponse.p95} ms, bound p95 ${run?.bound.p95} ms, decisions spread ${run?.decisions.spread} ms, max loop delay ${run?.eventLoopDelay.max} ms`);
    }
  }
  return { options: { sizes: o.sizes, rounds: o.rounds }, runs };
}

/**
 * N runtime processes started at once, no kfn: ms from the first spawn to each `listening`
 * line. From a small process in a session of its own (burst-bound-child.ts), as kfn's
 * launcher starts replicas: forking this large process N times would inflate the bound.
 */
async function startDirectly(n: number): Promise<number[]> {
  const child = spawn(process.execPath, [path.join(benchDist, 'burst-bound-child.js'), String(n), runtimeBin, helloDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`starting ${n} runtimes directly failed (exit ${code}): ${out.slice(0, 300)}`);
  return JSON.parse(out) as number[];
}

async function burst(n: number): Promise<Omit<ColdBurstRun, 'bound' | 'ratio'>> {
  const decided = new Map<string, number>();
  const log = process.env.BENCH_BURST_LOG ? pino({ level: 'debug' }, pino.destination(process.env.BENCH_BURST_LOG)) : quietLogger();
  const metrics = new Registry();
  // kfn dev's default: one warm runtime.
  const platform = new LocalPlatform({ log, runtimeBinDir: `${repoRoot}/bin`, options: { drainTimeoutMs: 5000, warmRuntimes: 1 } });
  const autoscaler = new Autoscaler({
    config: autoscalerConfig(),
    // The first write above zero of each function is its decision; a replica that fails
    // and is replaced later (its port taken, say) is not a later decision.
    scaleWriter: {
      setScale: (k, replicas) => {
        if (replicas > 0 && !decided.has(k.name)) decided.set(k.name, preciseNow());
        return platform.setScale(k, replicas);
      },
    },
    readyReplicas: (k) => platform.workloadStatus(k)?.readyReplicas ?? 0,
    clock: systemClock,
    log,
    metrics,
  });
  const activator = createActivator({ log, statSink: autoscaler, metrics });
  const stop = new AbortController();
  const server = await listenActivator(activator, { port: 0, host: '127.0.0.1', closeGraceMs: 2000 }, stop.signal);
  const unwatch = platform.watchEndpoints((u) => activator.updateEndpoints(u));
  const loops = [autoscaler.run(stop.signal), activator.run(stop.signal)];
  const keys: FunctionKey[] = Array.from({ length: n }, (_, i) => ({ namespace: 'default', name: `burst-${i}` }));
  const loop = monitorEventLoopDelay({ resolution: 1 });
  try {
    for (const key of keys) {
      const fn = fnAtZero(key.name);
      activator.upsertFunction(key, { containerConcurrency: 0, timeoutSeconds: 60 });
      await platform.applyFunction(fn);
      autoscaler.upsert(key, fn.spec);
    }
    // The warm runtime is up, as it would be in a kfn dev that has been running a while.
    const warmBy = Date.now() + 15_000;
    while (!platform.warmRuntimes().some((w) => w.warm) && Date.now() < warmBy) await new Promise((r) => setTimeout(r, 10));

    loop.enable();
    const t0 = preciseNow();
    const answers = await Promise.all(
      keys.map(async (k) => {
        const a = await getOnce(server.port, `${k.name}.default.kfn.local`, '/', undefined, 60_000).catch((err: unknown) => ({ status: 0, body: String(err) }));
        return { status: a.status, ms: preciseNow() - t0, body: a.body };
      }),
    );
    loop.disable();
    const bySchedule = keys.map((k) => (decided.get(k.name) ?? NaN) - t0).filter((x) => Number.isFinite(x));
    const first = Math.min(...bySchedule);
    const last = Math.max(...bySchedule);
    return {
      functions: n,
      firstResponse: stats(answers.filter((a) => a.status === 200).map((a) => a.ms)),
      decisions: { first: round(first), last: round(last), spread: round(last - first) },
      eventLoopDelay: { max: round(loop.max / 1e6), p99: round(loop.percentile(99) / 1e6) },
      failures: answers.filter((a) => a.status !== 200).length + (n - bySchedule.length),
      ...(answers.some((a) => a.status !== 200) ? { failureSample: answers.filter((a) => a.status !== 200).map((a) => `${a.status} ${a.body.slice(0, 200)}`)[0] } : {}),
    };
  } finally {
    unwatch();
    stop.abort();
    await Promise.allSettled(loops);
    await server.close();
    await platform.close();
    await activator.close();
  }
}
