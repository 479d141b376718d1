// One reconcile of one Trigger: validate it, find its Function, put its stream subjects
// and durable consumer in place, and report status with the counts the dispatchers
// wrote. Status is built in memory and written once, only when it changed.
//
// The controller owns consumers; the dispatchers only consume. A Trigger carries the
// kfn.dev/trigger finalizer from the moment its consumer may exist, so deleting it (even
// while the controller is down) ends with the consumer and its counts removed first.
import type { CustomObjectsApi } from '@kubernetes/client-node';
import type { KfnFunction } from '../../apis/function/types.js';
import { resolvedDelivery, withTriggerDefaults } from '../../apis/trigger/defaults.js';
import { TRIGGER_KIND, TRIGGER_PLURAL, type KfnTrigger } from '../../apis/trigger/types.js';
import { validateTrigger } from '../../apis/trigger/validation.js';
import { customObjectClient, type CustomObjectClient } from '../../controller/custom-objects.js';
import { noEvents, type EventRecorder } from '../../controller/events/types.js';
import { isNotFound } from '../../controller/errors.js';
import type { Lister } from '../../controller/informer.js';
import { writeStatus } from '../../controller/write-status.js';
import { parseObjectKey, type Reconcile } from '../../controller/queue.js';
import { consumerConfigFor, consumerNameFor, DEFAULT_ACK_WAIT_MS } from '../../events/jetstream/consumer.js';
import { describeError } from '../../shared/describe-error.js';
import type { Logger } from '../../shared/log.js';
import type { TriggerJetStream } from './jetstream.js';
import { triggerEvents, triggerSubject, type TriggerEvent } from './events.js';
import { DEFAULT_STREAM } from '../../events/jetstream/stream.js';
import { hasFinalizer, streamOf, subjectsOfStream, withFinalizer } from './names.js';
import { REASON_NATS_UNAVAILABLE, triggerStatus, type TriggerFacts } from '../../apis/trigger/status.js';

/** The Trigger's own API: a fresh read, the main resource (finalizers), the status subresource. */
export type TriggerClient = CustomObjectClient<KfnTrigger>;

export function triggerClient(api: CustomObjectsApi): TriggerClient {
  return customObjectClient<KfnTrigger>(api, TRIGGER_PLURAL);
}

export interface TriggerReconcilerDeps {
  triggers: Lister<KfnTrigger>;
  functions: Lister<KfnFunction>;
  client: TriggerClient;
  jetstream: TriggerJetStream;
  log: Logger;
  /** The stream of triggers without spec.stream. Default `KFN`. */
  defaultStream?: string;
  /** The consumers' ack wait; the dispatchers' --ack-wait must agree, or each side keeps resetting it. */
  ackWaitMs?: number;
  now?: () => Date;
  /** ConsumerReady, ConsumerFailed and InvalidSpec Events, on transitions. */
  recorder?: EventRecorder;
}

export function newTriggerReconciler(deps: TriggerReconcilerDeps): Reconcile {
  const now = deps.now ?? (() => new Date());
  const defaultStream = deps.defaultStream ?? DEFAULT_STREAM;
  const ackWaitMs = deps.ackWaitMs ?? DEFAULT_ACK_WAIT_MS;
  const recorder = deps.recorder ?? noEvents;

  /** The stream holds exactly what the Triggers in the lister need; also repairs one an older kfn damaged. */
  const syncStream = (stream: string): Promise<void> => deps.jetstream.syncStream(stream, subjectsOfStream(stream, deps.triggers.list(), defaultStream));

  return async function reconcile(key: string): Promise<void> {
    const { kind, namespace, name } = parseObjectKey(key);
    if (kind === STREAM_KIND) {
      await syncStream(name);
      return;
    }
    if (kind !== TRIGGER_KIND) return;
    const stored = deps.triggers.get(namespace, name);
    if (!stored) return;
    const log = deps.log.child({ trigger: `${namespace}/${name}`, fn: `${namespace}/${stored.spec.function}` });

    if (stored.metadata.deletionTimestamp) {
      await finalize(stored, log);
      return;
    }

    const invalid = validateTrigger(stored);
    if (invalid.length > 0) {
      log.warn({ invalid }, 'invalid spec; no consumer made or changed for it');
      await writeTriggerStatus(deps.client, stored, { invalid }, now, log, recorder);
      // What it asked of its stream before (say '>', from an older kfn) goes.
      if (!invalid.some((e) => e.field === 'spec.stream')) {
        await syncStream(streamOf(stored, defaultStream)).catch((err: unknown) => log.warn({ err }, 'removing the subjects of an invalid trigger from its stream failed'));
      }
      return;
    }
    const fn = deps.functions.get(namespace, stored.spec.function);
    if (!fn || fn.metadata.deletionTimestamp) {
      await writeTriggerStatus(deps.client, stored, { functionFound: false, consumer: { state: 'waitingForFunction' } }, now, log, recorder);
      return;
    }

    // The finalizer goes on before the consumer can exist, so no consumer outlives its Trigger.
    const current = hasFinalizer(stored) ? stored : await deps.client.replace(withFinalizer(stored, true));
    const stream = streamOf(current, defaultStream);
    const config = consumerConfigFor(withTriggerDefaults(current, fn), resolvedDelivery(current, fn), { ackWaitMs });
    let seen: TriggerFacts;
    let failure: unknown;
    try {
      // Computed from every Trigger on the stream, so a reconcile of one never drops another's subjects.
      await deps.jetstream.ensureConsumer(stream, subjectsOfStream(stream, [...deps.triggers.list().filter((t) => !sameTrigger(t, current)), current], defaultStream), config);
      seen = { functionFound: true, consumer: { state: 'ready', name: consumerNameFor(current) } };
      try {
        seen.counts = await deps.jetstream.readStats({ namespace, name });
      } catch (err) {
        log.warn({ err }, 'reading the trigger counts failed; status keeps the last ones');
      }
    } catch (err) {
      failure = err;
      seen = { functionFound: true, consumer: { state: 'failed', reason: REASON_NATS_UNAVAILABLE, message: describeError(err) } };
    }
    await writeTriggerStatus(deps.client, current, seen, now, log, recorder);
    // The status says what is wrong; the error makes the queue try again with backoff.
    if (failure) throw new Error(`${REASON_NATS_UNAVAILABLE}: trigger ${namespace}/${name}`, { cause: failure });
  };

  async function finalize(t: KfnTrigger, log: Logger): Promise<void> {
    if (!hasFinalizer(t)) return;
    const ns = t.metadata.namespace ?? 'default';
    // An invalid spec.stream never got a consumer; whatever one exists is on the default stream.
    const streamValid = !validateTrigger(t).some((e) => e.field === 'spec.stream');
    const stream = streamValid ? streamOf(t, defaultStream) : defaultStream;
    await deps.jetstream.removeConsumer(stream, consumerNameFor(t));
    // The lister still holds `t`, with its deletionTimestamp: subjectsOfStream leaves it out.
    await syncStream(stream);
    await deps.jetstream.purgeStats({ namespace: ns, name: t.metadata.name });
    try {
      await deps.client.replace(withFinalizer(t, false));
    } catch (err) {
      if (isNotFound(err)) return;
      throw new Error(`remove the finalizer of trigger ${ns}/${t.metadata.name}`, { cause: err });
    }
    log.info({ stream, consumer: consumerNameFor(t) }, 'trigger deleted; its consumer is removed');
  }
}

/**
 * The kind of a queue key that names a stream rather than a Trigger (`Stream//KFN`): the
 * controller queues the default stream at start and every resync, so a damaged stream is
 * repaired, and unneeded subjects removed, even when no Trigger is left to reconcile.
 */
export const STREAM_KIND = 'Stream';

function sameTrigger(a: KfnTrigger, b: KfnTrigger): boolean {
  return (a.metadata.namespace ?? 'default') === (b.metadata.namespace ?? 'default') && a.metadata.name === b.metadata.name;
}

/**
 * Writes the status for `seen` when it differs from the stored one (see writeStatus), and
 * then records the Events of the condition transitions it wrote. A write that fails
 * records nothing: the retry that writes it records them.
 */
async function writeTriggerStatus(client: TriggerClient, stored: KfnTrigger, seen: TriggerFacts, now: () => Date, log: Logger, recorder: EventRecorder): Promise<void> {
  let events: TriggerEvent[] = [];
  let about = stored;
  await writeStatus(
    client,
    stored,
    (t) => {
      const next = triggerStatus(t, seen, now());
      events = triggerEvents(t.status, next);
      about = t;
      return next;
    },
    `trigger ${stored.metadata.namespace ?? ''}/${stored.metadata.name}`,
    log,
  );
  for (const e of events) recorder.record(triggerSubject(about), e.type, e.reason, e.action, e.note);
}
