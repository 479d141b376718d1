// Condition helpers for TriggerStatus, as pkg/apis/function/lifecycle.ts has for the
// Function; both wrap pkg/apis/conditions.ts. Every helper returns a new status.
//
// Ready is derived: True when the function exists and the JetStream consumer is in
// place; False when either says False (with its reason); Unknown otherwise.
import type { Condition } from '../meta.js';
import { findCondition, withCondition } from '../conditions.js';
import type { TriggerStatus } from './types.js';

export type TriggerConditionType = 'Ready' | 'ConsumerReady' | 'FunctionFound';

export interface TriggerCondition extends Condition {
  type: TriggerConditionType;
}

/** Ready's reason while nothing has reported yet. */
export const REASON_PENDING = 'Pending';
/** FunctionFound=False: spec.function names no Function in the trigger's namespace. */
export const REASON_FUNCTION_NOT_FOUND = 'FunctionNotFound';

export function getTriggerCondition(status: TriggerStatus | undefined, type: TriggerConditionType): Condition | undefined {
  return findCondition(status, type);
}

/** `status` with `cond` set (see withCondition for when lastTransitionTime moves). */
export function setTriggerCondition(status: TriggerStatus, cond: TriggerCondition, now: Date): TriggerStatus {
  return withCondition(status, cond, now);
}

export function markFunctionFound(status: TriggerStatus, now: Date): TriggerStatus {
  return computeTriggerReady(setTriggerCondition(status, { type: 'FunctionFound', status: 'True' }, now), now);
}

export function markFunctionNotFound(status: TriggerStatus, message: string, now: Date): TriggerStatus {
  const cond: TriggerCondition = { type: 'FunctionFound', status: 'False', reason: REASON_FUNCTION_NOT_FOUND, message };
  return computeTriggerReady(setTriggerCondition(status, cond, now), now);
}

/** The durable consumer exists; its name is recorded in status.consumer. */
export function markConsumerReady(status: TriggerStatus, consumer: string, now: Date): TriggerStatus {
  return computeTriggerReady(setTriggerCondition({ ...status, consumer }, { type: 'ConsumerReady', status: 'True' }, now), now);
}

export function markConsumerNotReady(status: TriggerStatus, reason: string, message: string, now: Date): TriggerStatus {
  return computeTriggerReady(setTriggerCondition(status, { type: 'ConsumerReady', status: 'False', reason, message }, now), now);
}

/** The consumer is being created or NATS cannot be reached yet. */
export function markConsumerUnknown(status: TriggerStatus, reason: string, message: string, now: Date): TriggerStatus {
  return computeTriggerReady(setTriggerCondition(status, { type: 'ConsumerReady', status: 'Unknown', reason, message }, now), now);
}

/** `status` with Ready derived from FunctionFound and ConsumerReady. A missing function is reported first: it is the one a person fixes. */
export function computeTriggerReady(status: TriggerStatus, now: Date): TriggerStatus {
  const parts = [getTriggerCondition(status, 'FunctionFound'), getTriggerCondition(status, 'ConsumerReady')];
  const failed = parts.find((c) => c?.status === 'False');
  let ready: TriggerCondition;
  if (failed) {
    ready = { type: 'Ready', status: 'False', reason: failed.reason, message: failed.message };
  } else if (parts.every((c) => c?.status === 'True')) {
    ready = { type: 'Ready', status: 'True' };
  } else {
    const pending = parts.find((c) => c?.status === 'Unknown');
    ready = { type: 'Ready', status: 'Unknown', reason: pending?.reason ?? REASON_PENDING, message: pending?.message };
  }
  return setTriggerCondition(status, ready, now);
}

export function isTriggerReady(status: TriggerStatus | undefined): boolean {
  return getTriggerCondition(status, 'Ready')?.status === 'True';
}
