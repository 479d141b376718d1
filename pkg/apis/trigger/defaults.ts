// Defaults a Trigger gets before the dispatcher acts on it. Unlike a Function's, some
// depend on the function it delivers to: a delivery may take as long as the function
// allows a request, and as many events may be in flight as the function can serve at once.
import type { BackoffPolicy } from '../../shared/backoff.js';
import { parseDuration } from '../../shared/duration.js';
import type { KfnFunction } from '../function/types.js';
import type { KfnTrigger } from './types.js';

export const DEFAULT_NAMESPACE = 'default';
export const DEFAULT_PATH = '/';
/** Retries after the first attempt, so 4 attempts in all. */
export const DEFAULT_RETRIES = 3;
export const DEFAULT_BACKOFF_POLICY = 'exponential';
export const DEFAULT_BACKOFF_DELAY = '1s';
export const DEFAULT_BACKOFF_MAX_DELAY = '60s';
/** When the function sets no timeoutSeconds, or is not known yet. Matches the Function's default. */
export const DEFAULT_TIMEOUT_SECONDS = 300;
/** When the function's capacity is unbounded or unknown. */
export const DEFAULT_MAX_IN_FLIGHT = 100;
/** The most spec.delivery.maxInFlight may be; a default from a large function is capped here too. */
export const MAX_IN_FLIGHT_LIMIT = 10000;

/** Delivery settings in numbers, ready for the dispatcher's consumer and retry loop. */
export interface ResolvedDelivery {
  retries: number;
  backoff: BackoffPolicy;
  timeoutMs: number;
  maxInFlight: number;
  deadLetterSubject?: string;
}

/**
 * A copy of `t` with every unset defaulted field filled in; `t` and `fn` are not changed.
 * `fn` is the function the trigger delivers to, when it is known.
 */
export function withTriggerDefaults(t: KfnTrigger, fn?: KfnFunction): KfnTrigger {
  const delivery = t.spec.delivery ?? {};
  const backoff = delivery.backoff ?? {};
  return {
    ...t,
    metadata: { ...t.metadata, namespace: t.metadata.namespace || DEFAULT_NAMESPACE },
    spec: {
      ...t.spec,
      path: t.spec.path ?? DEFAULT_PATH,
      delivery: {
        ...delivery,
        retries: delivery.retries ?? DEFAULT_RETRIES,
        backoff: {
          ...backoff,
          policy: backoff.policy ?? DEFAULT_BACKOFF_POLICY,
          delay: backoff.delay ?? DEFAULT_BACKOFF_DELAY,
          maxDelay: backoff.maxDelay ?? DEFAULT_BACKOFF_MAX_DELAY,
        },
        timeout: delivery.timeout ?? `${fn?.spec.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS}s`,
        maxInFlight: delivery.maxInFlight ?? functionCapacity(fn) ?? DEFAULT_MAX_IN_FLIGHT,
      },
    },
  };
}

/**
 * The trigger's delivery settings, defaulted, with durations in milliseconds. Throws on
 * a duration that does not parse, which a validated trigger never has.
 */
export function resolvedDelivery(t: KfnTrigger, fn?: KfnFunction): ResolvedDelivery {
  const delivery = withTriggerDefaults(t, fn).spec.delivery ?? {};
  const backoff = delivery.backoff ?? {};
  const resolved: ResolvedDelivery = {
    retries: delivery.retries ?? DEFAULT_RETRIES,
    backoff: {
      kind: backoff.policy ?? DEFAULT_BACKOFF_POLICY,
      baseMs: ms('spec.delivery.backoff.delay', backoff.delay ?? DEFAULT_BACKOFF_DELAY),
      maxMs: ms('spec.delivery.backoff.maxDelay', backoff.maxDelay ?? DEFAULT_BACKOFF_MAX_DELAY),
    },
    timeoutMs: ms('spec.delivery.timeout', delivery.timeout ?? `${DEFAULT_TIMEOUT_SECONDS}s`),
    maxInFlight: delivery.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT,
  };
  if (delivery.deadLetterSubject !== undefined) resolved.deadLetterSubject = delivery.deadLetterSubject;
  return resolved;
}

/**
 * What the function can serve at once: containerConcurrency × scale.max, e.g. 10 per
 * replica × 5 replicas = 50. Undefined when either is 0 or unset (no bound), since
 * then nothing tells how many events it can take.
 */
function functionCapacity(fn: KfnFunction | undefined): number | undefined {
  const perReplica = fn?.spec.containerConcurrency ?? 0;
  const replicas = fn?.spec.scale?.max ?? 0;
  return perReplica > 0 && replicas > 0 ? Math.min(perReplica * replicas, MAX_IN_FLIGHT_LIMIT) : undefined;
}

function ms(field: string, d: string): number {
  const out = parseDuration(d);
  if (out === undefined) throw new Error(`${field}: not a duration: ${JSON.stringify(d)}; validate the trigger first`);
  return out;
}
