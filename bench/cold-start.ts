// Time to first response for a function at zero replicas, wired as `kfn dev` wires it
// (pkg/dev/dev.ts): the local platform, the real autoscaler and the activator in this
// process, the replica a real runtime process. Each run is split into the replica's own
// start (node's start → listening, as the runtime reports it) and the platform's share
// (everything else), and the platform's share into its phases, from the platform's
// replica timings. Between runs the function goes back to zero and the autoscaler
// forgets it, so every run is a first activation. Two series: as kfn dev runs by default,
// with a warm runtime to take (the replica's own start is then from its assignment to
// listening), and with every replica a fresh process. The client, in this process too,
// is undici's, on a connection to the activator opened before the clock starts.
import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { Client } from 'undici';
import { createActivator, listenActivator } from '../pkg/activator/activator.js';
import type { KfnFunction } from '../pkg/apis/function/types.js';
import { API_VERSION } from '../pkg/apis/meta.js';
import { Autoscaler } from '../pkg/autoscaler/autoscaler.js';
import { autoscalerConfig } from '../pkg/autoscaler/config.js';
import type { StatSink } from '../pkg/autoscaler/stats.js';
import { LOCAL_DIR_ANNOTATION, LocalPlatform, type ReplicaTiming } from '../pkg/platform/local/index.js';
import { systemClock } from '../pkg/shared/clock.js';
import { quietLogger } from '../pkg/shared/log.js';
import { getOnce, getVia } from './lib/http.js';
import { LoadMeter, type MachineLoad } from './lib/load.js';
import { helloDir, repoRoot } from './lib/paths.js';
import { startReplica } from './lib/replica.js';
import { round, summarize, type Summary } from './lib/stats.js';
import { until } from './lib/until.js';

export interface ColdStartOptions {
  runs: number;
  /** Cold starts before the measured ones (JIT, first connections), not counted. */
  warmupRuns: number;
  /** Direct spawns of the runtime to time its first request alone. */
  firstRequestRuns: number;
  /** Awaited before each cold start: waits for a quiet machine. */
  gate?: () => Promise<void>;
}

/** One cold start; every figure in ms. Phases add up to `totalMs`. */
export interface ColdStartRun {
  totalMs: number;
  replicaOwnMs: number;
  platformShareMs: number;
  /** The replica was a warm runtime. */
  warm: boolean;
  phases: Phases;
}

export interface Phases {
  /** Client → activator → queue → poke → autoscaler decision → scale written → replica scheduled. */
  requestToScheduled: number;
  /** Picking a free port; for a warm runtime, taking it (it holds its port). */
  portPick: number;
  /** Asking the launcher to start it (a message; the launcher forks and execs), or sending a warm runtime its assignment. */
  spawnCall: number;
  /** Asked → node's own clock starts (the launcher's fork + exec, `#!/usr/bin/env node`, loading node), or the warm runtime read its assignment. */
  execToNodeStart: number;
  /** The replica's own start: node's start (a warm runtime's assignment) → listening. Not the platform's share. */
  replicaOwn: number;
  /** Listening → readiness probe passed and seen. */
  listeningToReady: number;
  /** Ready → endpoints to the activator → proxied → the replica's first answer → client. */
  readyToResponse: number;
}

/** Cold starts of one platform configuration. */
export interface ColdStartSeries {
  /** Warm runtimes the local platform kept (kfn dev's default is 1; 0: every replica a fresh process). */
  warmRuntimes: number;
  /** Runs whose replica was a warm runtime. */
  warmRuns: number;
  total: Summary;
  replicaOwn: Summary;
  platformShare: Summary;
  phases: Record<keyof Phases, Summary>;
  /** The same request through the activator right after, with the replica ready: the floor of the path. */
  warmRequest: Summary;
  runs: ColdStartRun[];
  /** Other processes' CPU use during the measured cold starts. */
  othersDuringMeasurement?: MachineLoad;
}

export interface ColdStartResult {
  options: ColdStartOptions;
  /** As `kfn dev` runs by default: with a warm runtime to take. The target is measured on this. */
  warm: ColdStartSeries;
  /** Every replica a fresh process, for comparison. */
  fresh: ColdStartSeries;
  /** The runtime's first request after listening, direct (no platform), in a fresh process. */
  replicaFirstRequest: Summary;
}

const key = { namespace: 'default', name: 'hello' };
const HOST = 'hello.default.kfn.local';

function helloAtZero(): KfnFunction {
  return {
    apiVersion: API_VERSION,
    kind: 'Function',
    metadata: { name: key.name, namespace: key.namespace, annotations: { [LOCAL_DIR_ANNOTATION]: helloDir } },
    spec: { image: 'kfn/hello:dev', command: ['kfn-node-runtime'], args: ['handler.js'], timeoutSeconds: 30, scale: { initial: 0 } },
  };
}

/** Epoch ms with sub-ms precision: the clock of the platform's timings and the runtime's line. */
function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

export async function benchColdStart(o: ColdStartOptions): Promise<ColdStartResult> {
  const warm = await coldStarts(o, 1);
  const fresh = await coldStarts(o, 0);
  return { options: o, warm, fresh, replicaFirstRequest: summarize(await replicaFirstRequests(o.firstRequestRuns, o.gate)) };
}

async function coldStarts(o: ColdStartOptions, warmRuntimes: number): Promise<ColdStartSeries> {
  const log = quietLogger();
  const metrics = new Registry();
  const platform = new LocalPlatform({ log, runtimeBinDir: `${repoRoot}/bin`, options: { drainTimeoutMs: 5000, warmRuntimes } });
  const autoscaler = new Autoscaler({
    config: autoscalerConfig(),
    scaleWriter: platform,
    readyReplicas: (k) => platform.workloadStatus(k)?.readyReplicas ?? 0,
    clock: systemClock,
    log,
    metrics,
  });
  // The activator reports to the autoscaler as in `kfn dev`; the pass-through only notes
  // when the activator has reported the function idle, so that no stat of one run's
  // traffic reaches the fresh autoscaler entry of the next (it would scale up ahead of
  // the request and the next run would not be cold).
  let idleReportedAt = 0;
  const statSink: StatSink = {
    record(stat) {
      if (stat.key.name === key.name && stat.key.namespace === key.namespace && stat.averageConcurrency === 0 && stat.requestCount === 0) {
        idleReportedAt = stat.time;
      }
      autoscaler.record(stat);
    },
    poke: (k) => autoscaler.poke(k),
  };
  const activator = createActivator({ log, statSink, metrics });
  const stop = new AbortController();
  const server = await listenActivator(activator, { port: 0, host: '127.0.0.1', closeGraceMs: 2000 }, stop.signal);
  let endpoints = 0;
  const unwatch = platform.watchEndpoints((u) => {
    activator.updateEndpoints(u);
    if (u.key.name === key.name && u.key.namespace === key.namespace) endpoints = u.endpoints.length;
  });
  let timing: ReplicaTiming | undefined;
  const unwatchTimings = platform.watchReplicaTimings((t) => (timing = t));
  const loops = [autoscaler.run(stop.signal), activator.run(stop.signal)];
  // The client's connection is open and its code warm before each timed request (see
  // below): what is timed is the platform, not connecting to it or a client's first call.
  const client = new Client(`http://127.0.0.1:${server.port}`, { pipelining: 1 });

  const fn = helloAtZero();
  const runs: ColdStartRun[] = [];
  const warm: number[] = [];
  const meter = new LoadMeter();
  try {
    activator.upsertFunction(key, { containerConcurrency: 0, timeoutSeconds: 30 });
    await platform.applyFunction(fn);
    autoscaler.upsert(key, fn.spec);

    for (let i = 0; i < o.warmupRuns + o.runs; i++) {
      await until('cold start', 'scale to zero', () => endpoints === 0 && (platform.describe(key)?.replicas.length ?? 0) === 0, 15_000);
      await o.gate?.();
      const measured = i >= o.warmupRuns;
      if (measured) await meter.start();
      timing = undefined;
      // A request for a function nobody routes (404), which touches nothing of hello's.
      await getVia(client, 'nobody.default.kfn.local', '/', 5000);
      const t0 = preciseNow();
      const answer = await getVia(client, HOST, '/', 30_000);
      const t1 = preciseNow();
      if (answer.status !== 200) throw new Error(`cold request got ${answer.status}: ${answer.body.slice(0, 300)}`);
      await until('cold start', "the platform's replica timing report", () => timing !== undefined, 5000);
      const t = timing as ReplicaTiming | undefined;
      if (!t || t.listeningAfterMs === undefined || t.processStartedAt === undefined || t.listeningAt === undefined) {
        throw new Error(`the platform reported no runtime timings: ${JSON.stringify(t)}`);
      }
      const w0 = preciseNow();
      const again = await getVia(client, HOST, '/', 5000);
      const w1 = preciseNow();
      const servedAt = Date.now();
      if (measured) await meter.stop();
      if (again.status !== 200) throw new Error(`warm request got ${again.status}`);

      if (measured) {
        const totalMs = t1 - t0;
        runs.push({
          totalMs: round(totalMs, 3),
          replicaOwnMs: t.listeningAfterMs,
          platformShareMs: round(totalMs - t.listeningAfterMs, 3),
          warm: t.warm,
          phases: {
            requestToScheduled: round(t.scheduledAt - t0, 3),
            portPick: round(t.spawnedAt - t.scheduledAt, 3),
            spawnCall: round(t.spawnCallMs, 3),
            execToNodeStart: round(t.processStartedAt - (t.spawnedAt + t.spawnCallMs), 3),
            replicaOwn: t.listeningAfterMs,
            listeningToReady: round(t.readyAt - t.listeningAt, 3),
            readyToResponse: round(t1 - t.readyAt, 3),
          },
        });
        warm.push(w1 - w0);
      }

      // Back to zero, and a fresh autoscaler entry once the activator has reported the
      // function idle: the next request is a first activation.
      autoscaler.remove(key);
      await platform.setScale(key, 0);
      await until('cold start', 'scale to zero', () => endpoints === 0 && (platform.describe(key)?.replicas.length ?? 0) === 0, 15_000);
      await until('cold start', 'the activator reporting the function idle', () => idleReportedAt > servedAt, 10_000);
      autoscaler.upsert(key, fn.spec);
    }
  } finally {
    await client.destroy();
    unwatch();
    unwatchTimings();
    stop.abort();
    await Promise.allSettled(loops);
    await server.close();
    await platform.close();
    await activator.close();
  }

  const phaseNames = Object.keys(runs[0]?.phases ?? {}) as (keyof Phases)[];
  const phases = {} as Record<keyof Phases, Summary>;
  for (const p of phaseNames) phases[p] = summarize(runs.map((r) => r.phases[p]));
  const load = meter.result();
  return {
    ...(load ? { othersDuringMeasurement: load } : {}),
    warmRuntimes,
    warmRuns: runs.filter((r) => r.warm).length,
    total: summarize(runs.map((r) => r.totalMs)),
    replicaOwn: summarize(runs.map((r) => r.replicaOwnMs)),
    platformShare: summarize(runs.map((r) => r.platformShareMs)),
    phases,
    warmRequest: summarize(warm),
    runs,
  };
}

/** The runtime alone: how long its very first request takes once it listens. */
async function replicaFirstRequests(n: number, gate: (() => Promise<void>) | undefined): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    await gate?.();
    const replica = await startReplica();
    try {
      // A new connection, as the activator's first request to a new replica makes one.
      const t0 = preciseNow();
      const a = await getOnce(replica.port, `${replica.host}:${replica.port}`, '/', undefined, 5000);
      out.push(preciseNow() - t0);
      if (a.status !== 200) throw new Error(`replica's first request got ${a.status}`);
    } finally {
      await replica.child.stop('SIGTERM', 5000);
    }
  }
  return out;
}
