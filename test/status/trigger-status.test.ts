// The Trigger status rule both modes share (pkg/apis/trigger/status.ts) as a table: what
// one reconcile found, on a cluster or in kfn dev → the status a person reads with
// `kubectl get trigger -o yaml` or `kfn status`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cond, NOW } from './conditions.js';
import type { KfnTrigger, TriggerStatus } from '../../pkg/apis/trigger/types.js';
import { triggerStatus, type TriggerFacts } from '../../pkg/apis/trigger/status.js';

const EARLIER = '2026-11-21T00:00:00.000Z';

type TriggerOption = (t: KfnTrigger) => void;

function trigger(...opts: TriggerOption[]): KfnTrigger {
  const t: KfnTrigger = {
    apiVersion: 'kfn.dev/v1alpha1',
    kind: 'Trigger',
    metadata: { name: 'orders', namespace: 'shop', generation: 3 },
    spec: { subject: 'orders.>', function: 'fulfil' },
  };
  for (const o of opts) o(t);
  return t;
}
const withStatus = (s: TriggerStatus): TriggerOption => (t) => void (t.status = s);


const readyBefore: TriggerStatus = {
  observedGeneration: 2,
  consumer: 'kfn_shop_orders',
  delivered: 10,
  retried: 1,
  deadLettered: 0,
  conditions: [cond('ConsumerReady', 'True', undefined, undefined, EARLIER), cond('FunctionFound', 'True', undefined, undefined, EARLIER), cond('Ready', 'True', undefined, undefined, EARLIER)],
};

const counts = { delivered: 12, retried: 2, deadLettered: 1, dropped: 3, filtered: 5 };

interface Row {
  name: string;
  given: KfnTrigger;
  seen: TriggerFacts;
  want: TriggerStatus;
}

const rows: Row[] = [
  {
    name: 'a new trigger whose consumer is in place is Ready, with its consumer and counts',
    given: trigger(),
    seen: { functionFound: true, consumer: { state: 'ready', name: 'kfn_shop_orders' }, counts },
    want: {
      observedGeneration: 3,
      consumer: 'kfn_shop_orders',
      delivered: 12,
      retried: 2,
      deadLettered: 1,
      dropped: 3,
      conditions: [cond('ConsumerReady', 'True'), cond('FunctionFound', 'True'), cond('Ready', 'True')],
    },
  },
  {
    name: 'new counts move nothing else, not even the transition times',
    given: trigger(withStatus(readyBefore)),
    seen: { functionFound: true, consumer: { state: 'ready', name: 'kfn_shop_orders' }, counts },
    want: { ...readyBefore, observedGeneration: 3, delivered: 12, retried: 2, deadLettered: 1, dropped: 3 },
  },
  {
    name: 'counts that could not be read keep the last ones',
    given: trigger(withStatus(readyBefore)),
    seen: { functionFound: true, consumer: { state: 'ready', name: 'kfn_shop_orders' } },
    want: { ...readyBefore, observedGeneration: 3 },
  },
  {
    name: 'an invalid spec is Ready=False/InvalidSpec naming the field, whatever was found before',
    given: trigger(withStatus({ conditions: [cond('FunctionFound', 'False', 'FunctionNotFound', 'gone', EARLIER)] })),
    seen: { invalid: [{ field: 'spec.subject', message: 'must be a NATS subject' }] },
    want: {
      observedGeneration: 3,
      conditions: [
        cond('ConsumerReady', 'False', 'InvalidSpec', 'spec.subject: must be a NATS subject'),
        cond('FunctionFound', 'False', 'FunctionNotFound', 'gone', EARLIER),
        cond('Ready', 'False', 'InvalidSpec', 'spec.subject: must be a NATS subject'),
      ],
    },
  },
  {
    name: 'cluster: a missing function is Ready=False/FunctionNotFound, and the consumer waits for it',
    given: trigger(),
    seen: { functionFound: false, consumer: { state: 'waitingForFunction' } },
    want: {
      observedGeneration: 3,
      conditions: [
        cond('ConsumerReady', 'Unknown', 'WaitingForFunction', 'the consumer is made once Function "fulfil" exists'),
        cond('FunctionFound', 'False', 'FunctionNotFound', 'no Function "fulfil" in namespace "shop": create it, or point spec.function at an existing one'),
        cond('Ready', 'False', 'FunctionNotFound', 'no Function "fulfil" in namespace "shop": create it, or point spec.function at an existing one'),
      ],
    },
  },
  {
    name: 'NATS out of reach is Ready=False/NatsUnavailable with the cause, keeping the consumer name and counts',
    given: trigger(withStatus(readyBefore)),
    seen: { functionFound: true, consumer: { state: 'failed', reason: 'NatsUnavailable', message: 'connect to NATS at nats://nats:4222: CONNECTION_REFUSED' } },
    want: {
      ...readyBefore,
      observedGeneration: 3,
      conditions: [
        cond('ConsumerReady', 'False', 'NatsUnavailable', 'connect to NATS at nats://nats:4222: CONNECTION_REFUSED'),
        cond('FunctionFound', 'True', undefined, undefined, EARLIER),
        cond('Ready', 'False', 'NatsUnavailable', 'connect to NATS at nats://nats:4222: CONNECTION_REFUSED'),
      ],
    },
  },
  {
    name: 'a trigger that was failing turns Ready, and Ready records when',
    given: trigger(withStatus({ conditions: [cond('ConsumerReady', 'False', 'NatsUnavailable', 'down', EARLIER), cond('FunctionFound', 'True', undefined, undefined, EARLIER), cond('Ready', 'False', 'NatsUnavailable', 'down', EARLIER)] })),
    seen: { functionFound: true, consumer: { state: 'ready', name: 'kfn_shop_orders' }, counts },
    want: {
      observedGeneration: 3,
      consumer: 'kfn_shop_orders',
      delivered: 12,
      retried: 2,
      deadLettered: 1,
      dropped: 3,
      conditions: [cond('ConsumerReady', 'True'), cond('FunctionFound', 'True', undefined, undefined, EARLIER), cond('Ready', 'True')],
    },
  },
  {
    name: 'kfn dev: a missing function is Ready=False/FunctionNotFound while its kept consumer holds the events',
    given: trigger(withStatus(readyBefore)),
    seen: { functionFound: false, consumer: { state: 'ready', name: 'kfn_shop_orders' } },
    want: {
      ...readyBefore,
      observedGeneration: 3,
      conditions: [
        cond('ConsumerReady', 'True', undefined, undefined, EARLIER),
        cond('FunctionFound', 'False', 'FunctionNotFound', 'no Function "fulfil" in namespace "shop": create it, or point spec.function at an existing one'),
        cond('Ready', 'False', 'FunctionNotFound', 'no Function "fulfil" in namespace "shop": create it, or point spec.function at an existing one'),
      ],
    },
  },
  {
    name: 'kfn dev without nats-server: Ready=False with the reason the caller knows, the missing function first',
    given: trigger(),
    seen: { functionFound: false, consumer: { state: 'failed', reason: 'NatsServerMissing', message: 'nats-server was not found on PATH; install it' } },
    want: {
      observedGeneration: 3,
      conditions: [
        cond('ConsumerReady', 'False', 'NatsServerMissing', 'nats-server was not found on PATH; install it'),
        cond('FunctionFound', 'False', 'FunctionNotFound', 'no Function "fulfil" in namespace "shop": create it, or point spec.function at an existing one'),
        cond('Ready', 'False', 'FunctionNotFound', 'no Function "fulfil" in namespace "shop": create it, or point spec.function at an existing one'),
      ],
    },
  },
  {
    // Deriving Ready after each condition made it Unknown (function found, consumer still
    // waiting) and then False again, which moved its lastTransitionTime.
    name: 'not Ready before and after, for another reason: Ready keeps its transition time',
    given: trigger(
      withStatus({
        conditions: [
          cond('ConsumerReady', 'Unknown', 'WaitingForFunction', 'w', EARLIER),
          cond('FunctionFound', 'False', 'FunctionNotFound', 'gone', EARLIER),
          cond('Ready', 'False', 'FunctionNotFound', 'gone', EARLIER),
        ],
      }),
    ),
    seen: { functionFound: true, consumer: { state: 'failed', reason: 'NatsUnavailable', message: 'down' } },
    want: {
      observedGeneration: 3,
      conditions: [cond('ConsumerReady', 'False', 'NatsUnavailable', 'down'), cond('FunctionFound', 'True'), cond('Ready', 'False', 'NatsUnavailable', 'down', EARLIER)],
    },
  },
];

describe('Trigger status from what the reconcile found, in either mode', () => {
  for (const row of rows) {
    it(row.name, () => {
      const before = structuredClone(row.given);
      assert.deepEqual(triggerStatus(row.given, row.seen, NOW), row.want);
      assert.deepEqual(row.given, before, 'the trigger itself is not changed');
    });
  }

  it('the filtered count stays out of status: the CRD has no field for it', () => {
    const s = triggerStatus(trigger(), { functionFound: true, consumer: { state: 'ready', name: 'c' }, counts }, NOW);
    assert.equal('filtered' in s, false);
  });
});
