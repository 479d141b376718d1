// The autoscaler's Events on a Function: ScaledFromZero and ScaledToZero, the two scale
// changes an operator looks for in `kubectl describe fn` (a cold start; an idle function
// let go). Other changes are routine and stay in the log and the metrics.
import type { FunctionKey } from '../apis/meta.js';
import { functionSubject } from '../controller/events/subject.js';
import type { EventRecorder } from '../controller/events/types.js';
import type { ScaleWriter } from './autoscaler.js';

export const EVENT_SCALED_FROM_ZERO = 'ScaledFromZero';
export const EVENT_SCALED_TO_ZERO = 'ScaledToZero';

/** The Event of a scale write from `from` (undefined: not known) to `to`, if it is one. */
export function scaleEvent(from: number | undefined, to: number, why: string | undefined): { reason: string; note: string } | undefined {
  const because = why ? `: ${why}` : '';
  if (from === 0 && to > 0) return { reason: EVENT_SCALED_FROM_ZERO, note: `replicas 0 → ${to}${because}` };
  if (from !== undefined && from > 0 && to === 0) return { reason: EVENT_SCALED_TO_ZERO, note: `replicas ${from} → 0${because}` };
  return undefined;
}

export interface ScaleEventDeps {
  recorder: EventRecorder;
  /** The scale the cluster has now (the Deployment's spec.replicas from the cache); undefined when unknown. */
  currentScale(key: FunctionKey): number | undefined;
  /** Why the autoscaler wants this scale (its last decision's reason). */
  reasonOf(key: FunctionKey): string | undefined;
  /** The Function's uid, so `kubectl describe fn` finds the Event (it selects on the uid). */
  uidOf(key: FunctionKey): string | undefined;
}

/**
 * `inner` that also records ScaledFromZero / ScaledToZero once a write from or to zero
 * succeeded. "From" is what the cluster had before the write, not what this autoscaler
 * last wrote, so a new leader's first write is judged right too.
 */
export function recordingScaleWriter(inner: ScaleWriter, deps: ScaleEventDeps): ScaleWriter {
  return {
    async setScale(key, n) {
      const from = deps.currentScale(key);
      const why = deps.reasonOf(key);
      await inner.setScale(key, n);
      const event = scaleEvent(from, n, why);
      if (event) deps.recorder.record(functionSubject(key, deps.uidOf(key)), 'Normal', event.reason, 'Scale', event.note);
    },
  };
}
