import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstAvailable, leastRequest, policyFor, powerOfTwoChoices, roundRobin, type Candidate } from '../../pkg/activator/lb.js';

const c = (inFlight: number, capacity: number): Candidate => ({ inFlight, capacity });

/** A `random` that returns the given values in turn. */
function randoms(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length] ?? 0;
}

describe('policyFor', () => {
  const rows: Array<[number, string]> = [
    [0, 'power-of-two-choices'],
    [1, 'first-available'],
    [3, 'first-available'],
    [4, 'round-robin'],
    [100, 'round-robin'],
  ];
  for (const [cc, want] of rows) it(`containerConcurrency ${cc} → ${want}`, () => assert.equal(policyFor(cc), want));
});

describe('firstAvailable', () => {
  const rows: Array<{ name: string; given: Candidate[]; want: number }> = [
    { name: 'no replicas', given: [], want: -1 },
    { name: 'first free', given: [c(0, 1), c(0, 1)], want: 0 },
    { name: 'skips full', given: [c(1, 1), c(2, 2), c(1, 2)], want: 2 },
    { name: 'all full', given: [c(1, 1), c(3, 3)], want: -1 },
    { name: 'unlimited is always free', given: [c(50, 0)], want: 0 },
  ];
  for (const row of rows) it(row.name, () => assert.equal(firstAvailable(row.given), row.want));
});

describe('roundRobin', () => {
  const rows: Array<{ name: string; given: Candidate[]; cursor: number; want: number }> = [
    { name: 'no replicas', given: [], cursor: 0, want: -1 },
    { name: 'starts at the cursor', given: [c(0, 5), c(0, 5), c(0, 5)], cursor: 1, want: 1 },
    { name: 'skips full ones after the cursor', given: [c(0, 5), c(5, 5), c(0, 5)], cursor: 1, want: 2 },
    { name: 'wraps around', given: [c(0, 5), c(5, 5), c(5, 5)], cursor: 1, want: 0 },
    { name: 'cursor past a shrunk set restarts at 0', given: [c(0, 5), c(0, 5)], cursor: 7, want: 0 },
    { name: 'all full', given: [c(5, 5), c(5, 5)], cursor: 0, want: -1 },
  ];
  for (const row of rows) it(row.name, () => assert.equal(roundRobin(row.given, row.cursor), row.want));

  it('spreads over replicas when the caller advances the cursor', () => {
    const given = [c(0, 5), c(0, 5), c(0, 5)];
    let cursor = 0;
    const picks: number[] = [];
    for (let i = 0; i < 6; i++) {
      const at = roundRobin(given, cursor);
      picks.push(at);
      cursor = at + 1;
    }
    assert.deepEqual(picks, [0, 1, 2, 0, 1, 2]);
  });
});

describe('powerOfTwoChoices', () => {
  const rows: Array<{ name: string; given: Candidate[]; random: number[]; want: number }> = [
    { name: 'no replicas', given: [], random: [0], want: -1 },
    { name: 'one replica', given: [c(9, 0)], random: [0.9], want: 0 },
    { name: 'two: the less loaded', given: [c(5, 0), c(1, 0)], random: [0, 0], want: 1 },
    { name: 'two: a tie goes to the first drawn', given: [c(2, 0), c(2, 0)], random: [0.9, 0], want: 1 },
    // n=4: a = floor(0.5*4) = 2; b = floor(0.5*3) = 1 (< a, kept) → replicas 2 and 1
    { name: 'draws two distinct and picks the lighter', given: [c(0, 0), c(7, 0), c(3, 0), c(0, 0)], random: [0.5, 0.5], want: 2 },
    // a = floor(0.3*4) = 1; b = floor(0.4*3) = 1 ≥ a → 2: never the same replica twice
    { name: 'second draw skips the first', given: [c(4, 0), c(4, 0), c(1, 0), c(0, 0)], random: [0.3, 0.4], want: 2 },
    { name: 'random of 0.999… stays in range', given: [c(1, 0), c(0, 0), c(2, 0)], random: [0.9999999, 0.9999999], want: 1 },
    { name: 'falls back to the other when the winner is full', given: [c(1, 1), c(3, 4)], random: [0, 0], want: 1 },
    { name: 'both full', given: [c(1, 1), c(2, 2)], random: [0, 0], want: -1 },
  ];
  for (const row of rows) it(row.name, () => assert.equal(powerOfTwoChoices(row.given, randoms(...row.random)), row.want));
});

describe('leastRequest', () => {
  // Envoy's LEAST_REQUEST (N_CHOICES): choice_count hosts drawn at random, the one with
  // the fewest active requests wins. Draws are with replacement: index = floor(random × n).
  const rows: Array<{ name: string; given: Candidate[]; choices: number; random: number[]; want: number }> = [
    { name: 'no replicas', given: [], choices: 2, random: [0], want: -1 },
    { name: 'one replica', given: [c(9, 0)], choices: 2, random: [0.5], want: 0 },
    // draws 0.1×3 → 0 and 0.9×3 → 2: replica 2 has fewer in flight
    { name: 'two draws: the one with fewer in flight', given: [c(4, 0), c(0, 0), c(1, 0)], choices: 2, random: [0.1, 0.9], want: 2 },
    // replica 1 holds the fewest but is never drawn: only the drawn compete
    { name: 'only drawn replicas compete', given: [c(4, 0), c(0, 0), c(3, 0)], choices: 2, random: [0.1, 0.9], want: 2 },
    { name: 'a tie goes to the first drawn', given: [c(2, 0), c(2, 0)], choices: 2, random: [0.9, 0.1], want: 1 },
    { name: 'the same replica drawn twice', given: [c(2, 0), c(0, 0)], choices: 2, random: [0.1, 0.2], want: 0 },
    // three draws: 0, 1, 2 → replica 2 (0 in flight)
    { name: 'choiceCount 3 draws three', given: [c(5, 0), c(4, 0), c(0, 0), c(9, 0)], choices: 3, random: [0.1, 0.3, 0.6], want: 2 },
    { name: 'a full drawn replica does not count', given: [c(1, 1), c(3, 5)], choices: 2, random: [0.1, 0.6], want: 1 },
    // both draws hit full replica 0: a request never waits while a slot is free, so the
    // least loaded replica with a free slot anywhere is used
    { name: 'all drawn full: the least loaded free one anywhere', given: [c(1, 1), c(4, 5), c(2, 5)], choices: 2, random: [0.1, 0.2], want: 2 },
    { name: 'all full', given: [c(1, 1), c(5, 5)], choices: 2, random: [0.1, 0.6], want: -1 },
    { name: 'random of 0.999… stays in range', given: [c(1, 0), c(0, 0)], choices: 2, random: [0.9999999, 0.9999999], want: 1 },
  ];
  for (const row of rows) it(row.name, () => assert.equal(leastRequest(row.given, row.choices, randoms(...row.random)), row.want));
});
