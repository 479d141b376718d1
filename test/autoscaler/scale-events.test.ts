// Which scale writes become Events: only from zero and to zero.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { scaleEvent } from '../../pkg/autoscaler/scale-events.js';

describe('autoscaler events: ScaledFromZero / ScaledToZero', () => {
  const rows: [string, number | undefined, number, string | undefined][] = [
    ['0 → 1 is a cold start', 0, 1, 'ScaledFromZero'],
    ['0 → 5', 0, 5, 'ScaledFromZero'],
    ['3 → 0 is letting an idle function go', 3, 0, 'ScaledToZero'],
    ['1 → 2 is routine', 1, 2, undefined],
    ['2 → 1 is routine', 2, 1, undefined],
    ['0 → 0 is nothing', 0, 0, undefined],
    ['unknown → 0: not claimed (the Deployment was not seen yet)', undefined, 0, undefined],
    ['unknown → 1: not claimed', undefined, 1, undefined],
  ];
  for (const [name, from, to, want] of rows) it(name, () => assert.equal(scaleEvent(from, to, 'why')?.reason, want));
  it('the note gives the numbers and the decision’s reason', () => {
    assert.equal(scaleEvent(0, 1, 'cold start: a request is waiting and no replica is ready')?.note, 'replicas 0 → 1: cold start: a request is waiting and no replica is ready');
  });
});
