// A step in demand: from no traffic to N closed-loop clients at once, on a function with
// containerConcurrency 1 and 100 ms requests, wired as `kfn dev` wires it (the local
// platform with real replica processes, the real autoscaler and the activator in this
// process). Two figures per run, from the step: when the autoscaler first asked for the
// ideal count (N / (1 × 70%), rounded up: 72 for 50 clients), and when that many
// replicas were ready. The first is the autoscaler's reaction (target: within 1 s); the
// second adds what starting that many processes costs on the machine.
import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { Client } from 'undici';
import { createActivator, listenActivator } from '../pkg/activator/activator.js';
import type { KfnFunction } from '../pkg/apis/function/types.js';
import { API_VERSION } from '../pkg/apis/meta.js';
import { Autoscaler } from '../pkg/autoscaler/autoscaler.js';
import { autoscalerConfig } from '../pkg/autoscaler/config.js';
import { LOCAL_DIR_ANNOTATION, LocalPlatform } from '../pkg/platform/local/index.js';
import { systemClock } from '../pkg/shared/clock.js';
import { quietLogger } from '../pkg/shared/log.js';
import { helloDir, repoRoot } from './lib/paths.js';
import { round, summarize, type Summary } from './lib/stats.js';
import { until } from './lib/until.js';

export interface ScaleStepOptions {
  /** Closed-loop clients switched on at the step (50). */
  clients: number;
  runs: number;
  /** Longest a run may take to reach the ideal count ready. */
  runTimeoutMs: number;
  /** Awaited before each run: waits for a quiet machine. */
  gate?: () => Promise<void>;
}

export interface ScaleStepRun {
  /** Step → the first decision asking for the ideal count or more. */
  decidedMs: number;
  /** Step → that many replicas ready. */
  readyMs: number;
  /** Step → the first decision above zero (the cold start). */
  firstDecisionMs: number;
  /** Requests answered by the time all were ready, and how many were not 200. */
  answered: number;
  failed: number;
}

export interface ScaleStepResult {
  options: Omit<ScaleStepOptions, 'gate'>;
  /** ceil(clients / (containerConcurrency 1 × 70% utilization)). */
  ideal: number;
  decidedMs: Summary;
  readyMs: Summary;
  runs: ScaleStepRun[];
}

const key = { namespace: 'default', name: 'step' };
const HOST = 'step.default.kfn.local';
const REQUEST_MS = 100;

function stepFunction(): KfnFunction {
  return {
    apiVersion: API_VERSION,
    kind: 'Function',
    metadata: { name: key.name, namespace: key.namespace, annotations: { [LOCAL_DIR_ANNOTATION]: helloDir } },
    spec: { image: 'kfn/hello:dev', command: ['kfn-node-runtime'], args: ['handler.js'], containerConcurrency: 1, timeoutSeconds: 60, scale: { initial: 0 } },
  };
}

export async function benchScaleStep(o: ScaleStepOptions): Promise<ScaleStepResult> {
  const log = quietLogger();
  const metrics = new Registry();
  // As kfn dev runs: one warm runtime kept ready.
  const platform = new LocalPlatform({ log, runtimeBinDir: `${repoRoot}/bin`, options: { drainTimeoutMs: 5000, warmRuntimes: 1 } });
  const config = autoscalerConfig();
  const autoscaler = new Autoscaler({
    config,
    scaleWriter: platform,
    readyReplicas: (k) => platform.workloadStatus(k)?.readyReplicas ?? 0,
    clock: systemClock,
    log,
    metrics,
  });
  const activator = createActivator({ log, statSink: autoscaler, metrics });
  const stop = new AbortController();
  const server = await listenActivator(activator, { port: 0, host: '127.0.0.1', closeGraceMs: 2000 }, stop.signal);
  let endpoints = 0;
  const unwatch = platform.watchEndpoints((u) => {
    activator.updateEndpoints(u);
    if (u.key.name === key.name && u.key.namespace === key.namespace) endpoints = u.endpoints.length;
  });
  const loops = [autoscaler.run(stop.signal), activator.run(stop.signal)];
  const fn = stepFunction();
  const ideal = Math.ceil(o.clients / ((1 * config.targetUtilizationPercentage) / 100) - 1e-9);
  const runs: ScaleStepRun[] = [];
  try {
    activator.upsertFunction(key, { containerConcurrency: 1, timeoutSeconds: 60 });
    await platform.applyFunction(fn);
    for (let i = 0; i < o.runs; i++) {
      await o.gate?.();
      runs.push(await oneStep(o, ideal, () => endpoints, autoscaler, fn));
      // Back to zero with a fresh autoscaler entry: the next run steps from nothing again.
      autoscaler.remove(key);
      await platform.setScale(key, 0);
      await until('scale step', 'scale to zero', () => endpoints === 0 && (platform.describe(key)?.replicas.length ?? 0) === 0, 30_000, 5);
    }
  } finally {
    unwatch();
    stop.abort();
    await Promise.allSettled(loops);
    await server.close();
    await platform.close();
    await activator.close();
  }
  const { gate: _gate, ...options } = o;
  return {
    options,
    ideal,
    decidedMs: summarize(runs.map((r) => r.decidedMs)),
    readyMs: summarize(runs.map((r) => r.readyMs)),
    runs,
  };

  async function oneStep(opts: ScaleStepOptions, want: number, ready: () => number, scaler: Autoscaler, f: KfnFunction): Promise<ScaleStepRun> {
    let firstDecisionAt: number | undefined;
    let decidedAt: number | undefined;
    const unlisten = scaler.onDecision((k, st) => {
      if (k.name !== key.name || k.namespace !== key.namespace) return;
      const t = performance.now();
      if (firstDecisionAt === undefined && st.desiredReplicas > 0) firstDecisionAt = t;
      if (decidedAt === undefined && st.desiredReplicas >= want) decidedAt = t;
    });
    scaler.upsert(key, f.spec);
    // One connection per client, open before the step (a request for a function nobody
    // routes opens it), so that the step is the clients' first requests leaving at once
    // rather than their connections being made one after another.
    const connections = Array.from({ length: opts.clients }, () => new Client(`http://127.0.0.1:${server.port}`, { pipelining: 1 }));
    await Promise.all(
      connections.map(async (c) => {
        const res = await c.request({ method: 'GET', path: '/', headers: { host: 'nobody.default.kfn.local' } });
        await res.body.dump();
      }),
    );
    let running = true;
    let answered = 0;
    let failed = 0;
    const client = async (c: Client): Promise<void> => {
      while (running) {
        try {
          const res = await c.request({ method: 'GET', path: `/?sleep=${REQUEST_MS}`, headers: { host: HOST }, headersTimeout: 60_000, bodyTimeout: 60_000 });
          await res.body.dump();
          answered++;
          if (res.statusCode !== 200) failed++;
        } catch {
          failed++;
        }
      }
    };
    const t0 = performance.now();
    const clients = connections.map((c) => client(c));
    try {
      await until('scale step', `${want} replicas ready`, () => decidedAt !== undefined && ready() >= want, opts.runTimeoutMs, 5);
      const readyAt = performance.now();
      return {
        decidedMs: round((decidedAt ?? readyAt) - t0),
        readyMs: round(readyAt - t0),
        firstDecisionMs: round((firstDecisionAt ?? readyAt) - t0),
        answered,
        failed,
      };
    } finally {
      running = false;
      unlisten();
      await Promise.allSettled(clients);
      await Promise.allSettled(connections.map((c) => c.close()));
    }
  }
}
