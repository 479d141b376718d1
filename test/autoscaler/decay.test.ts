// Issue 12, item 1: after traffic stops, the stable average decays as the window
// empties (Knative's KPA counts missing samples as zero). Driven end to end through the
// activator's real stat path (ConcurrencyWindow + StatReporter, as activator.ts wires
// them) into the real Autoscaler (window + decide), with one fake clock moved by hand.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FunctionKey } from '../../pkg/apis/meta.js';
import { ConcurrencyWindow, StatReporter } from '../../pkg/activator/stats.js';
import { Autoscaler, type ScaleWriter } from '../../pkg/autoscaler/autoscaler.js';
import { autoscalerConfig } from '../../pkg/autoscaler/config.js';
import { FakeClock } from '../../pkg/shared/clock.js';
import { quietLogger } from '../../pkg/shared/log.js';

const S = 1000;
const hello: FunctionKey = { namespace: 'default', name: 'hello' };
/** A whole second, so the activator's 1 s periods fill the autoscaler's 1 s buckets one each. */
const T0 = 1_000_000;

class Replicas implements ScaleWriter {
  readonly writes: { at: number; n: number }[] = [];
  ready = 0;
  constructor(private readonly clock: FakeClock) {}
  setScale(_key: FunctionKey, n: number): Promise<void> {
    this.writes.push({ at: (this.clock.now() - T0) / S, n });
    this.ready = n;
    return Promise.resolve();
  }
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * 35 requests in flight from T0 to T0 + 60 s (a 60 s stable window, 6 s panic window,
 * target 10 per replica), then none; every second the activator reports and the
 * autoscaler decides. Returns what the autoscaler read each second after the load stopped.
 */
async function loadThenIdle(untilSeconds: number) {
  const clock = new FakeClock(T0);
  const replicas = new Replicas(clock);
  const autoscaler = new Autoscaler({
    config: autoscalerConfig(),
    scaleWriter: replicas,
    readyReplicas: () => replicas.ready,
    clock,
    log: quietLogger(),
  });
  autoscaler.upsert(hello, { image: 'hello', scale: { target: 10, targetUtilization: 100 } });
  const reporter = new StatReporter({ sink: autoscaler, source: 'activator/a', clock });
  const window = new ConcurrencyWindow(hello, clock.now());
  // As activator.ts does for each request: track, then arrive.
  for (let i = 0; i < 35; i++) {
    reporter.track(window);
    window.arrive(clock.now());
  }
  const after = new Map<number, { stable: number; panic: number; desired: number }>();
  for (let t = 1; t <= untilSeconds; t++) {
    clock.set(T0 + t * S);
    reporter.tick();
    // The last request leaves at 60 s, after the period ending then was reported.
    if (t === 60) for (let i = 0; i < 35; i++) window.depart(clock.now());
    autoscaler.tick();
    await settle();
    const st = autoscaler.status(hello);
    assert.ok(st);
    if (t >= 60) after.set(t - 60, { stable: st.stableAverage, panic: st.panicAverage, desired: st.desiredReplicas });
  }
  return { after, writes: replicas.writes };
}

const close = (got: number | undefined, want: number, what: string): void =>
  assert.ok(got !== undefined && Math.abs(got - want) < 1e-6, `${what}: got ${got}, want ${want}`);

describe('scale-down decay: activator stats through the autoscaler window', () => {
  test('the stable average decays linearly as the 60 s window empties: 35 × (60 − s) / 60 at s seconds after the load stopped', async () => {
    const { after } = await loadThenIdle(125);
    // Buckets 1..60 s hold the 35s, bucket 61 the activator's one zero, then nothing.
    // At +2 s the bucket in progress (62) is not read yet: the window is 2..61, 59 × 35 / 60.
    close(after.get(2)?.stable, (59 * 35) / 60, 'stable at +2 s');
    // Before the fix: 34.24, 33.87, 31.82 (averaged over the buckets holding data only).
    close(after.get(15)?.stable, (35 * 45) / 60, 'stable at +15 s'); // 26.25
    close(after.get(30)?.stable, (35 * 30) / 60, 'stable at +30 s'); // 17.5
    close(after.get(50)?.stable, (35 * 10) / 60, 'stable at +50 s'); // 5.83
    close(after.get(60)?.stable, 0, 'stable at +60 s');
    // The 6 s panic window empties the same way: +2 s reads 56..61 = 5 × 35 / 6,
    // +3 s reads 58..63 = 3 × 35 / 6, +6 s reads 61..66 = 0.
    close(after.get(2)?.panic, (5 * 35) / 6, 'panic at +2 s');
    close(after.get(3)?.panic, (3 * 35) / 6, 'panic at +3 s');
    close(after.get(6)?.panic, 0, 'panic at +6 s');
  });

  test('replicas follow the decay (target 10): 4 under load, 3 at +15 s, 2 at +30 s, 1 at +50 s, 0 at window + grace after the last traffic', async () => {
    const { after, writes } = await loadThenIdle(160);
    assert.equal(after.get(0)?.desired, 4);
    assert.equal(after.get(15)?.desired, 3); // ceil(26.25 / 10)
    assert.equal(after.get(30)?.desired, 2); // ceil(17.5 / 10)
    assert.equal(after.get(50)?.desired, 1); // ceil(5.83 / 10)
    // Traffic is last seen by the panic window at +5 s (it reads bucket 60 until 65 s);
    // zero comes a stable window (60 s) plus the grace period (30 s) after that: +95 s.
    assert.equal(after.get(94)?.desired, 1);
    assert.equal(after.get(95)?.desired, 0);
    assert.equal(writes.at(-1)?.n, 0);
    assert.equal(writes.at(-1)?.at, 60 + 95);
    // Every step down is one write: initial 1, the panic jump to 4, then down to 0.
    assert.deepEqual(
      writes.map((w) => w.n),
      [1, 4, 3, 2, 1, 0],
    );
  });
});

describe('scale.metric rps: activator request rates through the autoscaler window', () => {
  test('700 short requests a second (concurrency near 0) hold 5 replicas at 200/s × 70%, and decay the same way when they stop', async () => {
    const clock = new FakeClock(T0);
    const replicas = new Replicas(clock);
    const autoscaler = new Autoscaler({ config: autoscalerConfig(), scaleWriter: replicas, readyReplicas: () => replicas.ready, clock, log: quietLogger() });
    autoscaler.upsert(hello, { image: 'hello', scale: { metric: 'rps' } });
    const reporter = new StatReporter({ sink: autoscaler, source: 'activator/a', clock });
    const window = new ConcurrencyWindow(hello, clock.now());
    const seen = new Map<number, { stable: number; desired: number; reason: string }>();
    for (let t = 1; t <= 80; t++) {
      // 700 requests of 1 ms each in the second before t (for the first 60 s).
      if (t <= 60) {
        for (let i = 0; i < 700; i++) {
          clock.set(T0 + (t - 1) * S + i);
          reporter.track(window);
          window.arrive(clock.now());
          window.depart(clock.now() + 1);
        }
      }
      clock.set(T0 + t * S);
      reporter.tick();
      autoscaler.tick();
      await settle();
      const st = autoscaler.status(hello);
      assert.ok(st);
      seen.set(t, { stable: st.stableAverage, desired: st.desiredReplicas, reason: st.reason });
    }
    assert.equal(seen.get(60)?.stable, 700);
    assert.equal(seen.get(60)?.desired, 5); // ceil(700 / 140)
    // Still the panic entered at the first second (1 ready, 700 / 140 = 5 ≥ 2 × 1), for a window.
    assert.match(seen.get(60)?.reason ?? '', /^panic: panic-window requests\/s 700 wants 5 for 5 ready/);
    // 15 s after the last: 700 × 45 / 60 = 525 → ceil(3.75) = 4.
    close(seen.get(75)?.stable, (700 * 45) / 60, 'stable at +15 s');
    assert.equal(seen.get(75)?.desired, 4);
  });
});
