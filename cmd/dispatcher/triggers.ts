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
import { triggerInformers, TRIGGER_RETRY_BACKOFF } from '../../pkg/reconciler/trigger/controller.js';
import { hasFinalizer } from '../../pkg/reconciler/trigger/names.js';
import type { BackoffPolicy } from '../../pkg/shared/backoff.js';
import type { Logger } from '../../pkg/shared/log.js';

/** The Function `t` delivers to, when the dispatcher should deliver for `t` at all. */
export function deliverableTarget(t: KfnTrigger | undefined, functions: Lister<KfnFunction>): KfnFunction | undefined {
  if (!t || t.metadata.deletionTimestamp || !hasFinalizer(t) || validateTrigger(t).length > 0) return undefined;
  const fn = functions.get(t.metadata.namespace, t.spec.function);
  return fn && !fn.metadata.deletionTimestamp ? fn : undefined;
}

export interface TriggerSyncOptions {
  kubeConfig: KubeConfig;
  dispatcher: Pick<Dispatcher, 'upsertTrigger' | 'forgetTrigger'>;
  log: Logger;
  signal: AbortSignal;
  informerBackoff?: BackoffPolicy;
}

/** Runs until `signal` aborts. A refused upsert (no stream holds the subject yet) is retried with backoff. */
export async function syncTriggers(opts: TriggerSyncOptions): Promise<void> {
  const { log, dispatcher } = opts;
  const queue = new WorkQueue({
    retry: TRIGGER_RETRY_BACKOFF,
    onError: (key, err, retryInMs) => log.warn({ key, err, retryInMs }, 'starting a trigger failed; retrying'),
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
    await dispatcher.upsertTrigger(t, fn);
  };
  await runController({ name: 'dispatcher', informers: [triggers, functions], queue, reconcile: sync, log, signal: opts.signal });
}
