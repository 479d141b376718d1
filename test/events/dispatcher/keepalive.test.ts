// When the dispatcher tells JetStream it is still working on an event: not for an event
// settled quickly, early for one held longer, then regularly until it is settled.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { keepAlive } from '../../../pkg/events/dispatcher/keepalive.js';

describe('keepAlive', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'setInterval'] }));
  afterEach(() => mock.timers.reset());

  /** Node 20's mock clock does not run, within one tick(), a timer set by a timer it runs: so, 1 ms at a time. */
  function advance(ms: number): void {
    for (let i = 0; i < ms; i++) mock.timers.tick(1);
  }

  // Ack wait 30 s: the first in-progress ack at 3 s, then every 10 s.
  const cases: { name: string; heldMs: number; want: number }[] = [
    { name: 'settled in 1 ms: none', heldMs: 1, want: 0 },
    { name: 'settled just before a tenth of the ack wait: none', heldMs: 2999, want: 0 },
    { name: 'held a tenth of the ack wait: one', heldMs: 3000, want: 1 },
    { name: 'held 12.9 s: one', heldMs: 12_999, want: 1 },
    { name: 'held 13 s: two', heldMs: 13_000, want: 2 },
    { name: 'held 2 minutes (a slow cold start): 3 s, 13 s, 23 s … 113 s', heldMs: 120_000, want: 12 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      let sent = 0;
      const stop = keepAlive({ working: () => void sent++ }, 30_000);
      advance(c.heldMs);
      stop();
      advance(60_000);
      assert.equal(sent, c.want);
    });
  }

  it('never waits less than 20 ms for the first, nor 50 ms between the others', () => {
    let sent = 0;
    const stop = keepAlive({ working: () => void sent++ }, 60);
    advance(19);
    assert.equal(sent, 0);
    advance(1);
    assert.equal(sent, 1);
    advance(50);
    assert.equal(sent, 2);
    stop();
  });

  it('an in-progress ack that throws (connection closed) neither escapes the timer nor stops the next ones', () => {
    let tries = 0;
    const stop = keepAlive(
      {
        working: () => {
          tries++;
          throw new Error('CONNECTION_CLOSED');
        },
      },
      60,
    );
    assert.doesNotThrow(() => advance(120));
    assert.equal(tries, 3);
    stop();
  });
});
