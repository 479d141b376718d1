// The verdicts (target vs measured) and the Markdown tables printed at the end of a run.
// Targets are fixed here and nowhere else; a miss is reported with how far off it is.
import type { AutoscalerBench } from './autoscaler.js';
import type { ColdBurstResult } from './cold-burst.js';
import type { ColdStartResult, ColdStartSeries, Phases } from './cold-start.js';
import type { DataPathResult, TargetResult } from './data-path.js';
import type { EventsResult } from './events.js';
import type { MemoryResult } from './memory.js';
import type { ScaleStepResult } from './scale-step.js';
import type { ProtocolsResult } from './protocols.js';
import { lostPercent, type MachineLoad } from './lib/load.js';
import { round, type Summary } from './lib/stats.js';

export type Verdict = 'pass' | 'MISS' | 'n/a';

export interface TargetRow {
  id: string;
  what: string;
  target: string;
  measured: string;
  verdict: Verdict;
  /** For a miss: by how much. For n/a: why. */
  note?: string;
}

export interface Machine {
  cores: number;
  cpu: string;
  node: string;
  os: string;
  nginx?: string;
  haproxy?: string;
  wrk?: string;
}

export interface BenchResults {
  machine: Machine;
  startedAt: string;
  wallSeconds: number;
  dataPath?: DataPathResult;
  coldStart?: ColdStartResult;
  coldBurst?: ColdBurstResult;
  autoscaler?: AutoscalerBench;
  scaleStep?: ScaleStepResult;
  memory?: MemoryResult;
  events?: EventsResult;
  protocols?: ProtocolsResult;
  /** Sections that failed or were skipped, with why. */
  problems: Record<string, string>;
  /** CPU used by other processes while each section measured. */
  otherLoad: Record<string, MachineLoad | undefined>;
  targets: TargetRow[];
}

const LIMITS = {
  /** The activator against Go's httputil.ReverseProxy, Knative's data path: at least as fast, at most as costly. */
  goThroughputRatio: 1.0,
  goCpuRatio: 1.0,
  /** The activator's throughput at least this share of the bare node relay's (within 5 %). */
  relayRatio: 0.95,
  platformShareP50Ms: 5,
  autoscalerTickMs: 20,
  /** A step in demand decided at the ideal replica count within this long (issue 12). */
  scaleStepDecidedMs: 1000,
  memoryMB: 150,
  eventsThroughputRatio: 0.5,
  eventsP99Ms: 20,
  /** Every scale decision of a cold burst this soon after its start; its p95 within this factor of starting the processes directly. */
  burstDecisionMs: 100,
  burstBoundRatio: 1.5,
};

function verdict(ok: boolean): Verdict {
  return ok ? 'pass' : 'MISS';
}

function na(id: string, what: string, target: string, why: string): TargetRow {
  return { id, what, target, measured: '—', verdict: 'n/a', note: why };
}

/** The path of that kind judged by the targets: for node-based ones, the first node runtime's. */
function target(dp: DataPathResult | undefined, kind: TargetResult['kind']): TargetResult | undefined {
  return dp?.targets.find((t) => t.kind === kind && (t.primary ?? true));
}

/** Measured without errors, or why not. */
function clean(...ts: (TargetResult | undefined)[]): string | undefined {
  const why = ts.map((t) => t?.skipped ?? t?.errors.join('; ')).filter((w) => w);
  return why.length > 0 ? why.join('; ') : undefined;
}

const num = (n: number): string => n.toLocaleString('en-US');
const signed = (ms: number): string => `${ms >= 0 ? '+' : '−'}${round(Math.abs(ms), 3)}`;

export function evaluate(r: Omit<BenchResults, 'targets'>): TargetRow[] {
  const rows: TargetRow[] = [];
  const dp = r.dataPath;
  const why = (section: string): string => r.problems[section] ?? 'not run';

  const act = target(dp, 'activator');
  const goProxy = target(dp, 'go-proxy');
  const ngx = target(dp, 'nginx');
  const dir = target(dp, 'direct');
  const relay = target(dp, 'node-relay');
  const rps = (t: TargetResult | undefined): number => t?.throughput?.requestsPerSecond ?? 0;
  {
    const id = 'throughput';
    const what = `Activator throughput vs Go's httputil.ReverseProxy (${dp?.options.connections ?? 32} keep-alive connections)`;
    const goal = `≥ ${LIMITS.goThroughputRatio}× Go`;
    const problem = clean(act, goProxy);
    if (act?.throughput && goProxy?.throughput && !problem) {
      const ratio = rps(act) / rps(goProxy);
      const ok = ratio >= LIMITS.goThroughputRatio;
      rows.push({
        id,
        what,
        target: goal,
        measured:
          `${round(ratio)}× (${num(rps(act))} vs ${num(rps(goProxy))} req/s)` +
          (ngx?.throughput && !clean(ngx) ? `; × nginx: activator ${round(rps(act) / rps(ngx))}, Go ${round(rps(goProxy) / rps(ngx))}` : ''),
        verdict: verdict(ok),
        ...(ok ? {} : { note: `${num(Math.ceil(LIMITS.goThroughputRatio * rps(goProxy) - rps(act)))} req/s short, ${round((1 - ratio) * 100, 1)} %` }),
      });
    } else {
      rows.push(na(id, what, goal, problem ?? why('dataPath')));
    }
  }
  {
    const id = 'cpu-per-request';
    const what = 'Activator CPU per request (user + system of its process, wrk rounds) vs the Go proxy';
    const goal = `≤ ${LIMITS.goCpuRatio}× Go`;
    const a = act?.throughput?.cpuPerRequestUs;
    const g = goProxy?.throughput?.cpuPerRequestUs;
    const problem = clean(act, goProxy);
    if (a !== undefined && g !== undefined && g > 0 && !problem) {
      const ratio = a / g;
      const ok = ratio <= LIMITS.goCpuRatio;
      rows.push({
        id,
        what,
        target: goal,
        measured:
          `${round(ratio)}× (${a} vs ${g} µs)` + (relay?.throughput?.cpuPerRequestUs !== undefined ? `; the bare node relay: ${relay.throughput.cpuPerRequestUs} µs` : ''),
        verdict: verdict(ok),
        ...(ok ? {} : { note: `${round(a - LIMITS.goCpuRatio * g)} µs over, ${round((ratio - 1) * 100, 1)} %` }),
      });
    } else {
      rows.push(na(id, what, goal, problem ?? why('dataPath')));
    }
  }
  for (const [id, p] of [
    ['added-p50', 'p50'],
    ['added-p99', 'p99'],
  ] as const) {
    const what = `Activator's added ${p} latency over direct at a fixed ${num(dp?.options.rate ?? 1000)} req/s vs the Go proxy's`;
    const goal = "≤ Go's";
    const problem = clean(act, dir, goProxy) ?? (act?.fixedRate?.errors || dir?.fixedRate?.errors || goProxy?.fixedRate?.errors ? 'fixed-rate errors' : undefined);
    if (act?.fixedRate && dir?.fixedRate && goProxy?.fixedRate && !problem) {
      const added = act.fixedRate.latencyMs[p] - dir.fixedRate.latencyMs[p];
      const goAdded = goProxy.fixedRate.latencyMs[p] - dir.fixedRate.latencyMs[p];
      const ok = added <= goAdded;
      const others = [ngx, target(dp, 'haproxy'), relay]
        .filter((t): t is TargetResult => t?.fixedRate !== undefined && !clean(t))
        .map((t) => `${t.kind} ${signed((t.fixedRate?.latencyMs[p] ?? 0) - dir.fixedRate!.latencyMs[p])}`);
      rows.push({
        id,
        what,
        target: goal,
        measured: `${signed(added)} ms vs Go ${signed(goAdded)} ms (direct ${dir.fixedRate.latencyMs[p]} ms)` + (others.length > 0 ? `; ${others.join(', ')} ms` : ''),
        verdict: verdict(ok),
        ...(ok ? {} : { note: `${round(added - goAdded, 3)} ms over` }),
      });
    } else {
      rows.push(na(id, what, goal, problem ?? why('dataPath')));
    }
  }
  {
    const id = 'vs-relay';
    const what = 'Activator throughput vs a bare node relay on the same node (bench/node-relay.ts)';
    const goal = `≥ ${LIMITS.relayRatio}× relay`;
    const problem = clean(act, relay);
    if (act?.throughput && relay?.throughput && !problem) {
      const ratio = rps(act) / rps(relay);
      const ok = ratio >= LIMITS.relayRatio;
      rows.push({
        id,
        what,
        target: goal,
        measured: `${round(ratio)}× (${num(rps(act))} vs ${num(rps(relay))} req/s); the relay vs Go: ${goProxy?.throughput ? round(rps(relay) / rps(goProxy)) : '—'}×`,
        verdict: verdict(ok),
        ...(ok ? {} : { note: `${round((LIMITS.relayRatio - ratio) * 100, 1)} points short` }),
      });
    } else {
      rows.push(na(id, what, goal, problem ?? why('dataPath')));
    }
  }
  {
    const id = 'cold-start';
    const what = "Cold start: platform's share of time to first response (p50)";
    const goal = `≤ ${LIMITS.platformShareP50Ms} ms`;
    const cs = r.coldStart?.warm;
    if (cs && cs.total.n > 0) {
      const ok = cs.platformShare.p50 <= LIMITS.platformShareP50Ms;
      const fresh = r.coldStart?.fresh;
      rows.push({
        id,
        what,
        target: goal,
        measured:
          `${cs.platformShare.p50} ms (total ${cs.total.p50} ms − replica's own ${cs.replicaOwn.p50} ms; n=${cs.total.n}, ${cs.warmRuns} from a warm runtime)` +
          (fresh && fresh.total.n > 0 ? `; every replica a fresh process: ${fresh.platformShare.p50} ms of ${fresh.total.p50} ms` : ''),
        verdict: verdict(ok),
        ...(ok ? {} : { note: `${round(cs.platformShare.p50 - LIMITS.platformShareP50Ms)} ms over` }),
      });
    } else {
      rows.push(na(id, what, goal, why('coldStart')));
    }
  }
  for (const size of [...new Set((r.coldBurst?.runs ?? []).map((x) => x.functions))]) {
    const id = `cold-burst-${size}`;
    const what = `${size} functions called from zero at once: last scale decision; first-response p95 vs starting ${size} runtimes directly (p95)`;
    const goal = `≤ ${LIMITS.burstDecisionMs} ms; ≤ ${LIMITS.burstBoundRatio}×`;
    // The worst round of this size.
    const runs = (r.coldBurst?.runs ?? []).filter((x) => x.functions === size);
    const last = Math.max(...runs.map((x) => x.decisions.last));
    const ratio = Math.max(...runs.map((x) => x.ratio));
    const failures = runs.reduce((n, x) => n + x.failures, 0);
    const ok = last <= LIMITS.burstDecisionMs && ratio <= LIMITS.burstBoundRatio && failures === 0;
    const worst = runs.find((x) => x.ratio === ratio) ?? runs[0];
    rows.push({
      id,
      what,
      target: goal,
      measured:
        `${round(last)} ms; ${ratio}× (p95 ${worst?.firstResponse.p95} ms vs ${worst?.bound.p95} ms; worst of ${runs.length}; ` +
        `max event-loop delay ${Math.max(...runs.map((x) => x.eventLoopDelay.max))} ms${failures > 0 ? `; ${failures} not served` : ''})`,
      verdict: verdict(ok),
      ...(ok ? {} : { note: [last > LIMITS.burstDecisionMs ? `decisions ${round(last - LIMITS.burstDecisionMs)} ms late` : '', ratio > LIMITS.burstBoundRatio ? `${round(ratio - LIMITS.burstBoundRatio)}× over` : '', failures > 0 ? `${failures} failed` : ''].filter(Boolean).join('; ') }),
    });
  }
  if (!r.coldBurst) rows.push(na('cold-burst', 'Functions called from zero at once', `decisions ≤ ${LIMITS.burstDecisionMs} ms; p95 ≤ ${LIMITS.burstBoundRatio}× the direct start`, why('coldBurst')));
  {
    const id = 'autoscaler';
    const what = `Autoscaler: one tick's decisions for ${num(r.autoscaler?.functions ?? 10_000)} functions (p99)`;
    const goal = `≤ ${LIMITS.autoscalerTickMs} ms`;
    const a = r.autoscaler;
    if (a) {
      const ok = a.tickMs.p99 <= LIMITS.autoscalerTickMs;
      rows.push({
        id,
        what,
        target: goal,
        measured: `${a.tickMs.p99} ms (p50 ${a.tickMs.p50} ms)`,
        verdict: verdict(ok),
        ...(ok ? {} : { note: `${round(a.tickMs.p99 - LIMITS.autoscalerTickMs)} ms over` }),
      });
    } else {
      rows.push(na(id, what, goal, why('autoscaler')));
    }
  }
  {
    const id = 'scale-step';
    const s = r.scaleStep;
    const what = `Scale-up: 0 → ${s?.options.clients ?? 50} clients (containerConcurrency 1, 100 ms requests) decided at the ideal count (worst run)`;
    const goal = `≤ ${LIMITS.scaleStepDecidedMs} ms after the step`;
    if (s && s.runs.length > 0) {
      const ok = s.decidedMs.max <= LIMITS.scaleStepDecidedMs;
      rows.push({
        id,
        what,
        target: goal,
        measured: `${s.decidedMs.max} ms to ask for ${s.ideal} (p50 ${s.decidedMs.p50} ms); all ${s.ideal} ready after ${s.readyMs.p50} ms (p50, worst ${s.readyMs.max} ms; n=${s.runs.length})`,
        verdict: verdict(ok),
        ...(ok ? {} : { note: `${round(s.decidedMs.max - LIMITS.scaleStepDecidedMs)} ms over` }),
      });
    } else {
      rows.push(na(id, what, goal, why('scaleStep')));
    }
  }
  const m = r.memory;
  for (const [id, label, fig] of [
    ['memory-sample', `${num(m?.options.sample ?? 1000)} of them served once`, m?.sampled],
    ['memory-all', 'all of them served once', m?.allServed],
  ] as const) {
    const what = `Activator RSS after GC, ${num(m?.options.functions ?? 10_000)} functions routed, ${label}`;
    const goal = `≤ ${LIMITS.memoryMB} MB`;
    if (m && fig) {
      const ok = fig.rssMB <= LIMITS.memoryMB;
      rows.push({
        id,
        what,
        target: goal,
        measured: `${fig.rssMB} MB (heap used ${fig.heapUsedMB} MB)`,
        verdict: verdict(ok),
        ...(ok ? {} : { note: `${round(fig.rssMB - LIMITS.memoryMB, 1)} MB over` }),
      });
    } else {
      rows.push(na(id, what, goal, why('memory')));
    }
  }
  rows.push(...eventRows(r.events, why('events')));
  return rows;
}

function eventRows(ev: EventsResult | undefined, why: string): TargetRow[] {
  const rows: TargetRow[] = [];
  {
    const id = 'events-throughput';
    const what = `Events delivered end to end (publish → function 2xx → ack, maxInFlight ${ev?.options.concurrency ?? 32}) vs HTTP through the activator (${ev?.options.concurrency ?? 32} connections)`;
    const goal = `≥ ${LIMITS.eventsThroughputRatio}× HTTP`;
    const e = ev?.events;
    const h = ev?.http;
    if (e && h && e.failures === 0 && h.errors === 0) {
      const ratio = e.eventsPerSecond / h.requestsPerSecond;
      const ok = ratio >= LIMITS.eventsThroughputRatio;
      rows.push({
        id,
        what,
        target: goal,
        measured: `${round(ratio)}× (${num(e.eventsPerSecond)} events/s vs ${num(h.requestsPerSecond)} req/s)`,
        verdict: verdict(ok),
        ...(ok ? {} : { note: `${num(Math.ceil(LIMITS.eventsThroughputRatio * h.requestsPerSecond - e.eventsPerSecond))} events/s short` }),
      });
    } else {
      rows.push(na(id, what, goal, ev?.errors.join('; ') || why));
    }
  }
  {
    const id = 'events-p99';
    const what = `Publish → function latency p99, function warm, ${num(ev?.options.rate ?? 1000)} events/s`;
    const goal = `≤ ${LIMITS.eventsP99Ms} ms`;
    const l = ev?.latency;
    if (l && l.failures === 0 && l.measured > 0) {
      const ok = l.latencyMs.p99 <= LIMITS.eventsP99Ms;
      rows.push({
        id,
        what,
        target: goal,
        measured: `${l.latencyMs.p99} ms (p50 ${l.latencyMs.p50} ms, n=${num(l.measured)})`,
        verdict: verdict(ok),
        ...(ok ? {} : { note: `${round(l.latencyMs.p99 - LIMITS.eventsP99Ms)} ms over` }),
      });
    } else {
      rows.push(na(id, what, goal, ev?.errors.join('; ') || why));
    }
  }
  return rows;
}

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

export function machineLine(m: Machine): string {
  const tools = [m.nginx ? `nginx ${m.nginx}` : undefined, m.haproxy ? `HAProxy ${m.haproxy}` : undefined, m.wrk].filter(Boolean).join(', ');
  return `Measured on ${m.cores} cores (${m.cpu}), Node.js ${m.node}, ${m.os}${tools ? `; ${tools}` : ''}, loopback only.`;
}

/** The table for the README's Benchmarks section. */
export function targetsMarkdown(r: BenchResults): string {
  const rows = r.targets.map((t) => [t.what, t.target, t.measured, t.note ? `${t.verdict} (${t.note})` : t.verdict]);
  return `${machineLine(r.machine)}\n\n${table(['target', 'goal', 'measured', 'verdict'], rows)}`;
}

/** Everything measured, for the reader who wants the details behind the verdicts. */
export function detailsMarkdown(r: BenchResults): string {
  const parts: string[] = [];
  const dp = r.dataPath;
  if (dp) {
    const o = dp.options;
    const base = (kind: TargetResult['kind']): number => target(dp, kind)?.throughput?.requestsPerSecond ?? 0;
    const ngxRps = base('nginx');
    const goRps = base('go-proxy');
    const direct = target(dp, 'direct')?.fixedRate?.latencyMs;
    const rows = dp.targets.map((t) => {
      const w = t.throughput;
      const f = t.fixedRate;
      const ratio = (b: number): string => (w && b > 0 ? String(round(w.requestsPerSecond / b)) : '—');
      return [
        t.name,
        w ? num(w.requestsPerSecond) : '—',
        ratio(ngxRps),
        ratio(goRps),
        w?.cpuPerRequestUs !== undefined ? String(w.cpuPerRequestUs) : '—',
        w ? `${w.latencyMs.p50} / ${w.latencyMs.p99}` : '—',
        f ? `${f.latencyMs.p50} / ${f.latencyMs.p99} / ${f.latencyMs.p999}` : '—',
        f && direct && t.kind !== 'direct' ? `${signed(f.latencyMs.p50 - direct.p50)} / ${signed(f.latencyMs.p99 - direct.p99)}` : '—',
        t.skipped ?? (t.errors.join('; ') || 'ok'),
      ];
    });
    const versions = [dp.goVersion ? `Go ${dp.goVersion}` : undefined, dp.nginxVersion, dp.haproxyVersion ? `HAProxy ${dp.haproxyVersion}` : undefined].filter(Boolean).join(', ');
    parts.push(
      `Data path: the hello sample on the real runtime, one replica. wrk: ${o.wrkThreads} thread, ${o.connections} connections, ${o.durationS} s per path ` +
        `in rounds of ${o.roundS} s taking turns, after ${o.warmupS} s of warm-up (p50: median of the rounds, p99: worst round). ` +
        `CPU per request: user + system time of the proxy's processes (/proc/<pid>/stat) over its wrk rounds, divided by its requests. ` +
        `Fixed rate: ${num(o.rate)} req/s, open loop, ${o.rateDurationS} s per path in ${o.rateSliceMs} ms slices taking turns, after ${o.rateWarmupS} s; ` +
        `latency from the write to the last byte. go-proxy: Go's httputil.ReverseProxy with Knative's activator transport (bench/go-proxy), ` +
        `GOMAXPROCS ${o.goMaxProcs ?? 1}; nginx: 1 worker; HAProxy: 1 thread; both with keep-alive upstreams. node-relay: node's HTTP server relaying ` +
        `over undici and nothing else (bench/node-relay.ts), the floor of a proxy written in node.${versions ? ` (${versions})` : ''}\n\n` +
        table(['path', 'req/s (wrk)', '× nginx', '× Go', 'CPU µs/req', 'wrk p50 / p99 ms', `at ${num(o.rate)} req/s p50 / p99 / p99.9 ms`, 'added p50 / p99 ms', 'notes'], rows),
    );
  }
  const cs = r.coldStart;
  if (cs) {
    const label: Record<keyof Phases, string> = {
      requestToScheduled: 'request → activator → autoscaler decision → replica scheduled',
      portPick: 'free port picked (a warm runtime: taken, with the port it holds)',
      spawnCall: 'the launcher asked to start it (one IPC message), or the assignment sent to a warm runtime',
      execToNodeStart: 'asked → node started (the launcher forks and execs; env, node binary), or the warm runtime read its assignment',
      replicaOwn: "replica's own start (node's start, or the assignment → listening)",
      listeningToReady: "listening → readiness probe passed (below 0: the probe connected before the runtime's listen callback ran)",
      readyToResponse: 'ready → endpoints → proxied → first answer → client',
    };
    const series = [cs.warm, cs.fresh].filter((s) => s.total.n > 0);
    const cell = (f: (s: ColdStartSeries) => Summary | undefined): string[] => series.map((s) => `${f(s)?.p50 ?? '–'} / ${f(s)?.p99 ?? '–'}`);
    const rows = (Object.keys(label) as (keyof Phases)[]).map((k) => [label[k], ...cell((s) => s.phases[k])]);
    rows.push(['**total**', ...cell((s) => s.total)]);
    rows.push(["**platform's share** (total − replica's own)", ...cell((s) => s.platformShare)]);
    rows.push(['for comparison: the same request warm, through the activator', ...cell((s) => s.warmRequest)]);
    rows.push(["for comparison: a fresh runtime's first request, direct, new connection", `${cs.replicaFirstRequest.p50} / ${cs.replicaFirstRequest.p99}`]);
    const heads = series.map((s) => (s.warmRuntimes > 0 ? `warm runtime (${s.warmRuns} of ${s.total.n} runs), p50 / p99 ms` : `fresh process (${s.total.n} runs), p50 / p99 ms`));
    parts.push(`Cold start (p99 of so few runs is close to the maximum):\n\n${table(['phase', ...heads], rows)}`);
  }
  const cb = r.coldBurst;
  if (cb && cb.runs.length > 0) {
    const rows = cb.runs.map((x) => [
      String(x.functions),
      `${x.firstResponse.p50} / ${x.firstResponse.p95} / ${x.firstResponse.max}`,
      `${x.bound.p50} / ${x.bound.p95} / ${x.bound.max}`,
      String(x.ratio),
      `${x.decisions.first} / ${x.decisions.last} (${x.decisions.spread})`,
      `${x.eventLoopDelay.p99} / ${x.eventLoopDelay.max}`,
      String(x.failures),
    ]);
    parts.push(
      "Cold bursts: N functions at zero, one request to each, all sent at once, through the activator as `kfn dev` wires it (one warm runtime), after one unmeasured burst of 5 (cold code). " +
        'Bound: N kfn-node-runtime processes started directly by a small process in its own session (bench/burst-bound-child.ts), all at once, to their `listening` lines. ' +
        'Decisions: the autoscaler’s first scale write above zero per function, from the burst start. Event-loop delay: the activator process, during the burst.\n\n' +
        table(['functions', 'first response p50 / p95 / max ms', 'bound p50 / p95 / max ms', 'p95 ÷ bound p95', 'decisions first / last (spread) ms', 'loop delay p99 / max ms', 'not served'], rows),
    );
  }
  const m = r.memory;
  if (m) {
    const row = (name: string, f: MemoryResult['empty']): string[] => [name, String(f.rssMB), String(f.heapUsedMB), String(f.externalMB)];
    parts.push(
      `Activator memory after GC, ${num(m.options.functions)} functions with ${num(m.endpoints)} endpoints (routing them took ${m.routeMs} ms):\n\n` +
        table(
          ['state', 'RSS MB', 'heap used MB', 'external MB'],
          [
            row('empty activator', m.empty),
            row('routed, no traffic', m.routed),
            row(`${num(m.options.sample)} served once`, m.sampled),
            row('all served once (idle connections to replicas kept, at most 1,000)', m.allServed),
            row(`all served, ${m.options.idleWaitMs / 1000} s later`, m.allServedIdle),
          ],
        ),
    );
  }
  const ev = r.events;
  if (ev && (ev.http || ev.events || ev.latency)) {
    const o = ev.options;
    const rows: string[][] = [];
    if (ev.http) rows.push([`HTTP POST through the activator (wrk, ${o.concurrency} connections)`, `${num(ev.http.requestsPerSecond)} req/s`, ev.http.perRound.map(num).join(', ')]);
    if (ev.events) rows.push([`events, publish → 2xx → ack (maxInFlight ${o.concurrency})`, `${num(ev.events.eventsPerSecond)} events/s`, ev.events.perRound.map(num).join(', ')]);
    const l = ev.latency;
    parts.push(
      `Events: ${ev.natsServer}, one JetStream stream (file store), one trigger, the hello sample on the real runtime, the activator and ` +
        `the dispatcher in one process as in \`kfn dev\`. ${o.rounds} rounds taking turns: ${o.wrkS} s of wrk, then ${num(o.eventsPerRound)} events ` +
        `published as fast as JetStream acknowledges them (256 in flight) and timed until the consumer has nothing pending, after ` +
        `${num(o.warmupEvents)} warm-up events.\n\n` +
        table(['path', 'rate', 'per round'], rows) +
        (ev.cpuPerItemUs
          ? `\n\nCPU per item, µs (user + system, throughput rounds): HTTP — activator ${ev.cpuPerItemUs.http.activator}, replica ${ev.cpuPerItemUs.http.replica}; ` +
            `events — activator + dispatcher ${ev.cpuPerItemUs.events.eventServer}, nats-server ${ev.cpuPerItemUs.events.natsServer}, ` +
            `publisher ${ev.cpuPerItemUs.events.publisher}, replica ${ev.cpuPerItemUs.events.replica}.`
          : '') +
        (l
          ? `\n\nLatency at ${num(l.rate)} events/s, open loop, ${o.rateDurationS} s after ${o.rateWarmupS} s of warm-up (n=${num(l.measured)}), ` +
            `publish → the function's 2xx back at the dispatcher: p50 ${l.latencyMs.p50} ms, p90 ${l.latencyMs.p90} ms, p99 ${l.latencyMs.p99} ms, ` +
            `p99.9 ${l.latencyMs.p999} ms, max ${l.latencyMs.max} ms (the publisher's own send lag: p50 ${l.sendLagMs.p50} ms, p99 ${l.sendLagMs.p99} ms). ` +
            `Of which publish → handed to HTTP by the dispatcher (JetStream, consumer, decode): p50 ${l.phasesMs.toDispatcher.p50} ms, p99 ${l.phasesMs.toDispatcher.p99} ms; ` +
            `handed to HTTP → the function's 2xx back (activator, function): p50 ${l.phasesMs.delivery.p50} ms, p99 ${l.phasesMs.delivery.p99} ms.`
          : ''),
    );
  }
  const loads = Object.entries(r.otherLoad).filter(([, l]) => l !== undefined);
  if (loads.length > 0) {
    parts.push(
      "The CPU while each section measured, other processes' share (interrupts, mostly our own loopback traffic; steal by the VM's host): " +
        `${loads.map(([k, l]) => `${k} ${l?.othersBusyPercent}% (${l?.interruptsPercent ?? '?'}%; ${l?.stealPercent ?? '?'}%)`).join(', ')}.`,
    );
  }
  const busy = loads.filter(([, l]) => l && lostPercent(l) > 5);
  if (busy.length > 0) {
    parts.push(
      `Warning: others used the machine while sections measured (${busy.map(([k, l]) => `${l ? lostPercent(l) : 0}% of the CPU during ${k}`).join(', ')}); ` +
        'figures measured while sharing two cores are pessimistic. Run again on a quiet machine.',
    );
  }
  const problems = Object.entries(r.problems);
  const pr = r.protocols;
  if (pr) {
    const o = pr.options;
    const row = (what: string, f: ProtocolsResult['grpcCallsPerSecond']): string =>
      `| ${what} | ${num(f.direct)} | ${num(f.activator)} | ${f.ratio} | ${f.errors.join('; ') || 'ok'} |`;
    parts.push(
      `Protocols: closed loop, ${o.connections} WebSockets each echoing 64-byte messages one at a time; ${o.concurrency} unary gRPC calls in flight on one channel (h2c). ` +
        `${o.rounds} rounds of ${o.roundS} s per target taking turns, after ${o.warmupS} s of warm-up.\n\n` +
        `| per second | direct to the replica | through the activator | ratio | errors |\n|---|---|---|---|---|\n` +
        `${row('WebSocket messages', pr.websocketMessagesPerSecond)}\n${row('gRPC unary calls', pr.grpcCallsPerSecond)}`,
    );
  }
  if (problems.length > 0) parts.push(`Problems:\n\n${problems.map(([k, v]) => `- ${k}: ${v}`).join('\n')}`);
  return parts.join('\n\n');
}
