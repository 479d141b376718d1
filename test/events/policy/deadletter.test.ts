import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { headers as natsHeaders } from 'nats';
import { deadLetterHeaders, readDeadLetter, redriveAllows, type DeadLetterInfo } from '../../../pkg/events/policy/deadletter.js';

describe('deadLetterHeaders / readDeadLetter', () => {
  const rows: Array<{ name: string; info: DeadLetterInfo; want: Record<string, string> }> = [
    {
      name: 'rejected with a status',
      info: { reason: 'rejected', status: 400, attempts: 1, trigger: 'shop/orders-to-billing', function: 'billing' },
      want: { 'kfn-dlq-reason': 'rejected', 'kfn-dlq-status': '400', 'kfn-dlq-attempts': '1', 'kfn-dlq-trigger': 'shop/orders-to-billing', 'kfn-dlq-function': 'billing' },
    },
    {
      name: 'exhausted after timeouts, with the last error',
      info: { reason: 'retries-exhausted', attempts: 4, trigger: 'default/t', function: 'hello', lastError: 'timeout' },
      want: { 'kfn-dlq-reason': 'retries-exhausted', 'kfn-dlq-attempts': '4', 'kfn-dlq-trigger': 'default/t', 'kfn-dlq-function': 'hello', 'kfn-dlq-error': 'timeout' },
    },
    {
      name: 'with the subject it was published on',
      info: { reason: 'retries-exhausted', status: 503, attempts: 3, trigger: 'shop/orders', function: 'billing', subject: 'orders.eu.created' },
      want: {
        'kfn-dlq-reason': 'retries-exhausted',
        'kfn-dlq-status': '503',
        'kfn-dlq-attempts': '3',
        'kfn-dlq-trigger': 'shop/orders',
        'kfn-dlq-function': 'billing',
        'kfn-dlq-subject': 'orders.eu.created',
      },
    },
  ];
  for (const row of rows) {
    it(`${row.name}: headers`, () => assert.deepEqual(deadLetterHeaders(row.info), row.want));
    it(`${row.name}: round trip through a record`, () => assert.deepEqual(readDeadLetter(deadLetterHeaders(row.info)), row.info));
    it(`${row.name}: round trip through NATS headers`, () => {
      const h = natsHeaders();
      for (const [k, v] of Object.entries(deadLetterHeaders(row.info))) h.set(k, v);
      assert.deepEqual(readDeadLetter(h), row.info);
    });
  }

  it('a multi-line error becomes one line a NATS header can carry, cut at 512 characters', () => {
    const h = deadLetterHeaders({ reason: 'retries-exhausted', attempts: 2, trigger: 'a/b', function: 'f', lastError: `connect ECONNREFUSED\r\n    at x\n${'y'.repeat(1000)}` });
    const error = h['kfn-dlq-error'] ?? '';
    assert.ok(!/[\r\n]/.test(error));
    assert.ok(error.startsWith('connect ECONNREFUSED at x y'));
    assert.equal(error.length, 512);
    const nh = natsHeaders();
    assert.doesNotThrow(() => nh.set('kfn-dlq-error', error));
  });

  it('header names are read case-insensitively', () => {
    assert.deepEqual(readDeadLetter({ 'KFN-DLQ-Reason': 'rejected', 'Kfn-Dlq-Attempts': '1', 'kfn-dlq-trigger': 'a/b', 'kfn-dlq-function': 'f' }), {
      reason: 'rejected',
      attempts: 1,
      trigger: 'a/b',
      function: 'f',
    });
  });

  it('a message without kfn-dlq-reason is not a dead letter', () => {
    assert.equal(readDeadLetter({ 'content-type': 'application/json' }), undefined);
    assert.equal(readDeadLetter(undefined), undefined);
  });
});

describe('redriveAllows', () => {
  const rows: Array<{ name: string; headers: Record<string, string> | undefined; trigger: string; want: boolean }> = [
    { name: 'an ordinary event goes to every trigger', headers: { 'ce-id': '1' }, trigger: 'default/a', want: true },
    { name: 'no headers at all', headers: undefined, trigger: 'default/a', want: true },
    { name: 'a redrive for this trigger', headers: { 'kfn-redrive-trigger': 'default/a' }, trigger: 'default/a', want: true },
    { name: 'a redrive for another trigger', headers: { 'kfn-redrive-trigger': 'default/b' }, trigger: 'default/a', want: false },
    { name: 'same name in another namespace', headers: { 'kfn-redrive-trigger': 'shop/a' }, trigger: 'default/a', want: false },
    { name: 'header name in any case', headers: { 'KFN-Redrive-Trigger': 'default/b' }, trigger: 'default/a', want: false },
  ];
  for (const row of rows) it(row.name, () => assert.equal(redriveAllows(row.headers, row.trigger), row.want));
});
