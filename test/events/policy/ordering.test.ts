import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeEvent } from '../../../pkg/events/cloudevents/event.js';
import { OrderingGate, orderingKeyOf } from '../../../pkg/events/policy/ordering.js';

type Step = ['start', string, string, boolean] | ['finish', string, string, string | undefined];

describe('OrderingGate', () => {
  const rows: Array<{ name: string; steps: Step[]; inFlight?: Record<string, string | undefined> }> = [
    {
      name: 'one key: second waits until the first finishes, then is handed out',
      steps: [['start', 'a', 'e1', true], ['start', 'a', 'e2', false], ['finish', 'a', 'e1', 'e2'], ['finish', 'a', 'e2', undefined]],
      inFlight: { a: undefined },
    },
    {
      name: 'one key: FIFO across three waiting events',
      steps: [
        ['start', 'a', 'e1', true], ['start', 'a', 'e2', false], ['start', 'a', 'e3', false], ['start', 'a', 'e4', false],
        ['finish', 'a', 'e1', 'e2'], ['finish', 'a', 'e2', 'e3'], ['finish', 'a', 'e3', 'e4'], ['finish', 'a', 'e4', undefined],
      ],
    },
    {
      name: 'different keys proceed in parallel',
      steps: [['start', 'a', 'e1', true], ['start', 'b', 'e2', true], ['start', 'c', 'e3', true], ['start', 'a', 'e4', false]],
      inFlight: { a: 'e1', b: 'e2', c: 'e3' },
    },
    {
      name: 'finishing one key does not release another',
      steps: [['start', 'a', 'e1', true], ['start', 'a', 'e2', false], ['start', 'b', 'e3', true], ['start', 'b', 'e4', false], ['finish', 'b', 'e3', 'e4']],
      inFlight: { a: 'e1', b: 'e4' },
    },
    {
      name: 'a nak keeps the key: the redelivered in-flight id resumes, the next still waits',
      steps: [['start', 'a', 'e1', true], ['start', 'a', 'e2', false], ['start', 'a', 'e1', true], ['start', 'a', 'e2', false], ['finish', 'a', 'e1', 'e2']],
      inFlight: { a: 'e2' },
    },
    {
      name: 'a redelivered waiting id is not queued twice',
      steps: [['start', 'a', 'e1', true], ['start', 'a', 'e2', false], ['start', 'a', 'e2', false], ['finish', 'a', 'e1', 'e2'], ['finish', 'a', 'e2', undefined]],
      inFlight: { a: undefined },
    },
    {
      name: 'finishing an id that is not in flight changes nothing',
      steps: [['start', 'a', 'e1', true], ['start', 'a', 'e2', false], ['finish', 'a', 'e2', undefined], ['finish', 'z', 'e9', undefined]],
      inFlight: { a: 'e1' },
    },
    {
      name: 'a key is free again once drained',
      steps: [['start', 'a', 'e1', true], ['finish', 'a', 'e1', undefined], ['start', 'a', 'e2', true]],
      inFlight: { a: 'e2' },
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const gate = new OrderingGate();
      for (const [i, step] of row.steps.entries()) {
        const [op, key, id, want] = step;
        const got = op === 'start' ? gate.tryStart(key, id) : gate.finish(key, id);
        assert.equal(got, want, `step ${i}: ${op}(${key}, ${id})`);
      }
      for (const [key, id] of Object.entries(row.inFlight ?? {})) assert.equal(gate.inFlight(key), id, `in flight for ${key}`);
    });
  }

  it('drained keys are forgotten, so memory follows active keys only', () => {
    const gate = new OrderingGate();
    for (let i = 0; i < 100; i++) {
      gate.tryStart(`k${i}`, `e${i}`);
      gate.finish(`k${i}`, `e${i}`);
    }
    assert.equal(gate.activeKeys, 0);
  });

  it('waiting lists the queue behind the event in flight', () => {
    const gate = new OrderingGate();
    gate.tryStart('a', 'e1');
    gate.tryStart('a', 'e2');
    gate.tryStart('a', 'e3');
    assert.deepEqual(gate.waiting('a'), ['e2', 'e3']);
    assert.deepEqual(gate.waiting('b'), []);
  });
});

describe('orderingKeyOf', () => {
  const event = makeEvent({ specversion: '1.0', id: '1', source: '/s', type: 't', customer: 'c-7', shard: 3 });
  const rows: Array<[string | undefined, string | undefined]> = [
    ['customer', 'c-7'],
    ['shard', '3'],
    ['missing', undefined],
    [undefined, undefined],
  ];
  for (const [extension, want] of rows) {
    it(`${String(extension)} → ${String(want)}`, () => assert.equal(orderingKeyOf(event, extension), want));
  }
});
