// Issue 12: scale-up reacts to demand, not to the tick. Requests that queue tell the
// autoscaler what the activator sees at once (a poke with the demand), rate-limited;
// the poke decides with it. Driven through the real activator (call(): route, queue,
// stats) into the real Autoscaler, with a fake clock and mocked timers; no tick runs.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FunctionKey } from '../../pkg/apis/meta.js';
import { createActivator } from '../../pkg/activator/activator.js';
import { ConcurrencyWindow, StatReporter, SURGE_INTERVAL_MS } from '../../pkg/activator/stats.js';
import { Autoscaler } from '../../pkg/autoscaler/autoscaler.js';
import { autoscalerConfig } from '../../pkg/autoscaler/config.js';
import type { ConcurrencyStat, DemandNow, StatSink } from '../../pkg/autoscaler/stats.js';
import { FakeClock } from '../../pkg/shared/clock.js';
import { quietLogger } from '../../pkg/shared/log.js';

const hello: FunctionKey = { namespace: 'default', name: 'hello' };
const T0 = 1_000_000;

/** Lets queued microtasks and promise continuations run; not a timed sleep. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

class Sink implements StatSink {
  readonly stats: ConcurrencyStat[] = [];
  readonly pokes: (DemandNow | undefined)[] = [];
  record(stat: ConcurrencyStat): void {
    this.stats.push(stat);
  }
  poke(_key: FunctionKey, demand?: DemandNow): void {
    this.pokes.push(demand);
  }
}

describe('scale-up on demand', () => {
  test('a step of 50 waiting requests (containerConcurrency 1) is decided at the ideal 72 before any tick', async (t) => {
    const clock = new FakeClock(T0);
    const writes: number[] = [];
    const log = quietLogger();
    const autoscaler = new Autoscaler({
      config: autoscalerConfig(),
      scaleWriter: {
        setScale: (_key, n) => {
          writes.push(n);
          return Promise.resolve();
        },
      },
      // Nothing becomes ready: every request stays queued.
      readyReplicas: () => 0,
      clock,
      log,
    });
    const activator = createActivator({ log, statSink: autoscaler, clock, options: { source: 'activator/a', drainTimeoutMs: 0 } });
    activator.upsertFunction(hello, { containerConcurrency: 1, timeoutSeconds: 300 });
    autoscaler.upsert(hello, { image: 'hello', containerConcurrency: 1, scale: { initial: 0 } });
    await settle();
    assert.deepEqual(writes, [0]);

    t.mock.timers.enable({ apis: ['setTimeout'] });
    const calls = [];
    try {
      // 50 clients' first requests, over 27 ms.
      for (let i = 0; i < 50; i++) {
        if (i > 0 && i % 5 === 0) clock.advance(3);
        calls.push(activator.call(hello, { method: 'GET', path: '/', headers: {}, body: Buffer.alloc(0) }));
      }
      await settle();
      // At once: the cold start, and the second request doubling the demand the
      // autoscaler knew (none): 2 in flight at cc 1 × 70% → ceil(2 / 0.7) = 3.
      assert.deepEqual(writes, [0, 3]);
      // The rest of the step is told when the 100 ms interval ends: 50 waiting (queued
      // requests count as concurrency, as Knative's activator counts them) → ceil(50 / 0.7) = 72.
      clock.advance(SURGE_INTERVAL_MS);
      t.mock.timers.tick(SURGE_INTERVAL_MS);
      await settle();
      assert.deepEqual(writes, [0, 3, 72]);
      const st = autoscaler.status(hello);
      assert.equal(st?.mode, 'panic');
      assert.equal(st?.panicAverage, 50);
      assert.match(st?.reason ?? '', /^panic: panic-window concurrency 50 wants 72 for 0 ready/);
      // Nothing grows any more: no more pokes, however long they wait.
      clock.advance(10 * SURGE_INTERVAL_MS);
      t.mock.timers.tick(10 * SURGE_INTERVAL_MS);
      await settle();
      assert.deepEqual(writes, [0, 3, 72]);
    } finally {
      t.mock.timers.reset();
      activator.removeFunction(hello);
      await Promise.all(calls);
      await activator.close();
    }
  });

  test('a busy function whose queue comes and goes around a steady level is never poked; a doubling is, once per interval', () => {
    const clock = new FakeClock(T0);
    const sink = new Sink();
    const reporter = new StatReporter({ sink, source: 'a', clock, intervalMs: 1000 });
    const w = new ConcurrencyWindow(hello, clock.now());
    reporter.track(w);
    for (let i = 0; i < 10; i++) w.arrive(clock.now());
    // Its first report tells the autoscaler 10.
    clock.advance(1000);
    reporter.tick();
    assert.equal(sink.stats.at(-1)?.averageConcurrency, 10);
    // 60 s at 8 to 12 in flight, a request queuing every 10 ms, reports every second.
    for (let ms = 10; ms <= 60_000; ms += 10) {
      clock.set(T0 + 1000 + ms);
      if (ms % 30 === 0) w.arrive(clock.now());
      else if (ms % 30 === 20 && w.inFlight > 8) w.depart(clock.now());
      reporter.surge(w);
      if (ms % 1000 === 0) reporter.tick();
    }
    assert.ok(w.inFlight >= 8 && w.inFlight <= 12, `in flight ${w.inFlight}`);
    assert.equal(sink.pokes.length, 0, 'steady demand pokes nothing');

    // Then a surge to 40: one report at once, the growth inside the interval not at all
    // (its timer is the real setTimeout, not run here).
    for (let i = w.inFlight; i < 40; i++) {
      w.arrive(clock.now());
      reporter.surge(w);
    }
    assert.equal(sink.pokes.length, 1);
    assert.ok((sink.pokes[0]?.concurrency ?? 0) >= 2 * 8);
    reporter.forget(w);
    assert.equal(w.surgeTimer, undefined, 'forget clears a pending report');
  });

  test('a demand poke counts until its activator reports the same moment: a report then takes over', async () => {
    const clock = new FakeClock(T0);
    const autoscaler = new Autoscaler({
      config: autoscalerConfig(),
      scaleWriter: { setScale: () => Promise.resolve() },
      readyReplicas: () => 1,
      clock,
      log: quietLogger(),
    });
    autoscaler.upsert(hello, { image: 'hello', scale: { target: 10, targetUtilization: 100, panicThreshold: 1000 } });
    clock.advance(500);
    // Two activators' demands are summed: 30 + 20 at 10 per replica → 5 (panic threshold
    // 1000% keeps this in stable mode, so the next decision may go down again).
    autoscaler.poke(hello, { source: 'a', concurrency: 30, requestsPerSecond: 0, time: clock.now() });
    autoscaler.poke(hello, { source: 'b', concurrency: 20, requestsPerSecond: 0, time: clock.now() });
    await settle();
    assert.equal(autoscaler.status(hello)?.panicAverage, 50);
    // a's report for the second ending after its demand takes over from it; b's demand still counts.
    clock.advance(500);
    autoscaler.record({ key: hello, source: 'a', averageConcurrency: 12, requestCount: 12, time: clock.now() });
    autoscaler.tick();
    assert.equal(autoscaler.status(hello)?.panicAverage, 20);
    // A second after it was seen, b's demand is stale: only the reports count.
    clock.advance(500);
    autoscaler.tick();
    assert.equal(autoscaler.status(hello)?.panicAverage, 12);
    // A demand from long ago, or a hostile one, changes nothing.
    autoscaler.poke(hello, { source: 'c', concurrency: 500, requestsPerSecond: 0, time: clock.now() - 5000 });
    autoscaler.poke(hello, { source: 'd', concurrency: Number.NaN, requestsPerSecond: 0, time: clock.now() });
    await settle();
    assert.equal(autoscaler.status(hello)?.panicAverage, 12);
  });
});
