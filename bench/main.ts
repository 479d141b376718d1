// `npm run bench`: every performance target of kfn measured in one run on loopback,
// printed as Markdown (target, measured, verdict) and written to
// bench/results/latest.json. Bounded: each section has its own limits and the whole run
// stops itself after BENCH_DEADLINE_S. Knobs (env):
//   BENCH_QUICK=1            short runs, for trying the bench itself (figures not comparable)
//   BENCH_ONLY=a,b           sections: datapath, coldstart, coldburst, memory, autoscaler, scalestep, events, protocols
//   BENCH_STEP_CLIENTS       clients switched on at once in the scale step (50), BENCH_STEP_RUNS (3)
//   BENCH_PROTOCOL_ROUNDS    rounds per target of WebSocket and gRPC load (3), BENCH_PROTOCOL_ROUND_S (2) s each;
//                            BENCH_WS_CONNECTIONS (32), BENCH_GRPC_CONCURRENCY (32)
//   BENCH_DURATION_S         wrk seconds per path (10), in rounds of BENCH_ROUND_S (2); BENCH_WARMUP_S (2)
//   BENCH_CONNECTIONS        connections per load run (32)    BENCH_WRK_THREADS (1)
//   BENCH_RATE               fixed rate, req/s (1000)         BENCH_RATE_DURATION_S (10), BENCH_RATE_WARMUP_S (2),
//                            per path, in slices of BENCH_RATE_SLICE_MS (1000)
//   BENCH_COLD_STARTS        measured cold starts (25)        BENCH_COLD_WARMUP (2)
//   BENCH_BURST_SIZES        functions called from zero at once, per burst (25,100)   BENCH_BURST_ROUNDS (3; quick 1);
//                            BENCH_BURST_LOG=FILE: the bursts' platform, autoscaler and activator log (debug) there
//   BENCH_FUNCTIONS          functions routed (10000)         BENCH_MEMORY_SAMPLE (1000)
//   BENCH_EVENTS             events per throughput round (20000), in BENCH_EVENTS_ROUNDS (3) rounds
//                            taking turns with BENCH_EVENTS_WRK_S (3) s of wrk; BENCH_EVENTS_WARMUP (2000);
//                            BENCH_EVENTS_CONCURRENCY: wrk connections = trigger maxInFlight (32)
//   BENCH_EVENTS_RATE        events/s for the latency run (1000), BENCH_EVENTS_RATE_S (10) s after
//                            BENCH_EVENTS_RATE_WARMUP_S (2)
//   KFN_BENCH_NODES          node binaries to run the data path's activator and node relay under, side by side in
//                            the same run: NODE[=CHECKOUT],... (CHECKOUT: a tree with dist/ built and its own
//                            node_modules, for a node that cannot load this one's undici); the first is judged.
//                            Default: this node, this checkout
//   BENCH_GO_MAXPROCS        GOMAXPROCS of the Go reverse proxy (1)
//   BENCH_CPU_PROF=DIR       write CPU profiles of the data-path activator and the events server to DIR
//   BENCH_HEAP_SNAPSHOT=FILE write a heap snapshot of the memory benchmark's activator, all served
//   BENCH_WAIT_QUIET_S       before each section, wait up to this long for other processes to
//                            use under 10% of the machine (60); what they used during each
//                            section is reported; BENCH_WAIT_QUIET_ROUND_S (20) bounds the same
//                            wait before each wrk round, fixed-rate run and cold start
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { benchAutoscaler } from './autoscaler.js';
import { benchColdBurst } from './cold-burst.js';
import { benchColdStart } from './cold-start.js';
import { benchDataPath, type NodeRuntime } from './data-path.js';
import { benchEvents } from './events.js';
import { benchMemory } from './memory.js';
import { benchScaleStep } from './scale-step.js';
import { benchProtocols } from './protocols.js';
import { repoRoot, resultsDir } from './lib/paths.js';
import { LoadMeter, lostPercent, sampleLoad, type MachineLoad } from './lib/load.js';
import { runToEnd } from './lib/proc.js';
import { detailsMarkdown, evaluate, targetsMarkdown, type BenchResults, type Machine } from './report.js';

const quick = process.env.BENCH_QUICK === '1';

function envNumber(name: string, full: number, short: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return quick ? short : full;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name}=${raw}: want a number ≥ 0`);
  return v;
}

const SECTIONS = ['datapath', 'coldstart', 'coldburst', 'memory', 'autoscaler', 'scalestep', 'events', 'protocols'] as const;
type Section = (typeof SECTIONS)[number];

function sections(): Set<Section> {
  const only = process.env.BENCH_ONLY;
  if (!only) return new Set(SECTIONS);
  const picked = only.split(',').map((s) => s.trim()) as Section[];
  for (const s of picked) if (!SECTIONS.includes(s)) throw new Error(`BENCH_ONLY: unknown section ${s}; want ${SECTIONS.join(', ')}`);
  return new Set(picked);
}

/** KFN_BENCH_NODES: `node[=checkout],...`, each checked to exist. */
function benchNodes(): NodeRuntime[] | undefined {
  const raw = process.env.KFN_BENCH_NODES;
  if (!raw) return undefined;
  return raw.split(',').map((entry) => {
    const [node = '', root = repoRoot] = entry.trim().split('=');
    if (!existsSync(node)) throw new Error(`KFN_BENCH_NODES: ${node}: no such node binary`);
    if (!existsSync(path.join(root, 'dist/bench/activator-server.js'))) throw new Error(`KFN_BENCH_NODES: ${root}: no dist/bench/activator-server.js (build that checkout first)`);
    return { node, root: path.resolve(root) };
  });
}

async function machine(): Promise<Machine> {
  const cpus = os.cpus();
  const m: Machine = { cores: cpus.length, cpu: cpus[0]?.model.trim() ?? 'unknown', node: process.version, os: `${os.type()} ${os.release()}` };
  const ngx = await runToEnd('nginx', ['-v'], 5000);
  if (ngx.code !== null) m.nginx = ngx.stderr.trim().replace(/^nginx version:\s*nginx\//, '');
  const wrk = await runToEnd('wrk', ['-v'], 5000);
  const haproxy = await runToEnd('haproxy', ['-v'], 5000);
  if (haproxy.code !== null) m.haproxy = /version (\S+)/.exec(haproxy.stdout)?.[1];
  if (wrk.code !== null) m.wrk = wrk.stdout.split('\n')[0]?.replace(/\s*Copyright.*$/, '').trim();
  return m;
}

const QUIET_PERCENT = 10;

/** The machine's load from others, after waiting up to `maxS` for it to drop under QUIET_PERCENT. */
async function waitForQuiet(maxS: number, sampleMs = 1000, say = true): Promise<MachineLoad | undefined> {
  const until = Date.now() + maxS * 1000;
  let load = await sampleLoad(sampleMs);
  while (load && lostPercent(load) > QUIET_PERCENT && Date.now() < until) {
    if (say) console.error(`bench: waiting for the machine to be quiet (${load.othersBusyPercent}% busy with other processes, ${load.stealPercent}% stolen by the host)…`);
    load = await sampleLoad(sampleMs);
  }
  return load;
}

async function main(): Promise<number> {
  const deadlineS = envNumber('BENCH_DEADLINE_S', 1200, 300);
  const deadline = setTimeout(() => {
    console.error(`bench: still running after ${deadlineS} s; stopping (children are killed on exit)`);
    process.exit(3);
  }, deadlineS * 1000);
  deadline.unref();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));

  const run = sections();
  const started = Date.now();
  const r: Omit<BenchResults, 'targets'> = { machine: await machine(), startedAt: new Date(started).toISOString(), wallSeconds: 0, problems: {}, otherLoad: {} };
  const quietWaitS = envNumber('BENCH_WAIT_QUIET_S', 60, 0);
  const roundWaitS = envNumber('BENCH_WAIT_QUIET_ROUND_S', 20, 0);
  const gate = async (): Promise<void> => {
    if (roundWaitS > 0) await waitForQuiet(roundWaitS, 500, false);
  };
  const step = async <T>(name: Section, key: string, fn: () => Promise<T>): Promise<T | undefined> => {
    if (!run.has(name)) {
      r.problems[key] = 'not selected (BENCH_ONLY)';
      return undefined;
    }
    const before = await waitForQuiet(quietWaitS);
    if (before && lostPercent(before) > QUIET_PERCENT) {
      console.error(`bench: warning: others keep ${lostPercent(before)}% of the machine (processes and the host's steal); ${name} figures will suffer`);
    }
    const t0 = Date.now();
    console.error(`bench: ${name}…`);
    const meter = new LoadMeter();
    await meter.start();
    try {
      const out = await fn();
      console.error(`bench: ${name} done in ${Math.round((Date.now() - t0) / 1000)} s`);
      return out;
    } catch (err) {
      r.problems[key] = (err as Error).message;
      console.error(`bench: ${name} failed: ${(err as Error).stack ?? String(err)}`);
      return undefined;
    } finally {
      await meter.stop();
      r.otherLoad[key] = meter.result();
    }
  };

  const cpuProfileDir = process.env.BENCH_CPU_PROF ? path.resolve(process.env.BENCH_CPU_PROF) : undefined;
  const nodes = benchNodes();
  r.dataPath = await step('datapath', 'dataPath', () =>
    benchDataPath({
      durationS: envNumber('BENCH_DURATION_S', 10, 2),
      roundS: envNumber('BENCH_ROUND_S', 2, 1),
      warmupS: envNumber('BENCH_WARMUP_S', 2, 1),
      connections: envNumber('BENCH_CONNECTIONS', 32, 32),
      wrkThreads: envNumber('BENCH_WRK_THREADS', 1, 1),
      rate: envNumber('BENCH_RATE', 1000, 1000),
      rateDurationS: envNumber('BENCH_RATE_DURATION_S', 10, 2),
      rateWarmupS: envNumber('BENCH_RATE_WARMUP_S', 2, 1),
      rateSliceMs: envNumber('BENCH_RATE_SLICE_MS', 1000, 500),
      gate,
      goMaxProcs: envNumber('BENCH_GO_MAXPROCS', 1, 1),
      ...(nodes ? { nodes } : {}),
      ...(cpuProfileDir ? { cpuProfileDir } : {}),
    }),
  );
  r.coldStart = await step('coldstart', 'coldStart', () =>
    benchColdStart({
      runs: envNumber('BENCH_COLD_STARTS', 25, 5),
      warmupRuns: envNumber('BENCH_COLD_WARMUP', 2, 1),
      firstRequestRuns: envNumber('BENCH_FIRST_REQUEST_RUNS', 5, 2),
      gate,
    }),
  );
  r.coldBurst = await step('coldburst', 'coldBurst', () =>
    benchColdBurst({
      sizes: (process.env.BENCH_BURST_SIZES ?? '25,100').split(',').map((x) => Number(x.trim())).filter((x) => Number.isInteger(x) && x > 0),
      rounds: envNumber('BENCH_BURST_ROUNDS', 3, 1),
      gate,
    }),
  );
  r.memory = await step('memory', 'memory', () =>
    benchMemory({
      functions: envNumber('BENCH_FUNCTIONS', 10_000, 10_000),
      sample: envNumber('BENCH_MEMORY_SAMPLE', 1000, 1000),
      connections: envNumber('BENCH_CONNECTIONS', 32, 32),
      idleWaitMs: 5000,
      ...(process.env.BENCH_HEAP_SNAPSHOT ? { heapSnapshotFile: path.resolve(process.env.BENCH_HEAP_SNAPSHOT) } : {}),
    }),
  );
  r.autoscaler = await step('autoscaler', 'autoscaler', () => benchAutoscaler());
  r.scaleStep = await step('scalestep', 'scaleStep', () =>
    benchScaleStep({
      clients: envNumber('BENCH_STEP_CLIENTS', 50, 10),
      runs: envNumber('BENCH_STEP_RUNS', 3, 1),
      runTimeoutMs: 60_000,
      gate,
    }),
  );
  r.events = await step('events', 'events', () =>
    benchEvents({
      rounds: envNumber('BENCH_EVENTS_ROUNDS', 3, 1),
      wrkS: envNumber('BENCH_EVENTS_WRK_S', 3, 1),
      eventsPerRound: envNumber('BENCH_EVENTS', 20_000, 3000),
      warmupEvents: envNumber('BENCH_EVENTS_WARMUP', 2000, 500),
      concurrency: envNumber('BENCH_EVENTS_CONCURRENCY', 32, 32),
      rate: envNumber('BENCH_EVENTS_RATE', 1000, 1000),
      rateDurationS: envNumber('BENCH_EVENTS_RATE_S', 10, 2),
      rateWarmupS: envNumber('BENCH_EVENTS_RATE_WARMUP_S', 2, 1),
      gate,
    }),
  );
  r.protocols = await step('protocols', 'protocols', () =>
    benchProtocols({
      rounds: envNumber('BENCH_PROTOCOL_ROUNDS', 3, 1),
      roundS: envNumber('BENCH_PROTOCOL_ROUND_S', 2, 1),
      warmupS: envNumber('BENCH_WARMUP_S', 2, 1),
      connections: envNumber('BENCH_WS_CONNECTIONS', 32, 32),
      concurrency: envNumber('BENCH_GRPC_CONCURRENCY', 32, 32),
      gate,
    }),
  );
  r.wallSeconds = Math.round((Date.now() - started) / 1000);
  // Where a section measured in windows (between waits for a quiet machine), what others
  // used during those windows is the figure that matters.
  if (r.dataPath?.othersDuringMeasurement) r.otherLoad.dataPath = r.dataPath.othersDuringMeasurement;
  if (r.coldStart?.warm.othersDuringMeasurement) r.otherLoad.coldStart = r.coldStart.warm.othersDuringMeasurement;
  if (r.events?.othersDuringMeasurement) r.otherLoad.events = r.events.othersDuringMeasurement;

  const results: BenchResults = { ...r, targets: evaluate(r) };
  await mkdir(resultsDir, { recursive: true });
  const file = path.join(resultsDir, 'latest.json');
  await writeFile(file, JSON.stringify(results, null, 2) + '\n');

  console.log(`\n## Benchmarks${quick ? ' (BENCH_QUICK: short runs, not comparable)' : ''}\n`);
  console.log(targetsMarkdown(results));
  console.log(`\n${detailsMarkdown(results)}\n`);
  console.log(`Results: ${path.relative(process.cwd(), file)} (${results.wallSeconds} s)`);
  clearTimeout(deadline);
  const missed = results.targets.filter((t) => t.verdict === 'MISS').length;
  const failed = Object.keys(r.problems).filter((k) => r.problems[k] !== 'not selected (BENCH_ONLY)').length;
  // A missed target is a finding, not a failure of the bench; a section that could not run is.
  if (missed > 0) console.log(`${missed} target(s) missed.`);
  return failed > 0 ? 1 : 0;
}

process.exit(await main());
