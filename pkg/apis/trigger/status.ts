// A Trigger's status from what was observed: the one status rule for `kfn dev`
// (pkg/dev/triggers.ts) and the cluster controller (pkg/reconciler/trigger). Pure; each
// caller writes the result only when it differs from the stored one.
//
// Ready is False, most specific first, with:
//   InvalidSpec        the manifest breaks a rule (the fields are named); nothing was touched
//   FunctionNotFound   spec.function names no Function in the namespace
//   NatsUnavailable    the stream or the consumer could not be put in place (NATS down, refused)
//   (another reason)   what the caller knows better, e.g. local mode's NatsServerMissing
// and True once the function exists and the durable consumer is in place. While the
// function is missing the consumer is either kept, so events wait in it (local mode), or
// not made yet (the cluster: ConsumerReady=Unknown/WaitingForFunction). Counts that could
// not be read keep the previous ones.
//
// Both conditions are set before Ready is derived, once: deriving it after each would let
// Ready flip and flip back within one call and move its lastTransitionTime for nothing.
import { formatFieldErrors, type FieldError } from '../meta.js';
import { computeTriggerReady, REASON_FUNCTION_NOT_FOUND, setTriggerCondition, type TriggerCondition } from './lifecycle.js';
import type { KfnTrigger, TriggerStatus } from './types.js';

export const REASON_INVALID_SPEC = 'InvalidSpec';
export const REASON_NATS_UNAVAILABLE = 'NatsUnavailable';
/** ConsumerReady while the function is missing and no consumer is made for it. */
export const REASON_WAITING_FOR_FUNCTION = 'WaitingForFunction';

/** The counts status shows; the dispatcher's `filtered` has no field in the CRD. */
export interface TriggerCounts {
  delivered: number;
  retried: number;
  deadLettered: number;
  dropped: number;
}

/** Where the trigger's durable consumer stands. */
export type ConsumerFact =
  | { state: 'ready'; name: string }
  | { state: 'waitingForFunction' }
  | { state: 'failed'; reason: string; message: string };

/** Everything the status is made from: an invalid spec, or what was found with a valid one. */
export type TriggerFacts =
  | { invalid: readonly FieldError[] }
  | { functionFound: boolean; consumer: ConsumerFact; counts?: TriggerCounts };

export function triggerStatus(t: KfnTrigger, facts: TriggerFacts, now: Date): TriggerStatus {
  let status: TriggerStatus = { ...t.status, observedGeneration: t.metadata.generation ?? 0 };
  if ('invalid' in facts) {
    const message = formatFieldErrors(facts.invalid);
    status = setTriggerCondition(status, { type: 'ConsumerReady', status: 'False', reason: REASON_INVALID_SPEC, message }, now);
    // Whatever else was found before, the spec is what to fix now.
    return setTriggerCondition(status, { type: 'Ready', status: 'False', reason: REASON_INVALID_SPEC, message }, now);
  }
  if (facts.counts) {
    status.delivered = facts.counts.delivered;
    status.retried = facts.counts.retried;
    status.deadLettered = facts.counts.deadLettered;
    status.dropped = facts.counts.dropped;
  }
  status = setTriggerCondition(status, functionFound(t, facts.functionFound), now);
  if (facts.consumer.state === 'ready') status = { ...status, consumer: facts.consumer.name };
  status = setTriggerCondition(status, consumerReady(t, facts.consumer), now);
  return computeTriggerReady(status, now);
}

function functionFound(t: KfnTrigger, found: boolean): TriggerCondition {
  if (found) return { type: 'FunctionFound', status: 'True' };
  const ns = t.metadata.namespace ?? 'default';
  return {
    type: 'FunctionFound',
    status: 'False',
    reason: REASON_FUNCTION_NOT_FOUND,
    message: `no Function "${t.spec.function}" in namespace "${ns}": create it, or point spec.function at an existing one`,
  };
}

function consumerReady(t: KfnTrigger, consumer: ConsumerFact): TriggerCondition {
  switch (consumer.state) {
    case 'ready':
      return { type: 'ConsumerReady', status: 'True' };
    case 'waitingForFunction':
      return { type: 'ConsumerReady', status: 'Unknown', reason: REASON_WAITING_FOR_FUNCTION, message: `the consumer is made once Function "${t.spec.function}" exists` };
    case 'failed':
      return { type: 'ConsumerReady', status: 'False', reason: consumer.reason, message: consumer.message };
  }
}
