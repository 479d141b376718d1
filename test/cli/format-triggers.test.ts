// `kfn get triggers` and `kfn get trigger <name>`: the counts a user reads, dropped events
// included.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KfnTrigger } from '../../pkg/apis/trigger/types.js';
import { triggerDetail, triggerTable } from '../../cmd/kfn/format.js';

function trigger(status: KfnTrigger['status']): KfnTrigger {
  return {
    apiVersion: 'kfn.dev/v1alpha1',
    kind: 'Trigger',
    metadata: { name: 'orders', namespace: 'shop' },
    spec: { subject: 'orders.>', function: 'fulfil' },
    ...(status ? { status } : {}),
  };
}

describe('trigger printing', () => {
  it('the table has a DROPPED column after DEAD, 0 when status has none yet', () => {
    const lines = triggerTable([
      trigger({ delivered: 12, retried: 3, deadLettered: 2, dropped: 5, conditions: [{ type: 'Ready', status: 'True' }] }),
      trigger(undefined),
    ]).split('\n');
    const cells = lines.map((l) => l.trim().split(/\s+/));
    const at = cells[0]!.indexOf('DROPPED');
    assert.equal(cells[0]![at - 1], 'DEAD');
    assert.deepEqual(cells[1]!.slice(at - 3, at + 1), ['12', '3', '2', '5']);
    assert.equal(cells[2]![at], '0');
  });

  it('the detail says how many were dropped', () => {
    assert.match(triggerDetail(trigger({ delivered: 1, retried: 0, deadLettered: 0, dropped: 4 })), /Events: +1 delivered, 0 retried, 0 dead-lettered, 4 dropped/);
  });
});
