import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coveredBy, parseQuantity } from '../../../pkg/reconciler/function/semantic.js';

const quantities: Array<{ name: string; given: string; want: number | undefined }> = [
  { name: 'plain integer', given: '2', want: 2 },
  { name: 'millicores', given: '250m', want: 0.25 },
  { name: 'decimal', given: '0.5', want: 0.5 },
  { name: 'binary suffix', given: '1Gi', want: 2 ** 30 },
  { name: 'decimal suffix', given: '128M', want: 128e6 },
  { name: 'exponent', given: '1e3', want: 1000 },
  { name: 'not a quantity', given: '12 apples', want: undefined },
  { name: 'unknown suffix', given: '1Xi', want: undefined },
];

for (const row of quantities) {
  test(`parseQuantity: ${row.name}`, () => {
    assert.equal(parseQuantity(row.given), row.want);
  });
}

const covers: Array<{ name: string; given: { want: unknown; have: unknown }; want: boolean }> = [
  { name: 'server-added fields are not a difference', given: { want: { a: 1 }, have: { a: 1, b: 2 } }, want: true },
  { name: 'a different value is', given: { want: { a: 1 }, have: { a: 2 } }, want: false },
  { name: 'a missing field is', given: { want: { a: 1 }, have: {} }, want: false },
  { name: 'lists must match in length', given: { want: [{ a: 1 }], have: [{ a: 1 }, { a: 2 }] }, want: false },
  { name: 'an empty list matches an omitted one', given: { want: { l: [] }, have: {} }, want: true },
  { name: 'a zero value matches an omitted field (omitempty)', given: { want: { b: false, s: '', n: 0 }, have: {} }, want: true },
  { name: 'a non-zero value does not', given: { want: { b: true }, have: {} }, want: false },
  { name: 'quantities compare by value under requests/limits', given: { want: { requests: { cpu: '0.5' } }, have: { requests: { cpu: '500m' } } }, want: true },
  { name: 'different quantities differ', given: { want: { limits: { memory: '1Gi' } }, have: { limits: { memory: '1G' } } }, want: false },
  { name: 'quantity-like strings elsewhere compare as strings', given: { want: { x: '0.5' }, have: { x: '500m' } }, want: false },
];

for (const row of covers) {
  test(`coveredBy: ${row.name}`, () => {
    assert.equal(coveredBy(row.given.want, row.given.have), row.want);
  });
}
