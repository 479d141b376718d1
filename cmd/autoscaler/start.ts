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
import { LeaderEndpoints, leaderEndpointProblem, type LeaderEndpoint } from '../../pkg/platform/kubernetes/leader-endpoints.js';
import { KubernetesScale } from '../../pkg/platform/kubernetes/scale.js';
import { KubernetesWorkloadStatuses } from '../../pkg/platform/kubernetes/workloads.js';
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
  const workloads = new KubernetesWorkloadStatuses({ kubeConfig, log });
  // Set once the autoscaler and the informer exist; only called after both do.
  let reasonOf: (key: FunctionKey) => string | undefined = () => undefined;
  let uidOf: (key: FunctionKey) => string | undefined = () => undefined;
  const scaleWriter = recordingScaleWriter(new KubernetesScale(kubeConfig), {
    recorder: deps.recorder ?? noEvents,
    currentScale: (key) => workloads.workloadStatus(key)?.desiredReplicas,
    reasonOf: (key) => reasonOf(key),
    uidOf: (key) => uidOf(key),
  });
  const autoscaler = new Autoscaler({
    config: autoscalerConfig(deps.config),
    scaleWriter,
    readyReplicas: (key) => workloads.workloadStatus(key)?.readyReplicas ?? 0,
    clock: systemClock,
    log,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  });
  // Functions of the first sync are taken over, not new: their Deployments already have
  // the scale the previous leader (or this one before a restart) wrote, and a term that
  // starts with empty windows must neither wake them to their initial scale nor shed
  // replicas for want of stats.
  let adopting = true;
  const functions = functionInformer(kubeConfig, log, {
    upsert: (fn) => {
      const key = functionKeyOf(fn);
      if (!key) return;
      const existing = adopting ? workloads.workloadStatus(key) : undefined;
      autoscaler.upsert(key, fn.spec, existing ? { scale: existing.desiredReplicas } : undefined);
    },
    remove: (key) => autoscaler.remove(key),
  });
  reasonOf = (key) => autoscaler.status(key)?.reason;
  uidOf = (key) => functions.get(key.namespace, key.name)?.metadata?.uid;
  const app = buildStatServer(autoscaler, { log });
  // Stops what started if start-up fails half way (a port in use, the signal).
  const abandon = new AbortController();
  const stop = AbortSignal.any([signal, abandon.signal]);
  let informer: Promise<void> | undefined;
  try {
    // Deployments before Functions: a function first seen with 0 ready replicas would be
    // decided from 0, and a restarted autoscaler must not snap a serving function down.
    await workloads.start(stop);
    informer = functions.start(stop);
    await functions.synced;
    adopting = false;
    await app.listen({ port: deps.port, host: deps.host ?? '0.0.0.0' });
  } catch (err) {
    abandon.abort();
    await Promise.allSettled([workloads.close(), informer, app.close()]);
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : deps.port;
  log.info({ port }, 'autoscaler taking stats');

  const done = (async () => {
    await autoscaler.run(signal);
    await app.close();
    await Promise.allSettled([workloads.close(), informer]);
  })();
  return { port, autoscaler, done };
}

export interface LeaderTermDeps extends ClusterAutoscalerDeps {
  /**
   * Where the Service's one endpoint should point while this term lasts: this pod. Without
   * it (outside a cluster, no POD_IP) stats reach this autoscaler only by its own address.
   */
  endpoint?: Omit<LeaderEndpoint, 'port'>;
}

/**
 * One leadership term: take stats, then point the autoscaler Service at this pod (only
 * once listening, so the first stat that arrives finds the server), scale until `signal`
 * aborts, and withdraw the endpoint if it still names this pod.
 */
export async function runLeaderTerm(deps: LeaderTermDeps): Promise<void> {
  const problem = deps.endpoint && leaderEndpointProblem({ ...deps.endpoint, port: deps.port || 1 });
  if (problem) throw new Error(`leader endpoint: ${problem}`);
  const scaler = await startClusterAutoscaler(deps);
  const endpoints = deps.endpoint ? new LeaderEndpoints({ kubeConfig: deps.kubeConfig, endpoint: { ...deps.endpoint, port: scaler.port }, log: deps.log }) : undefined;
  const published = endpoints?.publish(deps.signal);
  try {
    await scaler.done;
  } finally {
    await published;
    await endpoints?.withdraw();
  }
}
