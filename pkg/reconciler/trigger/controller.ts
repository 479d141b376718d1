// Wiring of the Trigger controller: informers for Triggers and Functions (all namespaces);
// a Trigger event enqueues that Trigger, a Function event the Triggers that point at it
// (a missing Function may have appeared, its delivery defaults may have changed). Every
// Trigger is also enqueued every resync period, to bring the dispatchers' counts into
// its status.
import { CustomObjectsApi, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../../apis/meta.js';
import { FUNCTION_PLURAL, type KfnFunction } from '../../apis/function/types.js';
import { TRIGGER_KIND, TRIGGER_PLURAL, type KfnTrigger } from '../../apis/trigger/types.js';
import { runController } from '../../controller/controller.js';
import { Informer } from '../../controller/informer.js';
import type { EventRecorder } from '../../controller/events/types.js';
import type { ControllerMetrics } from '../../controller/metrics.js';
import { objectKey, WorkQueue, type WorkQueueOptions } from '../../controller/queue.js';
import type { BackoffPolicy } from '../../shared/backoff.js';
import type { Logger } from '../../shared/log.js';
import type { TriggerJetStream } from './jetstream.js';
import { newTriggerReconciler, STREAM_KIND, triggerClient } from './reconciler.js';
import { DEFAULT_STREAM } from '../../events/jetstream/stream.js';

type TriggerObject = KfnTrigger & KubernetesObject;
type FunctionObject = KfnFunction & KubernetesObject;

export const DEFAULT_RESYNC_MS = 10_000;
/** NATS being down should not make a Trigger wait minutes once it is back: capped at 30 s. */
export const TRIGGER_RETRY_BACKOFF: BackoffPolicy = { kind: 'exponential', baseMs: 100, maxMs: 30_000 };

export interface TriggerControllerOptions {
  kubeConfig: KubeConfig;
  jetstream: TriggerJetStream;
  log: Logger;
  signal: AbortSignal;
  defaultStream?: string;
  ackWaitMs?: number;
  /** How often every Trigger is reconciled again to refresh its counts. */
  resyncMs?: number;
  queue?: WorkQueueOptions;
  metrics?: ControllerMetrics;
  informerBackoff?: BackoffPolicy;
  now?: () => Date;
  /** Where the Trigger's Events go; default none. */
  recorder?: EventRecorder;
}

/** The Triggers of `namespace` that deliver to Function `name`. */
export function triggersOfFunction(triggers: readonly KfnTrigger[], namespace: string | undefined, name: string): KfnTrigger[] {
  return triggers.filter((t) => (t.metadata.namespace ?? 'default') === (namespace ?? 'default') && t.spec?.function === name);
}

export interface TriggerInformers {
  triggers: Informer<TriggerObject>;
  functions: Informer<FunctionObject>;
  /** Queues a Trigger's key. */
  enqueue: (t: KfnTrigger) => void;
}

/**
 * Informers on every Trigger and Function, wired to `queue`: a Trigger's key on any
 * change to it, and the keys of a Function's Triggers on any change to the Function.
 */
export function triggerInformers(opts: { kubeConfig: KubeConfig; log: Logger; informerBackoff?: BackoffPolicy }, queue: WorkQueue): TriggerInformers {
  const { kubeConfig: kc, log } = opts;
  const custom = kc.makeApiClient(CustomObjectsApi);
  const common = { kubeConfig: kc, log, ...(opts.informerBackoff ? { restartBackoff: opts.informerBackoff } : {}) };
  const triggers = new Informer<TriggerObject>({
    ...common,
    name: 'triggers',
    path: `/apis/${GROUP}/${VERSION}/${TRIGGER_PLURAL}`,
    list: async () => (await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: TRIGGER_PLURAL })) as KubernetesListObject<TriggerObject>,
  });
  const functions = new Informer<FunctionObject>({
    ...common,
    name: 'functions',
    path: `/apis/${GROUP}/${VERSION}/${FUNCTION_PLURAL}`,
    list: async () => (await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: FUNCTION_PLURAL })) as KubernetesListObject<FunctionObject>,
  });
  const enqueue = (t: KfnTrigger): void => queue.add(objectKey(TRIGGER_KIND, t.metadata.namespace, t.metadata.name));
  const enqueueUsers = (fn: KfnFunction): void => {
    for (const t of triggersOfFunction(triggers.list(fn.metadata.namespace), fn.metadata.namespace, fn.metadata.name)) enqueue(t);
  };
  triggers.on('add', enqueue).on('update', enqueue).on('delete', enqueue);
  functions.on('add', enqueueUsers).on('update', enqueueUsers).on('delete', enqueueUsers);
  return { triggers, functions, enqueue };
}

/** Runs until `signal` aborts; resolves when every reconcile and watch has stopped. */
export async function runTriggerController(opts: TriggerControllerOptions): Promise<void> {
  const { log } = opts;
  const queue = new WorkQueue({
    retry: TRIGGER_RETRY_BACKOFF,
    ...opts.queue,
    onError: (key, err, retryInMs) => {
      log.warn({ key, err, retryInMs }, 'reconcile failed');
      opts.queue?.onError?.(key, err, retryInMs);
    },
  });
  const { triggers, functions, enqueue } = triggerInformers(opts, queue);

  // The default stream on its own too: repaired at start-up even with no Trigger on it.
  const enqueueStream = (): void => queue.add(objectKey(STREAM_KIND, undefined, opts.defaultStream ?? DEFAULT_STREAM));
  enqueueStream();
  const resync = setInterval(() => {
    for (const t of triggers.list()) enqueue(t);
    enqueueStream();
  }, opts.resyncMs ?? DEFAULT_RESYNC_MS);
  opts.signal.addEventListener('abort', () => clearInterval(resync), { once: true });

  const reconcile = newTriggerReconciler({
    triggers,
    functions,
    client: triggerClient(opts.kubeConfig.makeApiClient(CustomObjectsApi)),
    jetstream: opts.jetstream,
    log,
    ...(opts.defaultStream ? { defaultStream: opts.defaultStream } : {}),
    ...(opts.ackWaitMs ? { ackWaitMs: opts.ackWaitMs } : {}),
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.recorder ? { recorder: opts.recorder } : {}),
  });
  try {
    await runController({ name: 'trigger', informers: [triggers, functions], queue, reconcile, log, signal: opts.signal, ...(opts.metrics ? { metrics: opts.metrics } : {}) });
  } finally {
    clearInterval(resync);
  }
}
