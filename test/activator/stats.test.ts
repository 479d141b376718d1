import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConcurrencyWindow, StatReporter } from '../../pkg/activator/stats.js';
import { FakeClock } from '../../pkg/shared/clock.js';
import { waitFor } from '../util/wait.js';
import { hello, RecordingSink, send, startActivator, startReplica } from './helpers.js';

describe('ConcurrencyWindow', () => {
  it('averages in-flight requests over the period, weighted by time', () => {
    const w = new ConcurrencyWindow(hello, 0);
    w.arrive(0); // 1 in flight for 250 ms
    w.arrive(250); // 2 for 500 ms
    w.depart(750); // 1 for 250 ms
    // (1×250 + 2×500 + 1×250) / 1000 = 1.5
    assert.deepEqual(w.sample(1000), { averageConcurrency: 1.5, requestCount: 2, periodMs: 1000 });
    // Still one in flight the whole next second, with no new arrivals.
    assert.deepEqual(w.sample(2000), { averageConcurrency: 1, requestCount: 0, periodMs: 1000 });
    w.depart(2100);
    assert.deepEqual(w.sample(3000), { averageConcurrency: 0.1, requestCount: 0, periodMs: 1000 });
  });

  it('ignores a clock that steps back', () => {
    const w = new ConcurrencyWindow(hello, 1000);
    w.arrive(1000);
    w.depart(900);
    assert.deepEqual(w.sample(2000), { averageConcurrency: 0, requestCount: 1, periodMs: 1000 });
  });
});

describe('StatReporter', () => {
  it('reports each active function every tick, then one zero, then nothing', () => {
    const clock = new FakeClock(10_000);
    const sink = new RecordingSink();
    const reporter = new StatReporter({ sink, source: 'act-1', clock });
    const w = new ConcurrencyWindow(hello, clock.now());
    reporter.track(w);
    w.arrive(clock.now());
    clock.advance(500);
    w.depart(clock.now());
    clock.advance(500);
    reporter.tick();
    clock.advance(1000);
    reporter.tick();
    clock.advance(1000);
    reporter.tick();
    assert.deepEqual(sink.stats, [
      { key: hello, source: 'act-1', averageConcurrency: 0.5, requestCount: 1, requestsPerSecond: 1, time: 11_000 },
      { key: hello, source: 'act-1', averageConcurrency: 0, requestCount: 0, requestsPerSecond: 0, time: 12_000 },
    ]);
    assert.equal(w.reporting, false);
  });

  it('does not count the idle time before tracking into the first period', () => {
    const clock = new FakeClock(0);
    const sink = new RecordingSink();
    const reporter = new StatReporter({ sink, source: 's', clock });
    const w = new ConcurrencyWindow(hello, 0);
    clock.advance(60_000);
    reporter.track(w);
    w.arrive(clock.now());
    clock.advance(1000);
    reporter.tick();
    assert.equal(sink.stats[0]?.averageConcurrency, 1);
  });

  it('reports arrivals per second over the period, and over at least one interval: 1 in a 3 ms first period is 1/s, 6 in a late 1.5 s tick 4/s', () => {
    const clock = new FakeClock(997);
    const sink = new RecordingSink();
    const reporter = new StatReporter({ sink, source: 's', clock, intervalMs: 1000 });
    const w = new ConcurrencyWindow(hello, 0);
    reporter.track(w);
    w.arrive(clock.now());
    w.depart(clock.now());
    clock.set(1000);
    reporter.tick();
    for (let i = 0; i < 6; i++) {
      reporter.track(w);
      w.arrive(clock.now());
      w.depart(clock.now());
    }
    clock.set(2500);
    reporter.tick();
    assert.deepEqual(
      sink.stats.map((s) => [s.requestCount, s.requestsPerSecond]),
      [
        [1, 1],
        [6, 4],
      ],
    );
  });

  it('keeps reporting other functions when the sink throws', () => {
    const clock = new FakeClock(0);
    const errors: unknown[] = [];
    let calls = 0;
    const reporter = new StatReporter({
      sink: {
        record: () => {
          calls++;
          throw new Error('sink down');
        },
        poke: () => {},
      },
      source: 's',
      clock,
      onError: (err) => errors.push(err),
    });
    reporter.track(new ConcurrencyWindow(hello, 0));
    reporter.track(new ConcurrencyWindow({ namespace: 'default', name: 'other' }, 0));
    reporter.tick();
    assert.equal(calls, 2);
    assert.equal(errors.length, 2);
  });

  it('ticks on its interval until the signal aborts', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const sink = new RecordingSink();
    const reporter = new StatReporter({ sink, source: 's', clock: new FakeClock(0), intervalMs: 1000 });
    const w = new ConcurrencyWindow(hello, 0);
    reporter.track(w);
    w.arrive(0);
    const stop = new AbortController();
    const running = reporter.run(stop.signal);
    t.mock.timers.tick(999);
    assert.equal(sink.stats.length, 0);
    t.mock.timers.tick(2001);
    assert.equal(sink.stats.length, 3);
    stop.abort();
    await running;
    t.mock.timers.tick(5000);
    assert.equal(sink.stats.length, 3, 'no ticks after abort');
  });
});

describe('stats from the activator', () => {
  it('sends the StatSink per-period averages of in-flight requests and stops after a zero', async () => {
    // Real ticks every 10 ms, but time only moves when the test moves the fake clock, so
    // the numbers are exact.
    const t0 = 1_000_000;
    const clock = new FakeClock(t0);
    const h = await startActivator({ statIntervalMs: 10, source: 'act-test' }, clock);
    const replica = await startReplica('r1');
    const stop = new AbortController();
    const running = h.act.run(stop.signal);
    try {
      h.act.upsertFunction(hello, {});
      h.act.updateEndpoints({ key: hello, endpoints: [replica.endpoint()] });
      const pending = [send(h.port, { path: '/default/hello/?hold' }), send(h.port, { path: '/default/hello/?hold' })];
      await waitFor('two requests at the replica', () => replica.inFlight === 2);
      await waitFor('both arrivals reported', () => h.sink.stats.reduce((n, s) => n + s.requestCount, 0) === 2);
      clock.advance(1000);
      const second = await waitFor('the period ending at t0+1s', () => h.sink.stats.find((s) => s.time === t0 + 1000));
      assert.deepEqual(second, { key: hello, source: 'act-test', averageConcurrency: 2, requestCount: 0, requestsPerSecond: 0, time: t0 + 1000 });
      replica.openGate();
      await Promise.all(pending);
      await waitFor('a zero after the traffic', () => h.sink.stats.at(-1)?.averageConcurrency === 0);
      assert.equal(h.sink.pokes.length, 0, 'a function with a ready replica is never poked');
    } finally {
      stop.abort();
      await running;
      await h.close();
      await replica.close();
    }
  });
});
