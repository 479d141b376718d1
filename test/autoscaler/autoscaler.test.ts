// The autoscaler loop around the decision: stats in, ticks and pokes, scale writes out.
// Time is a FakeClock moved by hand; `tick()` is called where the loop would call it.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { FunctionSpec } from '../../pkg/apis/function/types.js';
import { keyOf, type FunctionKey } from '../../pkg/apis/meta.js';
import { Autoscaler, type ScaleStatus, type ScaleWriter } from '../../pkg/autoscaler/autoscaler.js';
import { autoscalerConfig, type AutoscalerConfig } from '../../pkg/autoscaler/config.js';
import { deferred, type Deferred } from '../../pkg/shared/abort.js';
import { FakeClock } from '../../pkg/shared/clock.js';
import { quietLogger, type Logger } from '../../pkg/shared/log.js';
import { waitFor } from '../util/wait.js';

const S = 1000;
const hello: FunctionKey = { namespace: 'default', name: 'hello' };

/** Records every write; replicas become ready as soon as they are written unless told otherwise. */
class RecordingWriter implements ScaleWriter {
  readonly writes: { fn: string; n: number }[] = [];
  readonly ready = new Map<string, number>();
  followWrites = true;
  failures = 0;
  gate: Deferred<void> | undefined;
  concurrent = 0;
  maxConcurrent = 0;

  async setScale(key: FunctionKey, n: number): Promise<void> {
    this.writes.push({ fn: keyOf(key), n });
    this.concurrent++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
    try {
      if (this.gate) await this.gate.promise;
      if (this.failures > 0) {
        this.failures--;
        throw new Error('apiserver unavailable');
      }
      if (this.followWrites) this.ready.set(keyOf(key), n);
    } finally {
      this.concurrent--;
    }
  }

  values(fn = 'default/hello'): number[] {
    return this.writes.filter((w) => w.fn === fn).map((w) => w.n);
  }
}

/** Lets every queued microtask and promise continuation run; not a timed sleep. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function setup(cfg: Partial<AutoscalerConfig> = {}, opts: { log?: Logger; metrics?: Registry } = {}) {
  const clock = new FakeClock(0);
  const writer = new RecordingWriter();
  const autoscaler = new Autoscaler({
    config: autoscalerConfig(cfg),
    scaleWriter: writer,
    readyReplicas: (key) => writer.ready.get(keyOf(key)) ?? 0,
    clock,
    log: opts.log ?? quietLogger(),
    metrics: opts.metrics,
  });
  /** One activator reporting `concurrency` for the second ending now. */
  const report = (concurrency: number, key = hello): void =>
    autoscaler.record({ key, source: 'activator-1', averageConcurrency: concurrency, requestCount: Math.ceil(concurrency), time: clock.now() });
  return { clock, writer, autoscaler, report };
}

const spec = (scale: FunctionSpec['scale'] = {}): FunctionSpec => ({ image: 'hello', scale });

function captureLog(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'debug', base: undefined }, stream), lines };
}

describe('Autoscaler', () => {
  test('writes the initial scale on upsert', async () => {
    const { autoscaler, writer } = setup();
    autoscaler.upsert(hello, spec({ initial: 2 }));
    await settle();
    assert.deepEqual(writer.values(), [2]);
    assert.equal(autoscaler.status(hello)?.desiredReplicas, 2);
  });

  test('poke from zero writes 1 at once, without waiting for a tick', async () => {
    const { autoscaler, writer, clock } = setup();
    autoscaler.upsert(hello, spec({ initial: 0 }));
    await settle();
    assert.deepEqual(writer.values(), [0]);
    clock.advance(5 * S);
    autoscaler.poke(hello);
    await settle();
    assert.deepEqual(writer.values(), [0, 1]);
    assert.match(autoscaler.status(hello)?.reason ?? '', /cold start/);
  });

  test('a burst of 50 pokes is one decision and one write', async () => {
    const { autoscaler, writer } = setup();
    autoscaler.upsert(hello, spec({ initial: 0 }));
    await settle();
    const decisions: ScaleStatus[] = [];
    autoscaler.onDecision((_key, st) => decisions.push(st));
    for (let i = 0; i < 50; i++) autoscaler.poke(hello);
    await settle();
    assert.deepEqual(writer.values(), [0, 1]);
    assert.equal(decisions.length, 1);
    assert.equal(decisions[0]?.desiredReplicas, 1);
  });

  test('steady load 35 at target 10 per replica scales to 4 and writes only the changes', async () => {
    const { autoscaler, writer, clock, report } = setup();
    autoscaler.upsert(hello, spec({ target: 10, targetUtilization: 100 }));
    await settle();
    for (let t = 1; t <= 180; t++) {
      clock.advance(S);
      report(35);
      if (t % 2 === 0) autoscaler.tick();
      await settle();
    }
    // 1 (initial), then ceil(35 / 10) = 4; ticks that decide 4 again write nothing.
    assert.deepEqual(writer.values(), [1, 4]);
    const st = autoscaler.status(hello);
    assert.equal(st?.desiredReplicas, 4);
    assert.equal(st?.mode, 'stable');
    assert.equal(st?.stableAverage, 35);
  });

  test('scale.metric rps scales on the requests per second activators report, not their concurrency: 700/s at 200 × 70% = 140 → 5', async () => {
    const { autoscaler, writer, clock } = setup();
    autoscaler.upsert(hello, spec({ metric: 'rps' }));
    await settle();
    for (let t = 1; t <= 120; t++) {
      clock.advance(S);
      // Two activators, 400 and 300 requests a second, 2 in flight each: concurrency
      // alone would keep one replica.
      for (const [source, rps] of [['a', 400], ['b', 300]] as const) {
        autoscaler.record({ key: hello, source, averageConcurrency: 2, requestCount: rps, requestsPerSecond: rps, time: clock.now() });
      }
      if (t % 2 === 0) autoscaler.tick();
      await settle();
    }
    const st = autoscaler.status(hello);
    assert.equal(st?.metric, 'rps');
    assert.equal(st?.stableAverage, 700);
    assert.equal(st?.desiredReplicas, 5);
    assert.match(st?.reason ?? '', /^stable: average requests\/s 700 \/ 140 per replica wants 5/);
    assert.equal(writer.values().at(-1), 5);
  });

  test('an activator that sends no requestsPerSecond (older than rps) is read by its requestCount', async () => {
    const { autoscaler, clock } = setup();
    autoscaler.upsert(hello, spec({ metric: 'rps', target: 10, targetUtilization: 100 }));
    clock.advance(S);
    autoscaler.record({ key: hello, source: 'old', averageConcurrency: 1, requestCount: 35, time: clock.now() });
    autoscaler.tick();
    await settle();
    assert.equal(autoscaler.status(hello)?.panicAverage, 35);
    assert.equal(autoscaler.status(hello)?.desiredReplicas, 4);
  });

  test('switching a function from concurrency to rps starts its window afresh and keeps what serves meanwhile', async () => {
    const { autoscaler, writer, clock, report } = setup();
    autoscaler.upsert(hello, spec({ target: 10, targetUtilization: 100 }));
    for (let t = 1; t <= 10; t++) {
      clock.advance(S);
      report(35);
      autoscaler.tick();
      await settle();
    }
    assert.equal(writer.values().at(-1), 4);
    autoscaler.upsert(hello, spec({ metric: 'rps', target: 10, targetUtilization: 100 }));
    await settle();
    // The 35s were concurrency, not requests per second: nothing of them is averaged now,
    // and the 4 replicas are held (as after a restart) rather than dropped at once.
    assert.equal(autoscaler.status(hello)?.stableAverage, 0);
    assert.equal(autoscaler.status(hello)?.desiredReplicas, 4);
    clock.advance(S);
    autoscaler.record({ key: hello, source: 'activator-1', averageConcurrency: 35, requestCount: 90, requestsPerSecond: 90, time: clock.now() });
    autoscaler.tick();
    await settle();
    // Panic holds the 4 for a window; 90/s at 10 wants 9 ≥ 2 × 4, so up it goes.
    assert.equal(autoscaler.status(hello)?.desiredReplicas, 9);
  });

  test('a surge panics: 1 ready, panic average 35 at 10 → 4 ≥ 2 × 1', async () => {
    const { autoscaler, writer, clock, report } = setup();
    autoscaler.upsert(hello, spec({ target: 10, targetUtilization: 100 }));
    await settle();
    clock.advance(S);
    report(35);
    autoscaler.tick();
    await settle();
    assert.equal(autoscaler.status(hello)?.mode, 'panic');
    assert.match(autoscaler.status(hello)?.reason ?? '', /^panic: panic-window concurrency 35 wants 4 for 1 ready/);
    assert.deepEqual(writer.values(), [1, 4]);
  });

  test('status explains the last decision: after the surge eases, panic holds 4', async () => {
    const { autoscaler, writer, clock, report } = setup();
    autoscaler.upsert(hello, spec({ target: 10, targetUtilization: 100 }));
    for (let t = 1; t <= 12; t++) {
      clock.advance(S);
      report(t <= 6 ? 35 : 5);
      autoscaler.tick();
      await settle();
    }
    const st = autoscaler.status(hello);
    assert.equal(st?.mode, 'panic');
    assert.equal(st?.desiredReplicas, 4);
    assert.match(st?.reason ?? '', /holding 4, no scale-down while panicking/);
    assert.deepEqual(writer.values(), [1, 4]);
  });

  test('no traffic: zero exactly window + grace after the last traffic (6 s + 3 s → at 10 s for traffic at 1 s)', async () => {
    const { autoscaler, writer, clock, report } = setup({ stableWindowMs: 6 * S, scaleToZeroGracePeriodMs: 3 * S });
    autoscaler.upsert(hello, spec());
    await settle();
    clock.set(1 * S);
    report(1);
    autoscaler.tick();
    for (let t = 2; t <= 9; t++) {
      clock.set(t * S);
      report(0);
      autoscaler.tick();
      await settle();
      assert.deepEqual(writer.values(), [1], `still 1 at ${t}s`);
    }
    clock.set(10 * S);
    report(0);
    autoscaler.tick();
    await settle();
    assert.deepEqual(writer.values(), [1, 0]);
    assert.match(autoscaler.status(hello)?.reason ?? '', /scaled to zero/);
  });

  test('no traffic ever: initial scale for a window, then zero after window + grace', async () => {
    const { autoscaler, writer, clock } = setup({ stableWindowMs: 6 * S, scaleToZeroGracePeriodMs: 3 * S });
    autoscaler.upsert(hello, spec());
    for (let t = 1; t <= 8; t++) {
      clock.set(t * S);
      autoscaler.tick();
      await settle();
    }
    assert.deepEqual(writer.values(), [1]);
    clock.set(9 * S);
    autoscaler.tick();
    await settle();
    assert.deepEqual(writer.values(), [1, 0]);
  });

  test('a failed write is logged with the function and retried on the next tick, not before', async () => {
    const { log, lines } = captureLog();
    const { autoscaler, writer, clock } = setup({}, { log });
    writer.failures = 1;
    autoscaler.upsert(hello, spec());
    await settle();
    assert.deepEqual(writer.values(), [1]);
    const failure = lines.find((l) => l.msg === 'writing the scale failed; retrying on the next tick');
    assert.equal(failure?.fn, 'default/hello');
    assert.equal(autoscaler.status(hello)?.lastScaleTime, undefined);
    await settle();
    assert.deepEqual(writer.values(), [1]);
    clock.advance(2 * S);
    autoscaler.tick();
    await settle();
    assert.deepEqual(writer.values(), [1, 1]);
    assert.equal(autoscaler.status(hello)?.lastScaleTime, 2 * S);
    autoscaler.tick();
    await settle();
    assert.deepEqual(writer.values(), [1, 1]);
  });

  test('never two writes at once for a function: a change during a slow write is written after it', async () => {
    const { autoscaler, writer, clock, report } = setup();
    writer.gate = deferred<void>();
    autoscaler.upsert(hello, spec({ target: 10, targetUtilization: 100 }));
    clock.advance(S);
    report(35);
    autoscaler.tick();
    clock.advance(S);
    report(55);
    autoscaler.tick();
    await settle();
    assert.deepEqual(writer.values(), [1]);
    assert.equal(autoscaler.status(hello)?.desiredReplicas, 5);
    const gate = writer.gate;
    writer.gate = undefined;
    gate.resolve();
    await settle();
    assert.deepEqual(writer.values(), [1, 5]);
    assert.equal(writer.maxConcurrent, 1);
  });

  test('remove stops decisions: no writes, no status, stats and pokes ignored', async () => {
    const { autoscaler, writer, clock, report } = setup();
    autoscaler.upsert(hello, spec());
    await settle();
    autoscaler.remove(hello);
    clock.advance(S);
    report(500);
    autoscaler.poke(hello);
    autoscaler.tick();
    await settle();
    assert.deepEqual(writer.values(), [1]);
    assert.equal(autoscaler.status(hello), undefined);
  });

  test('a changed spec applies at once: min 0 → min 3 writes 3 without a tick', async () => {
    const { autoscaler, writer } = setup();
    autoscaler.upsert(hello, spec());
    await settle();
    autoscaler.upsert(hello, spec({ min: 3 }));
    await settle();
    assert.deepEqual(writer.values(), [1, 3]);
  });

  test('an autoscaler restarted next to 5 ready replicas keeps them (panic, no history) instead of writing initial 1', async () => {
    const { autoscaler, writer } = setup();
    writer.ready.set('default/hello', 5);
    autoscaler.upsert(hello, spec());
    await settle();
    assert.deepEqual(writer.values(), [5]);
    assert.equal(autoscaler.status(hello)?.mode, 'panic');
  });

  // A new leader (or a restarted autoscaler) has no history. Before adoption it ran every
  // function's initial-scale phase again: each failover woke every function at zero.
  test('a function adopted at scale 0 stays at 0: a failover does not wake it to its initial scale', async () => {
    const { autoscaler, writer, clock } = setup();
    autoscaler.upsert(hello, spec({ initial: 2 }), { scale: 0 });
    await settle();
    for (let t = 0; t < 100; t++) {
      clock.advance(S);
      autoscaler.tick();
    }
    await settle();
    assert.deepEqual(writer.values(), []);
    assert.equal(autoscaler.status(hello)?.desiredReplicas, 0);
  });

  test('a function adopted at scale 1 with empty windows keeps its replica for window + grace, then goes to zero', async () => {
    const { autoscaler, writer, clock } = setup({ stableWindowMs: 60 * S, scaleToZeroGracePeriodMs: 30 * S });
    writer.ready.set('default/hello', 1);
    autoscaler.upsert(hello, spec({ initial: 3 }), { scale: 1 });
    await settle();
    clock.advance(89 * S);
    autoscaler.tick();
    await settle();
    assert.deepEqual(writer.values(), [], 'neither the initial 3 nor 0 within window + grace of the takeover');
    clock.advance(1 * S);
    autoscaler.tick();
    await settle();
    assert.deepEqual(writer.values(), [0]);
  });

  test('a function adopted while scaling up (3 asked, 1 ready) holds 3 in panic instead of cutting the rollout to 1', async () => {
    const { autoscaler, writer } = setup();
    writer.ready.set('default/hello', 1);
    autoscaler.upsert(hello, spec(), { scale: 3 });
    await settle();
    assert.deepEqual(writer.values(), []);
    assert.equal(autoscaler.status(hello)?.desiredReplicas, 3);
    assert.equal(autoscaler.status(hello)?.mode, 'panic');
  });

  test('a poke for an adopted function at zero scales it from zero at once', async () => {
    const { autoscaler, writer } = setup();
    autoscaler.upsert(hello, spec(), { scale: 0 });
    autoscaler.poke(hello);
    await settle();
    assert.deepEqual(writer.values(), [1]);
  });

  test('functions are decided independently: one failing readyReplicas does not stop the others', async () => {
    const clock = new FakeClock(0);
    const writer = new RecordingWriter();
    const autoscaler = new Autoscaler({
      config: autoscalerConfig(),
      scaleWriter: writer,
      readyReplicas: (key) => {
        if (key.name === 'broken') throw new Error('lister not synced');
        return writer.ready.get(keyOf(key)) ?? 0;
      },
      clock,
      log: quietLogger(),
    });
    autoscaler.upsert({ namespace: 'default', name: 'broken' }, spec());
    autoscaler.upsert(hello, spec({ initial: 2 }));
    await settle();
    assert.deepEqual(writer.values('default/broken'), []);
    assert.deepEqual(writer.values(), [2]);
  });

  test('onDecision hears changes of desired replicas or mode, not every tick', async () => {
    const { autoscaler, clock, report } = setup();
    const heard: [string, number, string][] = [];
    const off = autoscaler.onDecision((key, st) => heard.push([keyOf(key), st.desiredReplicas, st.mode]));
    autoscaler.upsert(hello, spec({ target: 10, targetUtilization: 100 }));
    for (let t = 1; t <= 4; t++) {
      clock.advance(S);
      report(35);
      autoscaler.tick();
      await settle();
    }
    assert.deepEqual(heard, [
      ['default/hello', 1, 'stable'],
      ['default/hello', 4, 'panic'],
    ]);
    off();
    autoscaler.upsert(hello, spec({ min: 9 }));
    assert.equal(heard.length, 2);
  });

  test('exports per-function gauges labelled namespace and name; a removed function leaves no series', async () => {
    const metrics = new Registry();
    const { autoscaler, clock, report } = setup({}, { metrics });
    autoscaler.upsert(hello, spec({ target: 10, targetUtilization: 100 }));
    clock.advance(S);
    report(35);
    autoscaler.tick();
    await settle();
    let text = await metrics.metrics();
    assert.match(text, /kfn_autoscaler_desired_replicas\{namespace="default",name="hello"\} 4/);
    assert.match(text, /kfn_autoscaler_panic_mode\{namespace="default",name="hello"\} 1/);
    assert.match(text, /kfn_autoscaler_stable_request_concurrency\{namespace="default",name="hello"\} 35/);
    assert.match(text, /kfn_autoscaler_panic_request_concurrency\{namespace="default",name="hello"\} 35/);
    assert.match(text, /kfn_autoscaler_scale_writes_total\{result="ok"\} 2/);
    autoscaler.remove(hello);
    text = await metrics.metrics();
    assert.doesNotMatch(text, /name="hello"/);
  });

  test('run() ticks every tickIntervalMs until aborted, then resolves', async () => {
    const { autoscaler, writer, clock, report } = setup({ tickIntervalMs: 5 });
    autoscaler.upsert(hello, spec({ target: 10, targetUtilization: 100 }));
    clock.advance(S);
    report(35);
    const ac = new AbortController();
    const running = autoscaler.run(ac.signal);
    await assert.rejects(autoscaler.run(ac.signal), /already running/);
    await waitFor('the loop to write 4', () => writer.values().includes(4));
    ac.abort();
    await running;
    const after = writer.writes.length;
    clock.advance(S);
    report(95);
    await settle();
    assert.equal(writer.writes.length, after);
  });

  test('run() on abort waits for the write in flight and for the newer value written after it', async () => {
    const { autoscaler, writer, clock, report } = setup({ tickIntervalMs: 5 });
    writer.gate = deferred<void>();
    autoscaler.upsert(hello, spec({ target: 10, targetUtilization: 100 }));
    clock.advance(S);
    report(35);
    const ac = new AbortController();
    let stopped = false;
    const running = autoscaler.run(ac.signal).then(() => (stopped = true));
    await waitFor('the loop to decide 4 while 1 is still being written', () => autoscaler.status(hello)?.desiredReplicas === 4);
    ac.abort();
    await settle();
    assert.equal(stopped, false);
    // 1 is written; 4 starts after it and is held too.
    const first = writer.gate;
    writer.gate = deferred<void>();
    first.resolve();
    await waitFor('4 to be written', () => writer.values().length === 2);
    await settle();
    assert.equal(stopped, false);
    writer.gate.resolve();
    await running;
    assert.deepEqual(writer.values(), [1, 4]);
    assert.equal(writer.concurrent, 0);
  });

  test('a writer that throws instead of rejecting is logged and retried on the next tick', async () => {
    const { log, lines } = captureLog();
    const clock = new FakeClock(0);
    const writes: number[] = [];
    let broken = true;
    const autoscaler = new Autoscaler({
      config: autoscalerConfig(),
      scaleWriter: {
        setScale(_key, n) {
          if (broken) throw new Error('no client');
          writes.push(n);
          return Promise.resolve();
        },
      },
      readyReplicas: () => 0,
      clock,
      log,
    });
    autoscaler.upsert(hello, spec());
    await settle();
    assert.equal(lines.find((l) => l.msg === 'writing the scale failed; retrying on the next tick')?.fn, 'default/hello');
    broken = false;
    clock.advance(2 * S);
    autoscaler.tick();
    await settle();
    assert.deepEqual(writes, [1]);
    assert.equal(autoscaler.status(hello)?.lastScaleTime, 2 * S);
  });

  test('rejects a bad config up front', () => {
    assert.throws(
      () =>
        new Autoscaler({
          config: { ...autoscalerConfig(), maxScaleDownRate: 0 },
          scaleWriter: new RecordingWriter(),
          readyReplicas: () => 0,
          clock: new FakeClock(),
          log: quietLogger(),
        }),
      /maxScaleDownRate must be above 1/,
    );
  });
});
