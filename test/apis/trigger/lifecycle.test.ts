// node:test's describe/it return promises that the runner itself awaits.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TriggerStatus } from '../../../pkg/apis/trigger/types.js';
import {
  computeTriggerReady, getTriggerCondition, isTriggerReady, markConsumerNotReady, markConsumerReady, markConsumerUnknown,
  markFunctionFound, markFunctionNotFound, setTriggerCondition, type TriggerConditionType,
} from '../../../pkg/apis/trigger/lifecycle.js';

const t0 = new Date('2025-01-01T00:00:00Z');
const t1 = new Date('2025-01-01T00:01:00Z');

/** type → "status/reason" for compact assertions. */
function summary(status: TriggerStatus): Partial<Record<TriggerConditionType, string>> {
  return Object.fromEntries((status.conditions ?? []).map((c) => [c.type, c.reason ? `${c.status}/${c.reason}` : c.status]));
}

describe('trigger conditions', () => {
  it('is Ready once the function is found and the consumer is in place, and records the consumer', () => {
    const st = markConsumerReady(markFunctionFound({}, t0), 'kfn_default_on-order', t0);
    assert.deepEqual(summary(st), { ConsumerReady: 'True', FunctionFound: 'True', Ready: 'True' });
    assert.equal(st.consumer, 'kfn_default_on-order');
    assert.ok(isTriggerReady(st));
  });

  it('is Unknown/Pending before anything reported', () => {
    assert.deepEqual(summary(computeTriggerReady({}, t0)), { Ready: 'Unknown/Pending' });
    assert.deepEqual(summary(markFunctionFound({}, t0)), { FunctionFound: 'True', Ready: 'Unknown/Pending' });
    assert.ok(!isTriggerReady(undefined));
  });

  it('carries the reason of a consumer still being created', () => {
    const st = markConsumerUnknown(markFunctionFound({}, t0), 'Creating', 'creating the consumer', t0);
    assert.deepEqual(getTriggerCondition(st, 'Ready'), {
      type: 'Ready', status: 'Unknown', reason: 'Creating', message: 'creating the consumer', lastTransitionTime: t0.toISOString(),
    });
  });

  it('is not Ready, naming the missing function first, when both fail', () => {
    let st = markConsumerNotReady({}, 'StreamNotFound', 'no stream ORDERS', t0);
    st = markFunctionNotFound(st, 'no Function "hello" in namespace default', t0);
    assert.deepEqual(summary(st), { ConsumerReady: 'False/StreamNotFound', FunctionFound: 'False/FunctionNotFound', Ready: 'False/FunctionNotFound' });
    assert.equal(getTriggerCondition(st, 'Ready')?.message, 'no Function "hello" in namespace default');
  });

  it('keeps lastTransitionTime while the status stays the same, and moves it when it flips', () => {
    let st = setTriggerCondition({}, { type: 'ConsumerReady', status: 'False', reason: 'A' }, t0);
    st = setTriggerCondition(st, { type: 'ConsumerReady', status: 'False', reason: 'B' }, t1);
    assert.equal(getTriggerCondition(st, 'ConsumerReady')?.lastTransitionTime, t0.toISOString());
    st = setTriggerCondition(st, { type: 'ConsumerReady', status: 'True' }, t1);
    assert.deepEqual(getTriggerCondition(st, 'ConsumerReady'), { type: 'ConsumerReady', status: 'True', lastTransitionTime: t1.toISOString() });
  });

  it('does not change the status it is given, and keeps the counters', () => {
    const before: TriggerStatus = { delivered: 7, deadLettered: 1, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: t0.toISOString() }] };
    const copy = structuredClone(before);
    const after = markFunctionNotFound(before, 'gone', t1);
    assert.deepEqual(before, copy);
    assert.deepEqual([after.delivered, after.deadLettered], [7, 1]);
    assert.equal(getTriggerCondition(after, 'Ready')?.status, 'False');
  });
});
