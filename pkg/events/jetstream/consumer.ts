// One durable pull consumer per Trigger. The consumer carries the limit the server
// enforces: how many events may be unacknowledged at once (maxInFlight, more for an
// ordered trigger: see maxAckPendingFor). How many times an event is attempted is the
// dispatcher's count alone: the consumer has no max_deliver, because JetStream silently
// stops handing out an event that reached it, and an attempt cut short (a shutdown, a lost
// connection) would then lose the event instead of dead-lettering it. Backoff between
// attempts is the dispatcher's nak delay, not the consumer's, so the policy stays in one place.
import {
  AckPolicy,
  DeliverPolicy,
  ReplayPolicy,
  nanos,
  type ConsumerConfig,
  type ConsumerInfo,
  type JetStreamManager,
} from 'nats';
import type { KfnTrigger } from '../../apis/trigger/types.js';
import { isNotFound } from './stream.js';

/** Long enough for ordinary deliveries; longer ones are kept alive with in-progress acks. */
export const DEFAULT_ACK_WAIT_MS = 30_000;

/**
 * Events an ordered trigger may hold parked behind busy keys, beyond its maxInFlight
 * deliveries: max(maxInFlight, ORDERED_PARK_MIN). Parked events do not deliver, so they
 * must not use up the ack-pending slots the other keys need; with this room a key
 * waiting for its retries holds up other keys only once this many events are parked
 * behind busy keys. The bound is also the memory one: at most maxInFlight +
 * max(maxInFlight, 100) events of a trigger are held in the dispatcher at once.
 */
export const ORDERED_PARK_MIN = 100;

/** The consumer's max_ack_pending: maxInFlight, plus room for parked events when the trigger is ordered. */
export function maxAckPendingFor(spec: { orderingKey?: string | undefined }, maxInFlight: number): number {
  return spec.orderingKey === undefined ? maxInFlight : maxInFlight + Math.max(maxInFlight, ORDERED_PARK_MIN);
}

export interface ConsumerLimits {
  retries: number;
  maxInFlight: number;
}

/**
 * `kfn_<namespace>_<name>`: NATS forbids `.` in consumer names and Kubernetes names
 * never contain `_`, so dots become underscores without two triggers colliding.
 */
export function consumerNameFor(trigger: Pick<KfnTrigger, 'metadata'>): string {
  const ns = trigger.metadata.namespace ?? 'default';
  return `kfn_${ns}_${trigger.metadata.name}`.replaceAll('.', '_');
}

export function consumerConfigFor(
  trigger: Pick<KfnTrigger, 'metadata' | 'spec'>,
  delivery: ConsumerLimits,
  opts: { ackWaitMs?: number } = {},
): ConsumerConfig {
  const name = consumerNameFor(trigger);
  return {
    durable_name: name,
    name,
    description: `kfn trigger ${trigger.metadata.namespace ?? 'default'}/${trigger.metadata.name}`,
    filter_subject: trigger.spec.subject,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(opts.ackWaitMs ?? DEFAULT_ACK_WAIT_MS),
    max_ack_pending: maxAckPendingFor(trigger.spec, delivery.maxInFlight),
    // Unlimited: see the top of this file.
    max_deliver: -1,
    deliver_policy: DeliverPolicy.All,
    replay_policy: ReplayPolicy.Instant,
  };
}

/**
 * Creates the consumer, or updates its limits. A changed filter subject cannot be
 * updated in place on every server version, so the consumer is recreated; the new one
 * starts with new messages, since older ones on the new subject were never this
 * trigger's.
 */
export async function ensureConsumer(jsm: JetStreamManager, stream: string, config: ConsumerConfig): Promise<ConsumerInfo> {
  const name = config.durable_name ?? config.name ?? '';
  let existing: ConsumerInfo | undefined;
  try {
    existing = await jsm.consumers.info(stream, name);
  } catch (err) {
    if (!isNotFound(err)) throw new Error(`consumer ${stream}/${name}: info`, { cause: err });
  }
  try {
    if (!existing) return await jsm.consumers.add(stream, config);
    if (existing.config.filter_subject !== config.filter_subject) {
      await jsm.consumers.delete(stream, name);
      return await jsm.consumers.add(stream, { ...config, deliver_policy: DeliverPolicy.New });
    }
    if (sameLimits(existing.config, config)) return existing;
    return await jsm.consumers.update(stream, name, {
      description: config.description,
      ack_wait: config.ack_wait,
      max_ack_pending: config.max_ack_pending,
      max_deliver: config.max_deliver,
    });
  } catch (err) {
    throw new Error(`consumer ${stream}/${name}: ${existing ? 'update' : 'create'}`, { cause: err });
  }
}

/** Deletes the consumer; a consumer that is already gone is not an error. */
export async function removeConsumer(jsm: JetStreamManager, stream: string, name: string): Promise<void> {
  try {
    await jsm.consumers.delete(stream, name);
  } catch (err) {
    if (!isNotFound(err)) throw new Error(`consumer ${stream}/${name}: delete`, { cause: err });
  }
}

function sameLimits(a: ConsumerConfig, b: ConsumerConfig): boolean {
  return a.ack_wait === b.ack_wait && a.max_ack_pending === b.max_ack_pending && a.max_deliver === b.max_deliver;
}
