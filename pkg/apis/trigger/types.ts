// The Trigger resource (kfn.dev/v1alpha1): binds a NATS subject (and optional
// CloudEvents attribute filters) to a function. The dispatcher turns each Trigger into
// one durable JetStream consumer and delivers matching events as CloudEvents over HTTP.
import type { Condition, ObjectMeta } from '../meta.js';
import type { Duration } from '../function/types.js';

export const TRIGGER_KIND = 'Trigger';
export const TRIGGER_PLURAL = 'triggers';

/** Matches a CloudEvents attribute (or extension) by exact value, prefix or suffix. */
export interface AttributeFilter {
  exact?: Record<string, string>;
  prefix?: Record<string, string>;
  suffix?: Record<string, string>;
}

export interface BackoffSpec {
  policy?: 'exponential' | 'linear';
  /** First retry delay. Default 1s. */
  delay?: Duration;
  /** Cap on any retry delay. Default 60s. */
  maxDelay?: Duration;
}

export interface DeliverySpec {
  /** Retries after the first attempt. Default 3, so 4 attempts in all. */
  retries?: number;
  backoff?: BackoffSpec;
  /** Longest one delivery may take. Default: the function's timeoutSeconds. */
  timeout?: Duration;
  /**
   * Most events in flight at once for this trigger. Default: the function's capacity,
   * containerConcurrency × scale.max when both are set, else 100.
   */
  maxInFlight?: number;
  /** Where events go after the last failed attempt, with headers saying why. */
  deadLetterSubject?: string;
}

export interface TriggerSpec {
  /** NATS subject; wildcards `*` (one token) and `>` (the rest) allowed. */
  subject: string;
  /** JetStream stream holding the subject. Default: kfn's own stream. */
  stream?: string;
  filter?: AttributeFilter;
  /** The function to deliver to, in the trigger's namespace. */
  function: string;
  /** Path on the function, default `/`. */
  path?: string;
  delivery?: DeliverySpec;
  /** If set, a 2xx response with a body is published here as a new CloudEvent. */
  reply?: { subject: string };
  /**
   * A CloudEvents extension attribute: events with the same value are delivered one at
   * a time, in order; different values run in parallel.
   */
  orderingKey?: string;
}

export interface TriggerStatus {
  observedGeneration?: number;
  consumer?: string;
  delivered?: number;
  retried?: number;
  deadLettered?: number;
  /** Events that failed for good with no dead-letter subject: terminated, logged with their id. */
  dropped?: number;
  conditions?: Condition[];
}

export interface KfnTrigger {
  apiVersion: string;
  kind: typeof TRIGGER_KIND;
  metadata: ObjectMeta;
  spec: TriggerSpec;
  status?: TriggerStatus;
}
