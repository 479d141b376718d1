// Which Triggers this dispatcher delivers for, from informers on Triggers and Functions
// (all namespaces): a valid Trigger that the controller has taken in (it carries the
// kfn.dev/trigger finalizer, so its consumer is the controller's to remove) and whose
// Function exists. Anything else (gone, being deleted, invalid, no Function) is
// forgotten: its loop stops and its consumer stays, so events wait there.
import type { KubeConfig } from '@kubernetes/client-node';
import type { KfnFunction } from '../../pkg/apis/function/types.js';
import type { KfnTrigger } from '../../pkg/apis/trigger/types.js';
import { validateTrigger } from '../../pkg/apis/trigger/validation.js';
import { runController } from '../../pkg/controller/controller.js';
import type { Lister } from '../../pkg/controller/informer.js';
import { parseObjectKey, WorkQueue, type Reconcile } from '../../pkg/controller/queue.js';
import type { Dispatcher } from '../../pkg/events/dispatcher/dispatcher.js';
import { isStreamNotFound } from '../../pkg/events/jetstream/stream.js';
import { triggerInformers, TRIGGER_RETRY_BACKOFF } from '../../pkg/reconciler/trigger/controller.js';
import { hasFinalizer } from '../../pkg/reconciler/trigger/names.js';
import type { BackoffPolicy } from '../../pkg/shared/backoff.js';
import { systemClock, type Clock } from '../../pkg/shared/clock.js';
import type { Logger } from '../../pkg/shared/log.js';

/** The Function `t` delivers to, when the dispatcher should deliver for `t` at all. */
export function deliverableTarget(t: KfnTrigger | undefined, functions: Lister<KfnFunction>): KfnFunction | undefined {
  if (!t || t.metadata.deletionTimestamp || !hasFinalizer(t) || validateTrigger(t).length > 0) return undefined;
  const fn = functions.get(t.metadata.namespace, t.spec.function);
  return fn && !fn.metadata.deletionTimestamp ? fn : undefined;
}

/**
 * How long a Trigger's stream may be missing before the dispatcher says so at warn. The
 * controller makes the stream after it puts the finalizer on, which is when the
 * dispatcher starts serving the Trigger: usually milliseconds, longer across a
 * controller failover. Longer still means the controller is not making it (down, no
 * NATS, or a --stream that does not agree with the dispatcher's).
 */
export const STREAM_WAIT_WARN_MS = 60_000;

export interface TriggerSyncOptions {
  kubeConfig: KubeConfig;
  dispatcher: Pick<Dispatcher, 'upsertTrigger' | 'forgetTrigger'>;
  /** The stream of Triggers without spec.stream (the dispatcher's --stream). */
  defaultStream: string;
  log: Logger;
  signal: AbortSignal;
  informerBackoff?: BackoffPolicy;
  clock?: Clock;
  /** Default STREAM_WAIT_WARN_MS. */
  streamWaitWarnMs?: number;
}

/** A trigger whose stream the controller has not made yet: a state, retried quietly. */
class StreamNotThereYet extends Error {
  override readonly name = 'StreamNotThereYet';
  constructor(
    readonly stream: string,
    cause: unknown,
  ) {
    super(`stream ${stream} does not exist yet`, { cause });
  }
}

/**
 * Runs until `signal` aborts. A refused upsert is retried with backoff (at most
 * TRIGGER_RETRY_BACKOFF's 30 s apart); one refused because its stream does not exist yet
 * says so once per stream at info, and at warn only if that lasts STREAM_WAIT_WARN_MS.
 */
export async function syncTriggers(opts: TriggerSyncOptions): Promise<void> {
  const { log, dispatcher } = opts;
  const clock = opts.clock ?? systemClock;
  const warnAfterMs = opts.streamWaitWarnMs ?? STREAM_WAIT_WARN_MS;
  /** Streams waited for: since when, and whether the warn line went out. */
  const waiting = new Map<string, { since: number; warned: boolean }>();
  const queue = new WorkQueue({
    retry: TRIGGER_RETRY_BACKOFF,
    onError: (key, err, retryInMs) => {
      if (!(err instanceof StreamNotThereYet)) {
        log.warn({ key, err, retryInMs }, 'starting a trigger failed; retrying');
        return;
      }
      const w = waiting.get(err.stream);
      if (!w) {
        waiting.set(err.stream, { since: clock.now(), warned: false });
        log.info({ stream: err.stream, key }, `waiting for stream ${err.stream}: the controller creates it`);
      } else if (!w.warned && clock.now() - w.since >= warnAfterMs) {
        w.warned = true;
        log.warn({ stream: err.stream, key, waitedMs: clock.now() - w.since }, `stream ${err.stream} still does not exist; is the controller running, with the same --stream?`);
      } else {
        log.debug({ stream: err.stream, key, retryInMs }, `still waiting for stream ${err.stream}`);
      }
    },
  });
  const { triggers, functions } = triggerInformers(opts, queue);

  const sync: Reconcile = async (key) => {
    const { namespace, name } = parseObjectKey(key);
    const t = triggers.get(namespace, name);
    const fn = deliverableTarget(t, functions);
    if (!t || !fn) {
      await dispatcher.forgetTrigger({ namespace, name });
      return;
    }
    const stream = t.spec.stream ?? opts.defaultStream;
    try {
      await dispatcher.upsertTrigger(t, fn);
    } catch (err) {
      if (isStreamNotFound(err)) throw new StreamNotThereYet(stream, err);
      throw err;
    }
    if (waiting.delete(stream)) log.info({ stream }, `stream ${stream} is there`);
  };
  await runController({ name: 'dispatcher', informers: [triggers, functions], queue, reconcile: sync, log, signal: opts.signal });
}
