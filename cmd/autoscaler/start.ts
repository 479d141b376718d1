// The autoscaler on a cluster, for one leadership term: Functions from an informer,
// ready replicas from the Deployments' status, the scale written through the scale
// subresource, activators' stats taken on an HTTP port (several activators' stats of one
// function are summed by source in its window). Resolves once it listens; `done`
// settles after `signal` aborted and the last writes finished.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { FunctionKey } from '../../pkg/apis/meta.js';
import { Autoscaler } from '../../pkg/autoscaler/autoscaler.js';
import { recordingScaleWriter } from '../../pkg/autoscaler/scale-events.js';
import { noEvents, type EventRecorder } from '../../pkg/controller/events/types.js';
import { autoscalerConfig, type AutoscalerConfig } from '../../pkg/autoscaler/config.js';
import { buildStatServer } from '../../pkg/autoscaler/http.js';
import { functionInformer, functionKeyOf } from '../../pkg/platform/kubernetes/functions.js';
import { KubernetesPlatform } from '../../pkg/platform/kubernetes/platform.js';
import { systemClock } from '../../pkg/shared/clock.js';
import type { Logger } from '../../pkg/shared/log.js';

export interface ClusterAutoscalerDeps {
  kubeConfig: KubeConfig;
  config: Partial<AutoscalerConfig>;
  port: number;
  host?: string;
  log: Logger;
  metrics?: Registry;
  signal: AbortSignal;
  /** ScaledFromZero / ScaledToZero on the Functions; default none. */
  recorder?: EventRecorder;
}

export interface ClusterAutoscaler {
  port: number;
  autoscaler: Autoscaler;
  done: Promise<void>;
}

export async function startClusterAutoscaler(deps: ClusterAutoscalerDeps): Promise<ClusterAutoscaler> {
  const { kubeConfig, log, signal } = deps;
  const platform = new KubernetesPlatform({ kubeConfig, log, watch: { workloads: true } });
  // Set once the autoscaler and the informer exist; only called after both do.
  let reasonOf: (key: FunctionKey) => string | undefined = () => undefined;
  let uidOf: (key: FunctionKey) => string | undefined = () => undefined;
  const scaleWriter = recordingScaleWriter(platform, {
    recorder: deps.recorder ?? noEvents,
    currentScale: (key) => platform.workloadStatus(key)?.desiredReplicas,
    reasonOf: (key) => reasonOf(key),
    uidOf: (key) => uidOf(key),
  });
  const autoscaler = new Autoscaler({
    config: autoscalerConfig(deps.config),
    scaleWriter,
    readyReplicas: (key) => platform.workloadStatus(key)?.readyReplicas ?? 0,
    clock: systemClock,
    log,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  });
  const functions = functionInformer(kubeConfig, log, {
    upsert: (fn) => {
      const key = functionKeyOf(fn);
      if (key) autoscaler.upsert(key, fn.spec);
    },
    remove: (key) => autoscaler.remove(key),
  });
  reasonOf = (key) => autoscaler.status(key)?.reason;
  uidOf = (key) => functions.get(key.namespace, key.name)?.metadata?.uid;
  const app = buildStatServer(autoscaler);
  // Stops what started if start-up fails half way (a port in use, the signal).
  const abandon = new AbortController();
  const stop = AbortSignal.any([signal, abandon.signal]);
  let informer: Promise<void> | undefined;
  try {
    // Deployments before Functions: a function first seen with 0 ready replicas would be
    // decided from 0, and a restarted autoscaler must not snap a serving function down.
    await platform.start(stop);
    informer = functions.start(stop);
    await functions.synced;
    await app.listen({ port: deps.port, host: deps.host ?? '0.0.0.0' });
  } catch (err) {
    abandon.abort();
    await Promise.allSettled([platform.close(), informer, app.close()]);
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : deps.port;
  log.info({ port }, 'autoscaler taking stats');

  const done = (async () => {
    await autoscaler.run(signal);
    await app.close();
    await Promise.allSettled([platform.close(), informer]);
  })();
  return { port, autoscaler, done };
}
