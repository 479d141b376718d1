// What a component tells an operator through Kubernetes Events (events.k8s.io/v1), as
// `kubectl describe` shows them. Callers only say what happened; the recorder behind this
// interface aggregates repeats and limits floods (see recorder.ts), and never throws or
// blocks a reconcile: an Event that cannot be written is logged and dropped.

export type EventType = 'Normal' | 'Warning';

/** The object an Event is about (`regarding` in events.k8s.io/v1). */
export interface EventSubject {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
}

export interface EventRecorder {
  /**
   * `reason` is CamelCase and machine-readable (`ScaledFromZero`); `action` is what the
   * component did or failed to do (`Scale`, `Apply`); `note` is for a person (≤ 1 kB).
   */
  record(regarding: EventSubject, type: EventType, reason: string, action: string, note: string): void;
}

/** For code paths (and tests) that have nowhere to record to. */
export const noEvents: EventRecorder = { record: () => undefined };
