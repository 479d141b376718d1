// Which Trigger condition changes become Events: transitions only, so a reconcile that
// finds nothing new records nothing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TriggerStatus } from '../../pkg/apis/trigger/types.js';
import { triggerEvents } from '../../pkg/reconciler/trigger/events.js';

const at = '2026-12-03T12:00:00Z';
const consumer = (status: 'True' | 'False' | 'Unknown', reason?: string, message?: string): TriggerStatus => ({
  consumer: 'kfn_default_orders',
  conditions: [{ type: 'ConsumerReady', status, lastTransitionTime: at, ...(reason ? { reason } : {}), ...(message ? { message } : {}) }],
});

describe('trigger events: transitions of ConsumerReady', () => {
  const rows: [string, TriggerStatus | undefined, TriggerStatus, string[]][] = [
    ['first ready', undefined, consumer('True'), ['Normal ConsumerReady']],
    ['still ready', consumer('True'), consumer('True'), []],
    ['ready after waiting for the function', consumer('Unknown', 'WaitingForFunction'), consumer('True'), ['Normal ConsumerReady']],
    ['NATS lost', consumer('True'), consumer('False', 'NatsUnavailable', 'connect refused'), ['Warning ConsumerFailed']],
    ['NATS still lost, another error text', consumer('False', 'NatsUnavailable', 'a'), consumer('False', 'NatsUnavailable', 'b'), []],
    ['invalid spec', undefined, consumer('False', 'InvalidSpec', 'spec.subject: bad'), ['Warning InvalidSpec']],
    ['still the same invalid spec', consumer('False', 'InvalidSpec', 'spec.subject: bad'), consumer('False', 'InvalidSpec', 'spec.subject: bad'), []],
    ['edited and invalid in another way', consumer('False', 'InvalidSpec', 'spec.subject: bad'), consumer('False', 'InvalidSpec', 'spec.function: required'), ['Warning InvalidSpec']],
    ['waiting for its function is not a failure', undefined, consumer('Unknown', 'WaitingForFunction'), []],
    ['no condition yet', undefined, {}, []],
  ];
  for (const [name, before, after, want] of rows) {
    it(name, () => assert.deepEqual(triggerEvents(before, after).map((e) => `${e.type} ${e.reason}`), want));
  }
  it('ConsumerFailed names the reason and the message', () => {
    const [e] = triggerEvents(undefined, consumer('False', 'NatsUnavailable', 'connect to NATS at nats://x: refused'));
    assert.equal(e?.note, 'NatsUnavailable: connect to NATS at nats://x: refused');
  });
});
