// The dispatcher on a cluster: NATS (reconnecting for ever), the Dispatcher's delivery
// loops for the Triggers the informers say to serve, the HTTP event ingress, and the
// counts written to the stats bucket for the controller. Resolves once it listens;
// `done` settles after the signal aborted: the ingress stops taking events, deliveries
// in flight are handed back to JetStream, the last counts are written, NATS drains.
import type { KubeConfig } from '@kubernetes/client-node';
import { connect, type NatsConnection } from 'nats';
import type { Registry } from 'prom-client';
import { httpDeliverer } from '../../pkg/events/dispatcher/deliver-http.js';
import { Dispatcher } from '../../pkg/events/dispatcher/dispatcher.js';
import { openTriggerStats, TriggerStatsWriter } from '../../pkg/events/dispatcher/stats-kv.js';
import { buildIngress, kfnStreams } from '../../pkg/events/ingress/ingress.js';
import { sleep } from '../../pkg/shared/abort.js';
import { backoffDelay, type BackoffPolicy } from '../../pkg/shared/backoff.js';
import type { Logger } from '../../pkg/shared/log.js';
import { closeNats } from '../../pkg/shared/nats-close.js';
import type { DispatcherSettings } from './flags.js';
import { syncTriggers } from './triggers.js';

const CONNECT_BACKOFF: BackoffPolicy = { kind: 'exponential', baseMs: 250, maxMs: 10_000 };

export interface ClusterDispatcherDeps {
  kubeConfig: KubeConfig;
  settings: DispatcherSettings;
  log: Logger;
  metrics?: Registry;
  signal: AbortSignal;
  /** Names the dispatcher to NATS (connz) and on its deliveries. */
  userAgent?: string;
}

export interface ClusterDispatcher {
  /** The ingress port. */
  port: number;
  done: Promise<void>;
}

export async function startClusterDispatcher(deps: ClusterDispatcherDeps): Promise<ClusterDispatcher> {
  const { kubeConfig, settings, log, signal } = deps;
  const name = deps.userAgent ?? 'kfn-dispatcher';
  const nc = await connectNats(settings.natsUrl, name, log, signal);
  // Stopped before NATS was ever reachable: nothing started, nothing to drain.
  if (!nc) return { port: settings.port, done: Promise.resolve() };
  try {
    const js = nc.jetstream();
    const kv = await openTriggerStats(js, settings.streamReplicas);
    const dispatcher = new Dispatcher({
      nc,
      log,
      deliver: httpDeliverer(settings.activatorUrl, deps.userAgent ? { userAgent: deps.userAgent } : {}),
      streamName: settings.stream,
      ackWaitMs: settings.ackWaitMs,
      ...(deps.metrics ? { registry: deps.metrics } : {}),
    });
    const stats = new TriggerStatsWriter({ kv, source: dispatcher, instance: settings.instance, log, intervalMs: settings.statsIntervalMs });
    const ingress = buildIngress({
      nc,
      log: log.child({ component: 'ingress' }),
      maxBodyBytes: settings.maxEventBytes,
      streams: kfnStreams(settings.stream, dispatcher),
    });
    await ingress.listen({ port: settings.port, host: settings.host });
    const address = ingress.server.address();
    const port = typeof address === 'object' && address ? address.port : settings.port;
    log.info({ port, nats: settings.natsUrl, activator: settings.activatorUrl, stream: settings.stream, instance: settings.instance }, 'dispatcher started');

    const done = (async () => {
      const running = [dispatcher.run(signal), syncTriggers({ kubeConfig, dispatcher, defaultStream: settings.stream, log, signal }), stats.run(signal)];
      await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
      await ingress.close();
      const results = await Promise.allSettled(running);
      await stats.flush();
      await closeNats(nc, log);
      for (const r of results) if (r.status === 'rejected') throw r.reason;
    })();
    return { port, done };
  } catch (err) {
    // Start-up failed half way (the bucket refused, the port in use): nothing is delivering yet.
    await nc.close();
    throw err;
  }
}

/**
 * Connects, trying again with backoff until NATS answers (the connection then reconnects
 * by itself for ever) or `signal` aborts (undefined).
 */
async function connectNats(url: string, name: string, log: Logger, signal: AbortSignal): Promise<NatsConnection | undefined> {
  const servers = url.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (let failures = 1; ; failures++) {
    try {
      const nc = await connect({ servers, name, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
      log.info({ servers }, 'connected to NATS');
      return nc;
    } catch (err) {
      const retryInMs = backoffDelay(CONNECT_BACKOFF, failures);
      log.warn({ err, servers, retryInMs }, 'NATS is not reachable yet; retrying');
      await sleep(retryInMs, signal);
      if (signal.aborted) return undefined;
    }
  }
}
