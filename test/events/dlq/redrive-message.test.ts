import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { headers as natsHeaders, type MsgHdrs } from 'nats';
import { redriveMessage } from '../../../pkg/events/dlq/redrive-message.js';

function hdrs(entries: Record<string, string>): MsgHdrs {
  const h = natsHeaders();
  for (const [k, v] of Object.entries(entries)) h.set(k, v);
  return h;
}

const letter = {
  'ce-id': 'order-1',
  'ce-type': 'order.created',
  'content-type': 'application/json',
  'x-tenant': 'acme',
  'Nats-Msg-Id': 'kfn_shop_orders.7.deadletter',
  'kfn-dlq-reason': 'retries-exhausted',
  'kfn-dlq-attempts': '3',
  'kfn-dlq-trigger': 'shop/orders',
  'kfn-dlq-function': 'billing',
  'kfn-dlq-error': 'function answered 500',
  'kfn-dlq-subject': 'orders.eu.created',
};

describe('redriveMessage', () => {
  it('goes back to the original subject with the original headers, marked for the trigger', () => {
    const out = redriveMessage({ stream: 'DLQ', seq: 42, headers: hdrs(letter) }, 'shop/orders');
    assert.ok(!('error' in out), JSON.stringify(out));
    assert.equal(out.subject, 'orders.eu.created');
    assert.equal(out.msgID, 'kfn-redrive.DLQ.42');
    const got = Object.fromEntries([...out.headers].map(([k, v]) => [k.toLowerCase(), v.join(',')]));
    assert.deepEqual(got, {
      'ce-id': 'order-1',
      'ce-type': 'order.created',
      'content-type': 'application/json',
      'x-tenant': 'acme',
      'kfn-redrive-trigger': 'shop/orders',
    });
  });

  it('a dead letter of an earlier redrive is marked for the trigger asked for now', () => {
    const out = redriveMessage({ stream: 'DLQ', seq: 1, headers: hdrs({ ...letter, 'kfn-redrive-trigger': 'shop/old' }) }, 'shop/orders');
    assert.ok(!('error' in out));
    assert.deepEqual(out.headers.values('kfn-redrive-trigger'), ['shop/orders']);
  });

  it('the same dead letter always gets the same message id, so a repeated redrive is de-duplicated', () => {
    const a = redriveMessage({ stream: 'DLQ', seq: 9, headers: hdrs(letter) }, 'shop/orders');
    const b = redriveMessage({ stream: 'DLQ', seq: 9, headers: hdrs(letter) }, 'shop/orders');
    assert.ok(!('error' in a) && !('error' in b));
    assert.equal(a.msgID, b.msgID);
  });

  it('refuses a dead letter that does not say where it came from', () => {
    const { 'kfn-dlq-subject': _gone, ...old } = letter;
    const out = redriveMessage({ stream: 'DLQ', seq: 1, headers: hdrs(old) }, 'shop/orders');
    assert.ok('error' in out);
    assert.match(out.error, /no kfn-dlq-subject/);
  });

  it('refuses a message that is no dead letter', () => {
    const out = redriveMessage({ stream: 'DLQ', seq: 1, headers: hdrs({ 'ce-id': 'x' }) }, 'shop/orders');
    assert.ok('error' in out);
    assert.match(out.error, /not a dead letter/);
  });
});
