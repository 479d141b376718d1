// A Trigger's status from what the reconcile found. Pure; the reconciler writes the result
// only when it differs from the stored status.
//
// Ready is False, most specific first, with:
//   InvalidSpec        the manifest breaks a rule (the fields are named); nothing was touched
//   FunctionNotFound   spec.function names no Function in the namespace; retried when one appears
//   NatsUnavailable    the stream or the consumer could not be put in place (NATS down, refused)
// and True once the function exists and the durable consumer is in place. The counts are
// the sums over every dispatcher instance (pkg/events/dispatcher/stats-kv.ts); when they
// could not be read the previous ones stay.
import { formatFieldErrors, type FieldError } from '../../apis/meta.js';
import {
  markConsumerNotReady,
  markConsumerReady,
  markConsumerUnknown,
  markFunctionFound,
  markFunctionNotFound,
  setTriggerCondition,
} from '../../apis/trigger/lifecycle.js';
import type { KfnTrigger, TriggerStatus } from '../../apis/trigger/types.js';
import type { TriggerCounters } from '../../events/dispatcher/counters.js';

export const REASON_INVALID_SPEC = 'InvalidSpec';
export const REASON_NATS_UNAVAILABLE = 'NatsUnavailable';
/** ConsumerReady while the function is missing: no consumer is made for a trigger that cannot deliver. */
export const REASON_WAITING_FOR_FUNCTION = 'WaitingForFunction';

/** What one reconcile found, in the order it checks. */
export type TriggerObservation =
  | { kind: 'invalid'; errors: readonly FieldError[] }
  | { kind: 'functionNotFound' }
  | { kind: 'natsUnavailable'; message: string }
  | { kind: 'ready'; consumer: string; counts?: TriggerCounters };

export function triggerStatus(t: KfnTrigger, seen: TriggerObservation, now: Date): TriggerStatus {
  let status: TriggerStatus = { ...t.status };
  if (t.metadata.generation !== undefined) status.observedGeneration = t.metadata.generation;
  const ns = t.metadata.namespace ?? 'default';
  switch (seen.kind) {
    case 'invalid': {
      const message = formatFieldErrors(seen.errors);
      status = markConsumerNotReady(status, REASON_INVALID_SPEC, message, now);
      // Whatever else was found before, the spec is what to fix now.
      return setTriggerCondition(status, { type: 'Ready', status: 'False', reason: REASON_INVALID_SPEC, message }, now);
    }
    case 'functionNotFound': {
      const message = `no Function "${t.spec.function}" in namespace "${ns}": create it, or point spec.function at an existing one`;
      status = markConsumerUnknown(status, REASON_WAITING_FOR_FUNCTION, `the consumer is made once Function "${t.spec.function}" exists`, now);
      return markFunctionNotFound(status, message, now);
    }
    case 'natsUnavailable':
      return markConsumerNotReady(markFunctionFound(status, now), REASON_NATS_UNAVAILABLE, seen.message, now);
    case 'ready': {
      if (seen.counts) {
        status.delivered = seen.counts.delivered;
        status.retried = seen.counts.retried;
        status.deadLettered = seen.counts.deadLettered;
        status.dropped = seen.counts.dropped;
      }
      return markConsumerReady(markFunctionFound(status, now), seen.consumer, now);
    }
  }
}
