// How long one autoscaler tick takes for 10,000 functions with a full minute of stats
// from two activators behind them. Only tick() is timed: stat intake and the scale
// writes it triggers run between measurements.
// Run alone with `npx tsx bench/autoscaler.ts`; prints JSON.
import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import type { FunctionSpec } from '../pkg/apis/function/types.js';
import type { FunctionKey } from '../pkg/apis/meta.js';
import { Autoscaler } from '../pkg/autoscaler/autoscaler.js';
import { autoscalerConfig } from '../pkg/autoscaler/config.js';
import { FakeClock } from '../pkg/shared/clock.js';
import { quietLogger } from '../pkg/shared/log.js';
import { isEntry } from './lib/paths.js';

export interface AutoscalerBench {
  functions: number;
  tickMs: { p50: number; p99: number };
}

const FUNCTIONS = 10_000;
const WARMUP_TICKS = 20;
const MEASURED_TICKS = 200;
const SOURCES = ['activator-a', 'activator-b'];

/** A deterministic load shape per function: idle, steady, bursty or ramping. */
type Load = (second: number) => number;

function loadFor(i: number, rand: () => number): Load {
  const base = 1 + rand() * 400;
  switch (i % 10) {
    case 0:
    case 1:
    case 2:
      return () => 0; // idle: most functions in a big install are
    case 3:
      return (s) => (s % 120 < 10 ? base * 4 : base * 0.2); // bursts
    case 4:
      return (s) => base * (1 + Math.sin(s / 30)); // daily-ish swing, compressed
    default:
      return () => base * (0.9 + rand() * 0.2); // steady with noise
  }
}

function specFor(i: number): FunctionSpec {
  const scale: FunctionSpec['scale'] = {};
  if (i % 7 === 0) scale.target = 10;
  if (i % 11 === 0) scale.scaleDownDelay = '30s';
  if (i % 13 === 0) scale.min = 1;
  if (i % 17 === 0) scale.max = 20;
  return { image: 'bench', containerConcurrency: i % 5 === 0 ? 50 : 0, scale };
}

/** Mulberry32: the same "random" history on every run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? 0;
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function benchAutoscaler(): Promise<AutoscalerBench> {
  const rand = seeded(42);
  const clock = new FakeClock(1_700_000_000_000);
  // Keyed by the key object the autoscaler passes (the same one to setScale and to
  // readyReplicas), so the fake platform costs a Map lookup, not a string build.
  const ready = new Map<FunctionKey, number>();
  const config = autoscalerConfig();
  const autoscaler = new Autoscaler({
    config,
    scaleWriter: {
      // Replicas become ready the moment they are asked for: the most writes and changes per tick.
      setScale: (key, n) => {
        ready.set(key, n);
        return Promise.resolve();
      },
    },
    readyReplicas: (key) => ready.get(key) ?? 0,
    clock,
    log: quietLogger(),
    metrics: new Registry(),
  });

  const keys: FunctionKey[] = [];
  const loads: Load[] = [];
  for (let i = 0; i < FUNCTIONS; i++) {
    const key = { namespace: `team-${i % 50}`, name: `fn-${i}` };
    keys.push(key);
    loads.push(loadFor(i, rand));
    autoscaler.upsert(key, specFor(i));
  }

  let second = 0;
  const feed = (seconds: number): void => {
    for (let s = 0; s < seconds; s++) {
      clock.advance(1000);
      second++;
      const time = clock.now();
      for (let i = 0; i < FUNCTIONS; i++) {
        const total = loads[i]!(second);
        const key = keys[i]!;
        // Two activators share the traffic unevenly.
        autoscaler.record({ key, source: SOURCES[0]!, averageConcurrency: total * 0.6, requestCount: Math.round(total), time });
        autoscaler.record({ key, source: SOURCES[1]!, averageConcurrency: total * 0.4, requestCount: Math.round(total), time });
      }
    }
  };

  // A full stable window of history, ticking as the loop would.
  for (let s = 0; s < 60; s += 2) {
    feed(2);
    autoscaler.tick();
    await settle();
  }

  const samples: number[] = [];
  for (let t = 0; t < WARMUP_TICKS + MEASURED_TICKS; t++) {
    feed(config.tickIntervalMs / 1000);
    const started = performance.now();
    autoscaler.tick();
    const ms = performance.now() - started;
    if (t >= WARMUP_TICKS) samples.push(ms);
    await settle();
  }
  samples.sort((a, b) => a - b);
  const round = (n: number): number => Math.round(n * 100) / 100;
  return { functions: FUNCTIONS, tickMs: { p50: round(percentile(samples, 50)), p99: round(percentile(samples, 99)) } };
}

if (isEntry(import.meta.url)) {
  console.log(JSON.stringify(await benchAutoscaler()));
}
