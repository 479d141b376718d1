// The Events a Trigger reconcile records: transitions of its ConsumerReady condition, not
// its state, so a controller reconciling every 10 s writes nothing while nothing changes.
// Pure: the reconciler records what this returns once the status it describes is written.
import { API_VERSION } from '../../apis/meta.js';
import { getTriggerCondition } from '../../apis/trigger/lifecycle.js';
import { TRIGGER_KIND, type KfnTrigger, type TriggerStatus } from '../../apis/trigger/types.js';
import type { EventSubject, EventType } from '../../controller/events/types.js';
import { REASON_INVALID_SPEC } from '../../apis/trigger/status.js';

export const EVENT_CONSUMER_READY = 'ConsumerReady';
export const EVENT_CONSUMER_FAILED = 'ConsumerFailed';
export const EVENT_INVALID_SPEC = 'InvalidSpec';

export interface TriggerEvent {
  type: EventType;
  reason: string;
  action: string;
  note: string;
}

export function triggerSubject(t: KfnTrigger): EventSubject {
  return {
    apiVersion: API_VERSION,
    kind: TRIGGER_KIND,
    namespace: t.metadata.namespace ?? 'default',
    name: t.metadata.name,
    ...(t.metadata.uid ? { uid: t.metadata.uid } : {}),
  };
}

/**
 * ConsumerReady becoming True → Normal ConsumerReady; becoming False (or False for another
 * reason) → Warning ConsumerFailed, or Warning InvalidSpec when the spec is why (again
 * when the message changes: an edit that is still invalid says what is wrong now).
 */
export function triggerEvents(before: TriggerStatus | undefined, after: TriggerStatus): TriggerEvent[] {
  const was = getTriggerCondition(before, 'ConsumerReady');
  const now = getTriggerCondition(after, 'ConsumerReady');
  if (!now) return [];
  if (now.status === 'True') {
    if (was?.status === 'True') return [];
    return [{ type: 'Normal', reason: EVENT_CONSUMER_READY, action: 'EnsureConsumer', note: `durable consumer ${after.consumer ?? '(unnamed)'} is in place; events are delivered` }];
  }
  if (now.status !== 'False') return [];
  const message = now.message ?? '';
  if (now.reason === REASON_INVALID_SPEC) {
    if (was?.status === 'False' && was.reason === REASON_INVALID_SPEC && was.message === now.message) return [];
    return [{ type: 'Warning', reason: EVENT_INVALID_SPEC, action: 'Validate', note: `no consumer is made for an invalid Trigger: ${message}` }];
  }
  if (was?.status === 'False' && was.reason === now.reason) return [];
  return [{ type: 'Warning', reason: EVENT_CONSUMER_FAILED, action: 'EnsureConsumer', note: `${now.reason ?? 'Failed'}: ${message}` }];
}
