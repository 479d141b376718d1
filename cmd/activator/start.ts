// The activator on a cluster: Functions (routes, containerConcurrency, timeout) and the
// ready endpoints come from informers, through the ActivatorFeed that cuts each
// function's capacity down to this activator's share; stats go to the autoscaler over
// HTTP. Resolves once it listens; `done` settles after the signal aborted and
// everything drained.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { createActivator, listenActivator } from '../../pkg/activator/activator.js';
import { HttpStatSink } from '../../pkg/autoscaler/http.js';
import type { FunctionKey } from '../../pkg/apis/meta.js';
import { functionSubject } from '../../pkg/controller/events/subject.js';
import { noEvents, type EventRecorder } from '../../pkg/controller/events/types.js';
import { activationFailedNote, activationFailureOf, EVENT_ACTIVATION_FAILED } from '../../pkg/platform/kubernetes/activation-failure.js';
import { ActivatorFeed } from '../../pkg/platform/kubernetes/activator-feed.js';
import { functionInformer, functionKeyOf } from '../../pkg/platform/kubernetes/functions.js';
import { activatorPeers } from '../../pkg/platform/kubernetes/peers.js';
import { KubernetesEndpoints } from '../../pkg/platform/kubernetes/endpoints-watcher.js';
import type { Logger } from '../../pkg/shared/log.js';
import type { ActivatorSettings } from './flags.js';

export interface ClusterActivatorDeps {
  kubeConfig: KubeConfig;
  settings: ActivatorSettings;
  log: Logger;
  metrics?: Registry;
  signal: AbortSignal;
  /** ActivationFailed on the Functions; default none. */
  recorder?: EventRecorder;
  /** Sent on the activator's own calls (stats to the autoscaler), never on proxied requests. */
  userAgent?: string;
}

export interface ClusterActivator {
  port: number;
  done: Promise<void>;
}

export async function startClusterActivator(deps: ClusterActivatorDeps): Promise<ClusterActivator> {
  const { kubeConfig, settings, log, signal } = deps;
  const statSink = new HttpStatSink(settings.autoscalerUrl, { log: log.child({ component: 'stat-sink' }), ...(deps.userAgent ? { userAgent: deps.userAgent } : {}) });
  const recorder = deps.recorder ?? noEvents;
  // Set once the informer exists; requests (and so failures) come only after it synced.
  let uidOf: (key: FunctionKey) => string | undefined = () => undefined;

  const activator = createActivator({
    log,
    statSink,
    onActivationFailed: (key, failure, requests) => {
      const regarding = functionSubject(key, uidOf(key));
      // One record per refused request: the recorder counts them into one Event's series.
      for (let i = 0; i < requests; i++) recorder.record(regarding, 'Warning', EVENT_ACTIVATION_FAILED, 'Activate', activationFailedNote(failure));
    },
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    options: {
      domain: settings.domain,
      source: `activator/${settings.podName}`,
      ...(settings.queueDepth === undefined ? {} : { maxQueue: settings.queueDepth }),
    },
  });
  const feed = new ActivatorFeed(activator, settings.podName);
  const endpoints = new KubernetesEndpoints({ kubeConfig, log });
  const functions = functionInformer(kubeConfig, log, {
    upsert: (fn) => {
      const key = functionKeyOf(fn);
      if (key) {
        const serving = {
          containerConcurrency: fn.spec.containerConcurrency,
          timeoutSeconds: fn.spec.timeoutSeconds,
          portName: fn.spec.portName,
          retryIdempotent: fn.spec.retries?.idempotent ?? false,
          ...(fn.spec.loadBalancing ? { loadBalancing: fn.spec.loadBalancing } : {}),
        };
        feed.upsertFunction(key, serving, activationFailureOf(fn));
      }
    },
    remove: (key) => feed.removeFunction(key),
  });
  uidOf = (key) => functions.get(key.namespace, key.name)?.metadata?.uid;
  const peers = activatorPeers({
    kubeConfig,
    log,
    namespace: settings.namespace,
    service: settings.activatorService,
    onPeers: (names) => {
      log.info({ activators: names }, 'activator peers changed');
      feed.setPeers(names);
    },
  });
  endpoints.watchEndpoints((u) => feed.updateEndpoints(u));

  // Stops what started if start-up fails half way (a port in use, the signal).
  const abandon = new AbortController();
  const stop = AbortSignal.any([signal, abandon.signal]);
  const informers = [functions.start(stop), peers.start(stop)];
  let server;
  try {
    // Routes and endpoints first: a request taken before them would get a 404.
    await Promise.all([endpoints.start(stop), functions.synced, peers.synced]);
    server = await listenActivator(activator, { port: settings.port, host: settings.host }, signal);
  } catch (err) {
    abandon.abort();
    await Promise.allSettled([endpoints.close(), ...informers, statSink.close()]);
    throw err;
  }
  log.info({ host: settings.host, port: server.port }, 'activator listening');

  const done = (async () => {
    await activator.run(signal);
    await server.close();
    await activator.close();
    await Promise.allSettled([endpoints.close(), ...informers]);
    await statSink.close();
  })();
  return { port: server.port, done };
}
