// The KPA decision, rule by rule, as tables: each row is a function's rules, a starting
// state and a sequence of observations at hand-set times, with the replicas wanted
// after each one.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FunctionSpec, ScaleSpec } from '../../pkg/apis/function/types.js';
import { autoscalerConfig, scalingParams, type AutoscalerConfig } from '../../pkg/autoscaler/config.js';
import {
  decide,
  decideInto,
  initialScalerState,
  modeOf,
  replicasFor,
  type Explanation,
  type ScaleMode,
  type ScalerState,
} from '../../pkg/autoscaler/decide.js';
import { FakeClock } from '../../pkg/shared/clock.js';

type SpecOption = (s: FunctionSpec) => void;
const scale = (patch: ScaleSpec): SpecOption => (s) => void (s.scale = { ...s.scale, ...patch });
const withTarget = (target: number, targetUtilization = 100): SpecOption => scale({ target, targetUtilization });
const withMin = (min: number): SpecOption => scale({ min });
const withMax = (max: number): SpecOption => scale({ max });
const withInitial = (initial: number): SpecOption => scale({ initial });
const withUpRate = (maxScaleUpRate: number): SpecOption => scale({ maxScaleUpRate });
const withDownRate = (maxScaleDownRate: number): SpecOption => scale({ maxScaleDownRate });
const withScaleDownDelay = (scaleDownDelay: string): SpecOption => scale({ scaleDownDelay });
// Panic needs demand at 1000% of ready capacity: keeps panic out of rows about other rules.
const noPanic: SpecOption = scale({ panicThreshold: 1000 });
const withContainerConcurrency = (cc: number): SpecOption => (s) => void (s.containerConcurrency = cc);
const onRps = (target?: number, targetUtilization?: number): SpecOption =>
  scale({ metric: 'rps', ...(target === undefined ? {} : { target }), ...(targetUtilization === undefined ? {} : { targetUtilization }) });

function fn(...opts: SpecOption[]): FunctionSpec {
  const spec: FunctionSpec = { image: 'hello' };
  for (const o of opts) o(spec);
  return spec;
}

const S = 1000;

interface Step {
  at: number;
  stable: number;
  panic: number;
  ready: number;
  poked?: boolean;
  want: number;
  mode?: ScaleMode;
  reason?: RegExp;
}

interface Row {
  name: string;
  spec?: FunctionSpec;
  cfg?: Partial<AutoscalerConfig>;
  /** Default: registered at 0 with nothing ready. */
  state?: ScalerState;
  /** Scale before the first step; later steps get the previous step's result. Default: first step's ready. */
  current?: number;
  steps: Step[];
}

// Traffic at the start puts a row past the initial-scale phase.
const rows: Row[] = [
  // desired = ceil(average / (target × utilization))
  {
    name: 'stable: average 140 at 100 × 70% = 70 per replica → 2',
    steps: [{ at: 0, stable: 140, panic: 140, ready: 2, want: 2, mode: 'stable', reason: /^stable: average concurrency 140/ }],
  },
  {
    name: 'stable: average 141 at 70 per replica → ceil(2.01) = 3',
    steps: [{ at: 0, stable: 141, panic: 141, ready: 3, want: 3 }],
  },
  {
    name: 'float noise: average 140.0000000001 at 70 per replica is 2, not 3',
    steps: [{ at: 0, stable: 140.0000000001, panic: 140, ready: 2, want: 2 }],
  },
  {
    name: 'containerConcurrency 10 caps target 100 → 7 per replica; average 20 → 3',
    spec: fn(withContainerConcurrency(10)),
    steps: [{ at: 0, stable: 20, panic: 20, ready: 3, want: 3 }],
  },
  {
    name: 'any demand wants a replica: average 0.01 → 1',
    steps: [{ at: 0, stable: 0.01, panic: 0.01, ready: 1, want: 1 }],
  },

  // scale.metric rps: the averages are requests per second, the same rules apply
  {
    name: 'rps, default target 200 × 70% = 140/s per replica: 700 requests/s → 5',
    spec: fn(onRps(), noPanic),
    steps: [{ at: 0, stable: 700, panic: 700, ready: 5, want: 5, reason: /^stable: average requests\/s 700 \/ 140 per replica wants 5$/ }],
  },
  {
    name: 'rps 701/s at 140 per replica → ceil(5.007) = 6',
    spec: fn(onRps(), noPanic),
    steps: [{ at: 0, stable: 701, panic: 701, ready: 6, want: 6 }],
  },
  {
    name: 'rps ignores containerConcurrency: cc 1, target 50/s at 100%, 400 requests/s → 8 (not 400 / 1)',
    spec: fn(withContainerConcurrency(1), onRps(50, 100), noPanic),
    steps: [{ at: 0, stable: 400, panic: 400, ready: 8, want: 8 }],
  },
  {
    name: 'rps panics as concurrency does: 2 ready, target 100/s at 100%, panic-window 450/s wants 5 ≥ 200% × 2',
    spec: fn(onRps(100, 100)),
    steps: [{ at: 0, stable: 150, panic: 450, ready: 2, want: 5, mode: 'panic', reason: /^panic: panic-window requests\/s 450 wants 5 for 2 ready/ }],
  },
  {
    name: 'rps decays to zero like concurrency: window + grace after the last request',
    spec: fn(onRps(100, 100)),
    cfg: { stableWindowMs: 6 * S, scaleToZeroGracePeriodMs: 3 * S },
    steps: [
      { at: 1 * S, stable: 50, panic: 50, ready: 1, want: 1 },
      { at: 5 * S, stable: 10, panic: 0, ready: 1, want: 1 },
      { at: 9 * S, stable: 0, panic: 0, ready: 1, want: 1, reason: /no traffic for 8s; keeping the last replica until 9s/ },
      { at: 10 * S, stable: 0, panic: 0, ready: 1, want: 0 },
    ],
  },

  // rate limits around the ready count
  {
    name: 'max scale-up rate 2 with 3 ready: average 700 wants 10, limited to ceil(2 × 3) = 6',
    spec: fn(withTarget(70), withUpRate(2), noPanic),
    steps: [{ at: 0, stable: 700, panic: 700, ready: 3, want: 6, reason: /limited to 6 by the max scale-up rate/ }],
  },
  {
    name: 'max scale-up rate counts 0 ready as 1: rate 2, average 700 wants 10 → 2',
    spec: fn(withTarget(70), withUpRate(2), noPanic),
    steps: [{ at: 0, stable: 700, panic: 700, ready: 0, want: 2 }],
  },
  {
    name: 'conservative scale-up rate still grows: 2 ready × 1.1 = 2.2 → 3',
    spec: fn(withTarget(70), withUpRate(1.1), noPanic),
    steps: [{ at: 0, stable: 700, panic: 700, ready: 2, want: 3 }],
  },
  {
    name: 'max scale-down rate 2: 10 ready, average 70 wants 1 → no fewer than floor(10 / 2) = 5',
    spec: fn(withTarget(70)),
    steps: [{ at: 0, stable: 70, panic: 70, ready: 10, want: 5, reason: /no fewer than 5 by the max scale-down rate/ }],
  },
  {
    name: 'max scale-down rate 4: 10 ready, average 70 → floor(10 / 4) = 2',
    spec: fn(withTarget(70), withDownRate(4)),
    steps: [{ at: 0, stable: 70, panic: 70, ready: 10, want: 2 }],
  },
  {
    name: 'scale-down from 3 ready: floor(3 / 2) = 1, so average 7 at 70 → 1',
    spec: fn(withTarget(70)),
    steps: [{ at: 0, stable: 7, panic: 7, ready: 3, want: 1 }],
  },

  // panic
  {
    name: '3 ready, target 7, panic average 42 → 6 wanted ≥ 200% × 3, so panic: 6',
    spec: fn(withTarget(10, 70)),
    steps: [{ at: 0, stable: 14, panic: 42, ready: 3, want: 6, mode: 'panic', reason: /^panic: panic-window concurrency 42 wants 6 for 3 ready/ }],
  },
  {
    name: '3 ready, target 7, panic average 35 → 5 wanted < 6: stays stable at ceil(14 / 7) = 2',
    spec: fn(withTarget(10, 70)),
    steps: [{ at: 0, stable: 14, panic: 35, ready: 3, want: 2, mode: 'stable' }],
  },
  {
    name: '0 ready counts as 1: panic average 14 at 7 → 2 ≥ 200% × 1, so panic: 2',
    spec: fn(withTarget(10, 70)),
    steps: [{ at: 0, stable: 2, panic: 14, ready: 0, want: 2, mode: 'panic' }],
  },
  {
    name: 'panic never scales down: surge to 6, then panic average 7 with 6 ready → still 6',
    spec: fn(withTarget(10, 70)),
    steps: [
      { at: 0, stable: 14, panic: 42, ready: 3, want: 6, mode: 'panic' },
      { at: 2 * S, stable: 14, panic: 7, ready: 6, want: 6, mode: 'panic', reason: /holding 6, no scale-down while panicking/ },
    ],
  },
  {
    name: 'panic grows past its maximum: 6, then panic average 84 with 6 ready → 12 (2 × 6)',
    spec: fn(withTarget(10, 70)),
    steps: [
      { at: 0, stable: 14, panic: 42, ready: 3, want: 6, mode: 'panic' },
      { at: 2 * S, stable: 30, panic: 84, ready: 6, want: 12, mode: 'panic' },
    ],
  },
  {
    name: 'panic takes the larger window: panic 42 wants 6 but stable 70 wants 10 → 10',
    spec: fn(withTarget(10, 70)),
    steps: [{ at: 0, stable: 70, panic: 42, ready: 3, want: 10, mode: 'panic' }],
  },
  {
    name: 'panic lasts a 60 s window after the LAST trigger (0 s and 10 s): panic at 70 s, stable at 72 s',
    spec: fn(withTarget(10, 70)),
    steps: [
      { at: 0, stable: 14, panic: 42, ready: 3, want: 6, mode: 'panic' },
      { at: 10 * S, stable: 30, panic: 84, ready: 6, want: 12, mode: 'panic' },
      { at: 40 * S, stable: 14, panic: 14, ready: 12, want: 12, mode: 'panic' },
      { at: 70 * S, stable: 14, panic: 14, ready: 12, want: 12, mode: 'panic' },
      // Out of panic the held 12 is dropped: stable 14 / 7 = 2, but no fewer than 12 / 2 = 6.
      { at: 72 * S, stable: 14, panic: 14, ready: 12, want: 6, mode: 'stable' },
    ],
  },
  {
    name: 'restarted autoscaler finds 5 ready: starts in panic holding 5 until a window has passed',
    state: initialScalerState(0, 5),
    steps: [
      { at: 0, stable: 0, panic: 0, ready: 5, want: 5, mode: 'panic' },
      { at: 60 * S, stable: 70, panic: 70, ready: 5, want: 5, mode: 'panic' },
      { at: 62 * S, stable: 70, panic: 70, ready: 5, want: 2, mode: 'stable' },
    ],
  },

  // scale to zero: window + grace after the last traffic
  {
    name: 'last request at 0 s: window 60 s + grace 30 s → last replica kept until 90 s, zero at 90 s',
    steps: [
      { at: 0, stable: 10, panic: 10, ready: 1, want: 1 },
      { at: 30 * S, stable: 10, panic: 0, ready: 1, want: 1, mode: 'stable' },
      { at: 60 * S, stable: 0, panic: 0, ready: 1, want: 1, reason: /keeping the last replica/ },
      { at: 89 * S, stable: 0, panic: 0, ready: 1, want: 1 },
      { at: 90 * S, stable: 0, panic: 0, ready: 1, want: 0, reason: /^scaled to zero: no traffic for 90s/ },
      { at: 92 * S, stable: 0, panic: 0, ready: 0, want: 0 },
    ],
  },
  {
    name: 'traffic again at 50 s moves zero to 140 s',
    steps: [
      { at: 0, stable: 10, panic: 10, ready: 1, want: 1 },
      { at: 50 * S, stable: 5, panic: 10, ready: 1, want: 1 },
      { at: 110 * S, stable: 0, panic: 0, ready: 1, want: 1 },
      { at: 139 * S, stable: 0, panic: 0, ready: 1, want: 1 },
      { at: 140 * S, stable: 0, panic: 0, ready: 1, want: 0 },
    ],
  },
  {
    name: 'grace period 0: zero as soon as the 60 s window is empty',
    spec: fn(scale({ scaleToZeroGracePeriod: '0s' })),
    steps: [
      { at: 0, stable: 10, panic: 10, ready: 1, want: 1 },
      { at: 60 * S, stable: 0, panic: 0, ready: 1, want: 0 },
    ],
  },
  {
    name: 'scale to zero disabled in the config: 1 stays with no traffic',
    cfg: { enableScaleToZero: false },
    steps: [
      { at: 0, stable: 10, panic: 10, ready: 1, want: 1 },
      { at: 600 * S, stable: 0, panic: 0, ready: 1, want: 1 },
    ],
  },
  {
    name: 'min 2 keeps 2 with no traffic',
    spec: fn(withMin(2)),
    steps: [
      { at: 0, stable: 10, panic: 10, ready: 2, want: 2 },
      { at: 600 * S, stable: 0, panic: 0, ready: 2, want: 2, reason: /^at min scale 2/ },
    ],
  },
  {
    name: 'grace only keeps, never starts: at zero with the idle clock running, 0 stays 0',
    state: { ...initialScalerState(0), lastTrafficAt: 50 * S },
    current: 0,
    steps: [{ at: 70 * S, stable: 0, panic: 0, ready: 0, want: 0 }],
  },

  // initial scale
  {
    name: 'initial 3 with no traffic: 3 from 0 s to 59 s',
    spec: fn(withInitial(3)),
    current: 0,
    steps: [
      { at: 0, stable: 0, panic: 0, ready: 0, want: 3, reason: /^initial scale 3/ },
      { at: 59 * S, stable: 0, panic: 0, ready: 3, want: 3 },
    ],
  },
  {
    name: 'initial 3, no traffic for a window: 60 s → floor(3 / 2) = 1, kept until 90 s, zero at 90 s',
    spec: fn(withInitial(3)),
    current: 0,
    steps: [
      { at: 0, stable: 0, panic: 0, ready: 0, want: 3 },
      { at: 60 * S, stable: 0, panic: 0, ready: 3, want: 1 },
      { at: 62 * S, stable: 0, panic: 0, ready: 1, want: 1, reason: /keeping the last replica/ },
      { at: 90 * S, stable: 0, panic: 0, ready: 1, want: 0 },
    ],
  },
  {
    name: 'initial 5 ends with the first traffic: average 70 with 5 ready → no fewer than floor(5 / 2) = 2',
    spec: fn(withInitial(5), withTarget(70)),
    steps: [
      { at: 0, stable: 0, panic: 0, ready: 5, want: 5 },
      { at: 2 * S, stable: 70, panic: 70, ready: 5, want: 2 },
    ],
  },
  {
    name: 'initial 0: nothing until traffic',
    spec: fn(withInitial(0)),
    current: 0,
    steps: [
      { at: 0, stable: 0, panic: 0, ready: 0, want: 0 },
      { at: 30 * S, stable: 0, panic: 0, ready: 0, want: 0 },
    ],
  },

  // scale-down delay
  {
    name: 'scale-down delay 10 s: 5 held after demand drops at 2 s; at 10 s the 5 expires → 2 (5 / 2 floor)',
    spec: fn(withTarget(70), withScaleDownDelay('10s')),
    steps: [
      { at: 0, stable: 350, panic: 350, ready: 5, want: 5 },
      { at: 2 * S, stable: 70, panic: 70, ready: 5, want: 5, reason: /^scale-down delay: holding 5/ },
      { at: 8 * S, stable: 70, panic: 70, ready: 5, want: 5 },
      { at: 10 * S, stable: 70, panic: 70, ready: 5, want: 2 },
    ],
  },
  {
    name: 'scale-down delay keeps the highest of several: 5 at 0 s, 4 at 4 s, 1 later → 4 from 10 s to 13 s',
    spec: fn(withTarget(70), withScaleDownDelay('10s'), withDownRate(100)),
    steps: [
      { at: 0, stable: 350, panic: 350, ready: 5, want: 5 },
      { at: 4 * S, stable: 280, panic: 280, ready: 5, want: 5 },
      { at: 6 * S, stable: 70, panic: 70, ready: 5, want: 5 },
      { at: 10 * S, stable: 70, panic: 70, ready: 5, want: 4 },
      { at: 13 * S, stable: 70, panic: 70, ready: 5, want: 4 },
      { at: 14 * S, stable: 70, panic: 70, ready: 5, want: 1 },
    ],
  },
  {
    name: 'scale-down delay never slows scale-up: 1 → 5 at once',
    spec: fn(withTarget(70), withScaleDownDelay('1m')),
    steps: [
      { at: 0, stable: 70, panic: 70, ready: 1, want: 1 },
      { at: 2 * S, stable: 350, panic: 350, ready: 1, want: 5 },
    ],
  },

  // cold start
  {
    name: 'poke with 0 ready and no stats yet → 1 at once',
    spec: fn(withInitial(0)),
    current: 0,
    steps: [{ at: 5 * S, stable: 0, panic: 0, ready: 0, poked: true, want: 1, reason: /^cold start/ }],
  },
  {
    name: 'poke after scale to zero → 1, then the idle clock restarts from the poke (zero again at +90 s)',
    steps: [
      { at: 0, stable: 10, panic: 10, ready: 1, want: 1 },
      { at: 90 * S, stable: 0, panic: 0, ready: 1, want: 0 },
      { at: 100 * S, stable: 0, panic: 0, ready: 0, poked: true, want: 1 },
      { at: 102 * S, stable: 0, panic: 0, ready: 0, want: 1 },
      { at: 189 * S, stable: 0, panic: 0, ready: 1, want: 1 },
      { at: 190 * S, stable: 0, panic: 0, ready: 1, want: 0 },
    ],
  },
  {
    name: 'poke never goes below min: min 2 → 2',
    spec: fn(withMin(2)),
    current: 0,
    steps: [{ at: 0, stable: 0, panic: 0, ready: 0, poked: true, want: 2 }],
  },
  {
    name: 'poke with replicas ready adds none: 4 ready, average 70 → floor(4 / 2) = 2',
    spec: fn(withTarget(70)),
    steps: [{ at: 0, stable: 70, panic: 70, ready: 4, poked: true, want: 2 }],
  },

  // bounds
  {
    name: 'max 4 caps average 700 (wants 10) at 4',
    spec: fn(withTarget(70), withMax(4), noPanic),
    steps: [{ at: 0, stable: 700, panic: 700, ready: 4, want: 4, reason: /^at max scale 4/ }],
  },
  {
    name: 'max 0 is unbounded: average 7000 at 70 → 100',
    spec: fn(withTarget(70), withMax(0), noPanic),
    steps: [{ at: 0, stable: 7000, panic: 7000, ready: 50, want: 100 }],
  },
  {
    name: 'max wins over min: min 5, max 3 → 3',
    spec: fn(withMin(5), withMax(3)),
    steps: [{ at: 0, stable: 0, panic: 0, ready: 3, want: 3 }],
  },
];

describe('decide', () => {
  for (const row of rows) {
    test(row.name, () => {
      const params = scalingParams(row.spec ?? fn(), autoscalerConfig(row.cfg));
      const clock = new FakeClock(0);
      let state = row.state ?? initialScalerState(0);
      let current = row.current ?? row.steps[0]?.ready ?? 0;
      for (const step of row.steps) {
        clock.set(step.at);
        const d = decide(params, state, {
          stableAverage: step.stable,
          panicAverage: step.panic,
          readyReplicas: step.ready,
          currentScale: current,
          now: clock.now(),
          poked: step.poked,
        });
        const at = `at ${step.at / 1000}s (${d.reason})`;
        assert.equal(d.desired, step.want, `desired ${at}`);
        if (step.mode) assert.equal(d.mode, step.mode, `mode ${at}`);
        if (step.reason) assert.match(d.reason, step.reason);
        assert.ok(d.reason.length > 0);
        state = d.state;
        current = d.desired;
      }
    });
  }

  test('decideInto, with two state buffers taking turns as the tick uses them, decides every row as decide does', () => {
    for (const row of rows) {
      const params = scalingParams(row.spec ?? fn(), autoscalerConfig(row.cfg));
      let state: ScalerState = row.state ?? initialScalerState(0);
      // The tick's buffers: one holds the state, the other takes the next one.
      let held = { ...state, recent: state.recent.map((r) => ({ ...r })) };
      let spare = initialScalerState(0);
      let current = row.current ?? row.steps[0]?.ready ?? 0;
      for (const step of row.steps) {
        const input = { stableAverage: step.stable, panicAverage: step.panic, readyReplicas: step.ready, currentScale: current, now: step.at, poked: step.poked };
        const want = decide(params, state, input);
        const why: Explanation = { reason: '' };
        const got = decideInto(params, held, input, spare, why);
        const at = `${row.name} at ${step.at / 1000}s`;
        assert.equal(got, want.desired, `desired, ${at}`);
        assert.equal(modeOf(spare), want.mode, `mode, ${at}`);
        assert.equal(why.reason, want.reason, `reason, ${at}`);
        assert.deepEqual({ ...spare, recent: [...spare.recent] }, { ...want.state, recent: [...want.state.recent] }, `state, ${at}`);
        [held, spare] = [spare, held];
        state = want.state;
        current = want.desired;
      }
    }
  });

  test('decideInto, over an hour of changing load with a scale-down delay, keeps matching decide', () => {
    const params = scalingParams(fn(withTarget(10), withScaleDownDelay('30s')), autoscalerConfig());
    let state: ScalerState = initialScalerState(0);
    let held = initialScalerState(0);
    let spare = initialScalerState(0);
    let current = 0;
    const seen = new Set<string>();
    for (let t = 0; t < 3600; t += 2) {
      // Bursts, a swing and quiet spells, so panic, the delay queue and scale to zero all take part.
      const load = t % 600 < 300 ? (t % 120 < 10 ? 400 : 50 * (1 + Math.sin(t / 30))) : 0;
      const input = { stableAverage: load * 0.8, panicAverage: load, readyReplicas: current, currentScale: current, now: t * S };
      const want = decide(params, state, input);
      assert.equal(decideInto(params, held, input, spare), want.desired, `desired at ${t}s`);
      assert.deepEqual({ ...spare, recent: [...spare.recent] }, { ...want.state, recent: [...want.state.recent] }, `state at ${t}s`);
      [held, spare] = [spare, held];
      state = want.state;
      current = want.desired;
      seen.add(want.reason.replace(/:.*/, ''));
    }
    for (const rule of ['stable', 'panic', 'scale-down delay', 'scaled to zero']) assert.ok(seen.has(rule), `never decided by ${rule}: ${[...seen].join(', ')}`);
  });

  test('decideInto refuses a next state that is, or shares its queue with, the one it follows', () => {
    const params = scalingParams(fn(), autoscalerConfig());
    const state = initialScalerState(0);
    const input = { stableAverage: 1, panicAverage: 1, readyReplicas: 1, currentScale: 1, now: 0 };
    assert.throws(() => decideInto(params, state, input, state), /must not share/);
    assert.throws(() => decideInto(params, state, input, { ...initialScalerState(0), recent: state.recent }), /must not share/);
  });

  test('is pure: the same inputs give the same decision and the given state is not changed', () => {
    const params = scalingParams(fn(withTarget(10, 70)), autoscalerConfig());
    const state = initialScalerState(0);
    const frozen = structuredClone(state);
    const input = { stableAverage: 14, panicAverage: 42, readyReplicas: 3, currentScale: 3, now: 1000 };
    const view = (d: ReturnType<typeof decide>) => ({ desired: d.desired, mode: d.mode, reason: d.reason, state: d.state });
    const a = decide(params, state, input);
    const b = decide(params, state, input);
    assert.deepEqual(view(a), view(b));
    assert.deepEqual(state, frozen);
  });

  test('scale-down delay memory stays bounded: one entry per distinct falling value within the delay', () => {
    const params = scalingParams(fn(withTarget(1), withScaleDownDelay('10s'), withDownRate(1000), noPanic), autoscalerConfig());
    let state = initialScalerState(0);
    let current = 0;
    for (let t = 0; t < 3600; t++) {
      const load = 1000 - (t % 1000);
      const d = decide(params, state, { stableAverage: load, panicAverage: load, readyReplicas: current, currentScale: current, now: t * S });
      state = d.state;
      current = d.desired;
      assert.ok(state.recent.length <= 11, `recent has ${state.recent.length} at ${t}s`);
    }
  });
});

describe('replicasFor', () => {
  const cases: [average: number, perReplica: number, want: number][] = [
    [0, 70, 0],
    [-1, 70, 0],
    [Number.NaN, 70, 0],
    [1e-9, 70, 1],
    [70, 70, 1],
    [70.0001, 70, 2],
    [140.0000000001, 70, 2],
  ];
  for (const [average, perReplica, want] of cases) {
    test(`average ${average} at ${perReplica} per replica → ${want}`, () => assert.equal(replicasFor(average, perReplica), want));
  }
});
