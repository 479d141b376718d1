import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeEvent } from '../../../pkg/events/cloudevents/event.js';
import { orderingKeyOf } from '../../../pkg/events/policy/ordering.js';

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
