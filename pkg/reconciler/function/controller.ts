// Wiring of the Function controller: informers for Functions (all namespaces) and for the
// Deployments, Pods and Services kfn manages (by label), each event enqueueing the key of
// the Function it concerns; then the shared controller loop runs the reconciler.
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type V1Deployment,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';
import { GROUP, VERSION } from '../../apis/meta.js';
import { FUNCTION_KIND, FUNCTION_PLURAL, type KfnFunction } from '../../apis/function/types.js';
import { runController } from '../../controller/controller.js';
import type { EventRecorder } from '../../controller/events/types.js';
import type { ControllerMetrics } from '../../controller/metrics.js';
import { Informer } from '../../controller/informer.js';
import { objectKey, WorkQueue, type WorkQueueOptions } from '../../controller/queue.js';
import type { BackoffPolicy } from '../../shared/backoff.js';
import type { Logger } from '../../shared/log.js';
import type { ReconcilerConfig } from './config.js';
import { LABEL_FUNCTION, LABEL_MANAGED_BY, MANAGED_BY } from './names.js';
import { functionClient, newFunctionReconciler } from './reconciler.js';

/** client-node types metadata times as Dates; the JSON (and KfnFunction) has strings. */
type FunctionObject = KfnFunction & KubernetesObject;

export const MANAGED_SELECTOR = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;

export interface FunctionControllerOptions {
  kubeConfig: KubeConfig;
  cfg: ReconcilerConfig;
  log: Logger;
  signal: AbortSignal;
  queue?: WorkQueueOptions;
  metrics?: ControllerMetrics;
  /** How informers back off after an error; 1 s → 30 s by default. */
  informerBackoff?: BackoffPolicy;
  now?: () => Date;
  /** Events about Functions (created children, invalid specs, refused writes); none by default. */
  recorder?: EventRecorder;
}

/** The Function a child belongs to: its controller owner reference, else its function label (pods). */
export function owningFunctionKey(obj: KubernetesObject): string | undefined {
  const namespace = obj.metadata?.namespace;
  const owner = obj.metadata?.ownerReferences?.find((r) => r.controller && r.kind === FUNCTION_KIND && r.apiVersion.startsWith(`${GROUP}/`));
  if (owner) return objectKey(FUNCTION_KIND, namespace, owner.name);
  const label = obj.metadata?.labels?.[LABEL_FUNCTION];
  return label ? objectKey(FUNCTION_KIND, namespace, label) : undefined;
}

/** Runs until `signal` aborts; resolves when every reconcile and watch has stopped. */
export async function runFunctionController(opts: FunctionControllerOptions): Promise<void> {
  const { kubeConfig: kc, log } = opts;
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const common = { kubeConfig: kc, log, ...(opts.informerBackoff ? { restartBackoff: opts.informerBackoff } : {}) };

  const functions = new Informer<FunctionObject>({
    ...common,
    name: 'functions',
    path: `/apis/${GROUP}/${VERSION}/${FUNCTION_PLURAL}`,
    list: async () => (await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: FUNCTION_PLURAL })) as KubernetesListObject<FunctionObject>,
  });
  const deployments = new Informer<V1Deployment>({
    ...common,
    name: 'deployments',
    path: '/apis/apps/v1/deployments',
    labelSelector: MANAGED_SELECTOR,
    list: () => apps.listDeploymentForAllNamespaces({ labelSelector: MANAGED_SELECTOR }),
  });
  const services = new Informer<V1Service>({
    ...common,
    name: 'services',
    path: '/api/v1/services',
    labelSelector: MANAGED_SELECTOR,
    list: () => core.listServiceForAllNamespaces({ labelSelector: MANAGED_SELECTOR }),
  });
  const pods = new Informer<V1Pod>({
    ...common,
    name: 'pods',
    path: '/api/v1/pods',
    labelSelector: MANAGED_SELECTOR,
    list: () => core.listPodForAllNamespaces({ labelSelector: MANAGED_SELECTOR }),
  });

  const queue = new WorkQueue({
    ...opts.queue,
    onError: (key, err, retryInMs) => {
      log.warn({ key, err, retryInMs }, 'reconcile failed');
      opts.queue?.onError?.(key, err, retryInMs);
    },
  });
  const enqueueFunction = (fn: KfnFunction): void => queue.add(objectKey(FUNCTION_KIND, fn.metadata.namespace, fn.metadata.name));
  const enqueueOwner = (child: KubernetesObject): void => {
    const key = owningFunctionKey(child);
    if (key) queue.add(key);
  };
  functions.on('add', enqueueFunction).on('update', enqueueFunction).on('delete', enqueueFunction);
  for (const inf of [deployments, services, pods] as Array<Informer<KubernetesObject>>) {
    inf.on('add', enqueueOwner).on('update', enqueueOwner).on('delete', enqueueOwner);
  }

  const reconcile = newFunctionReconciler({
    functions,
    deployments,
    pods,
    childCache: {
      deployment: (ns, name) => deployments.get(ns, name),
      service: (ns, name) => services.get(ns, name),
    },
    apis: { apps, core },
    client: functionClient(custom),
    cfg: opts.cfg,
    log,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.recorder ? { recorder: opts.recorder } : {}),
  });
  await runController({ name: 'function', informers: [functions, deployments, services, pods], queue, reconcile, log, signal: opts.signal, ...(opts.metrics ? { metrics: opts.metrics } : {}) });
}
