import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AttributeFilter } from '../../../pkg/apis/trigger/types.js';
import { matchesFilter } from '../../../pkg/events/cloudevents/filter.js';
import { ev } from './fixtures.js';

const event = ev({ type: 'com.example.order.created', source: '/shop/orders', subject: 'order-42', region: 'eu-west', priority: 3 }, '{"region":"us"}');

describe('matchesFilter', () => {
  const rows: Array<{ name: string; filter: AttributeFilter | undefined; want: boolean }> = [
    { name: 'no filter matches everything', filter: undefined, want: true },
    { name: 'empty filter matches everything', filter: {}, want: true },
    { name: 'exact type', filter: { exact: { type: 'com.example.order.created' } }, want: true },
    { name: 'exact type differs', filter: { exact: { type: 'com.example.order' } }, want: false },
    { name: 'prefix on type', filter: { prefix: { type: 'com.example.order.' } }, want: true },
    { name: 'suffix on type', filter: { suffix: { type: '.created' } }, want: true },
    { name: 'suffix that does not match', filter: { suffix: { type: '.deleted' } }, want: false },
    { name: 'exact on an extension', filter: { exact: { region: 'eu-west' } }, want: true },
    { name: 'prefix on an extension', filter: { prefix: { region: 'eu-' } }, want: true },
    { name: 'number extension compared as its string form', filter: { exact: { priority: '3' } }, want: true },
    { name: 'all conditions must match: one fails', filter: { exact: { type: 'com.example.order.created' }, prefix: { source: '/billing' } }, want: false },
    { name: 'all conditions must match: all hold', filter: { exact: { subject: 'order-42' }, prefix: { source: '/shop/' }, suffix: { type: 'created' } }, want: true },
    { name: 'missing attribute fails even with an empty prefix', filter: { prefix: { tenant: '' } }, want: false },
    { name: 'data is not an attribute', filter: { exact: { data: '{"region":"us"}' } }, want: false },
    { name: 'attribute names are case-sensitive', filter: { exact: { Type: 'com.example.order.created' } }, want: false },
  ];
  for (const row of rows) {
    it(row.name, () => assert.equal(matchesFilter(event, row.filter), row.want));
  }
});
