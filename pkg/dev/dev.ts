// `kfn dev`: every component of kfn in one process, each function replica a local
// process. The same activator, autoscaler, controller and dispatcher logic as on a
// cluster, with the local platform and in-memory stores behind them, and NATS from
// NATS_URL or a nats-server of its own.
import path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { fileURLToPath } from 'node:url';
import type { Registry } from 'prom-client';
import type { FunctionKey } from '../apis/meta.js';
import { createActivator, listenActivator, type Activator } from '../activator/activator.js';
import { Autoscaler } from '../autoscaler/autoscaler.js';
import { autoscalerConfig, type AutoscalerConfig } from '../autoscaler/config.js';
import { LocalPlatform } from '../platform/local/index.js';
import type { Logger } from '../shared/log.js';
import { systemClock } from '../shared/clock.js';
import { Dispatcher } from '../events/dispatcher/dispatcher.js';
import { activatorDeliverer } from './deliver-local.js';
import { buildIngress, DEFAULT_MAX_EVENT_BYTES, kfnStreams } from '../events/ingress/ingress.js';
import { DEFAULT_STREAM, DUPLICATE_WINDOW_MS } from '../events/jetstream/stream.js';
import { buildAdminApp } from './admin.js';
import { assertSafeListen } from './admin-access.js';
import { buildRuntimeMain } from './build-claim.js';
import { DevController } from './controller.js';
import { ManifestDirLoader } from './loader.js';
import { closeNats } from '../shared/nats-close.js';
import { NatsHealth, watchConnection } from './nats-health.js';
import { NatsServerMissingError, startEmbeddedNats, type EmbeddedNats } from './nats-server.js';
import { FunctionStore, TriggerStore } from './store.js';
import { DevTriggerController, type EventBus } from './triggers.js';

/** How often trigger status picks up the dispatcher's counters. */
const COUNTS_REFRESH_MS = 1000;

export interface DevOptions {
  /** Folder of manifests to load and watch; undefined = start empty. */
  dir?: string;
  host: string;
  port: number;
  adminPort: number;
  /** Bearer token the admin API requires; needed to listen beyond loopback. */
  adminToken?: string;
  /** Host names the admin API answers for besides the loopback ones. */
  adminAllowHosts?: readonly string[];
  domain: string;
  autoscaler: Partial<AutoscalerConfig>;
  /** Requests the activator buffers per function while it has no free replica. */
  queueDepth?: number;
  /** kfn-node-runtime processes the local platform keeps warm for cold starts. */
  warmRuntimes: number;
  /** Replicas of all functions together that may serve or start; undefined: no cap. */
  maxReplicas?: number;
  scanIntervalMs: number;
  /** NATS with JetStream to use; undefined = start nats-server with its data under stateDir. */
  natsUrl?: string;
  /** nats-server binary to start when natsUrl is unset; default: found on PATH. */
  natsServerBin?: string;
  /** kfn's state folder ($KFN_HOME). */
  stateDir: string;
  /** HTTP event ingress port. */
  eventsPort: number;
  /** JetStream's redelivery timer for trigger consumers (default 30s). */
  ackWaitMs?: number;
  /** Largest event the ingress accepts (default 1 MiB). */
  maxEventBytes?: number;
  log: Logger;
  metrics: Registry;
  signal: AbortSignal;
}

export interface DevHandle {
  activatorUrl: string;
  adminUrl: string;
  /** Undefined when the event bus could not start (see the log for why). */
  natsUrl?: string;
  ingressUrl?: string;
  /** Resolves once everything has shut down after the signal aborted. */
  done: Promise<void>;
}

/** bin/ of this checkout or install: where `kfn-node-runtime` lives. */
export const runtimeBinDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin');

export async function startDev(opts: DevOptions): Promise<DevHandle> {
  const { log, metrics, signal } = opts;
  // Before anything listens: an admin API open to the network must not even start.
  assertSafeListen(opts.host, opts.adminToken);
  const store = new FunctionStore();
  const triggers = new TriggerStore();
  const platform = new LocalPlatform({
    log: log.child({ component: 'platform' }),
    runtimeBinDir,
    // Replicas run the runtime of the build this kfn dev runs, even after `npm run build` swapped dist.
    runtimeEnv: { KFN_RUNTIME_MAIN: buildRuntimeMain },
    options: { warmRuntimes: opts.warmRuntimes, ...(opts.maxReplicas === undefined ? {} : { maxReplicas: opts.maxReplicas }) },
  });
  const readyReplicas = (key: FunctionKey): number => platform.workloadStatus(key)?.readyReplicas ?? 0;
  const autoscaler = new Autoscaler({
    config: autoscalerConfig(opts.autoscaler),
    scaleWriter: platform,
    readyReplicas,
    clock: systemClock,
    log: log.child({ component: 'autoscaler' }),
    metrics,
  });
  const activator = createActivator({
    log: log.child({ component: 'activator' }),
    statSink: autoscaler,
    metrics,
    options: { domain: opts.domain, ...(opts.queueDepth === undefined ? {} : { maxQueue: opts.queueDepth }) },
  });
  const server = await listenActivator(activator, { port: opts.port, host: opts.host }, signal);
  const activatorUrl = `http://${urlHost(opts.host)}:${server.port}`;

  const controller = new DevController({
    store,
    platform,
    routes: activator,
    scaler: autoscaler,
    log: log.child({ component: 'controller' }),
    urlFor: (key) => `${activatorUrl}/${key.namespace}/${key.name}/`,
  });
  autoscaler.onDecision((key) => controller.refreshStatus(key));
  controller.start();

  const events = await startEvents(opts, activator);
  const triggerController = new DevTriggerController({
    functions: store,
    triggers,
    bus: events.bus,
    streamName: DEFAULT_STREAM,
    duplicateWindowMs: DUPLICATE_WINDOW_MS,
    ...(events.health ? { nats: events.health } : {}),
    log: log.child({ component: 'triggers' }),
  });
  triggerController.start();
  const counts = setInterval(() => triggerController.refreshCounts(), COUNTS_REFRESH_MS);

  const admin = buildAdminApp({
    log: log.child({ component: 'admin' }),
    access: {
      listenHost: opts.host,
      ...(opts.adminToken === undefined ? {} : { token: opts.adminToken }),
      ...(opts.adminAllowHosts === undefined ? {} : { extraHosts: opts.adminAllowHosts }),
    },
    stores: { functions: store, triggers },
    metrics,
    info: () => ({
      activator: activatorUrl,
      domain: opts.domain,
      dir: opts.dir,
      nats: events.natsUrl,
      ingress: events.ingressUrl,
      // The nats-server kfn dev supervises (absent with NATS_URL, or while it restarts).
      natsPid: events.server?.pid,
      natsProblem: events.health?.current(),
    }),
    health: () => {
      const down = events.health?.current();
      return down ? [{ component: 'nats', ...down }] : [];
    },
  });
  await admin.listen({ port: opts.adminPort, host: opts.host });
  const adminAddr = admin.server.address();
  const adminPort = typeof adminAddr === 'object' && adminAddr ? adminAddr.port : opts.adminPort;
  const adminUrl = `http://${urlHost(opts.host)}:${adminPort}`;

  const loops: Promise<void>[] = [autoscaler.run(signal), activator.run(signal)];
  if (events.dispatcher) loops.push(events.dispatcher.run(signal));
  if (opts.dir) {
    const loader = new ManifestDirLoader(opts.dir, { functions: store, triggers }, log.child({ component: 'loader' }));
    await loader.scan();
    loops.push(loader.watch(opts.scanIntervalMs, signal));
  }

  const done = (async () => {
    // Deliveries in flight end (handed back to JetStream) before the activator goes.
    await Promise.allSettled(loops);
    clearInterval(counts);
    triggerController.stop();
    controller.stop();
    await events.close();
    await server.close();
    await platform.close();
    await admin.close();
    await activator.close();
    await events.stopServer();
  })();
  const handle: DevHandle = { activatorUrl, adminUrl, done };
  if (events.natsUrl) handle.natsUrl = events.natsUrl;
  if (events.ingressUrl) handle.ingressUrl = events.ingressUrl;
  return handle;
}

interface Events {
  bus: EventBus;
  dispatcher?: Dispatcher;
  /** Undefined when events are off. */
  health?: NatsHealth;
  server?: EmbeddedNats;
  natsUrl?: string;
  ingressUrl?: string;
  /** Closes the ingress and the NATS connection. */
  close(): Promise<void>;
  /** Stops the nats-server kfn dev started, if it did. */
  stopServer(): Promise<void>;
}

/**
 * NATS (NATS_URL, or a nats-server of our own), the dispatcher and the ingress. Without
 * nats-server installed, functions still serve: triggers say why they are not ready.
 */
async function startEvents(opts: DevOptions, activator: Activator): Promise<Events> {
  const log = opts.log.child({ component: 'events' });
  let server: EmbeddedNats | undefined;
  let url = opts.natsUrl;
  if (!url) {
    try {
      server = await startEmbeddedNats({
        dir: path.join(opts.stateDir, 'nats'),
        host: '127.0.0.1',
        log,
        ...(opts.natsServerBin === undefined ? {} : { bin: opts.natsServerBin }),
      });
      url = server.url;
    } catch (err) {
      if (!(err instanceof NatsServerMissingError)) throw err;
      log.warn(err.message);
      return { bus: { ok: false, reason: 'NatsServerMissing', message: err.message }, close: async () => {}, stopServer: async () => {} };
    }
  }
  const stopServer = async (): Promise<void> => {
    await server?.stop();
  };
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: url, name: 'kfn-dev', maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  } catch (err) {
    await stopServer();
    throw new Error(`cannot connect to NATS at ${url}: ${(err as Error).message}`, { cause: err });
  }
  const health = new NatsHealth(url, server?.state);
  server?.onState((s) => health.setServer(s));
  health.onChange((down) => {
    if (down) log.warn({ reason: down.reason }, `NATS unavailable: ${down.message}`);
    else log.info({ url }, 'NATS is available again');
  });
  const unwatch = new AbortController();
  const watching = watchConnection(nc, health, log, unwatch.signal).catch((err: unknown) => log.error({ err }, 'watching the NATS connection failed'));
  const dispatcher = new Dispatcher({
    nc,
    log: opts.log.child({ component: 'dispatcher' }),
    // In-process, through the same activator requests use.
    deliver: activatorDeliverer(activator),
    streamName: DEFAULT_STREAM,
    registry: opts.metrics,
    ...(opts.ackWaitMs === undefined ? {} : { ackWaitMs: opts.ackWaitMs }),
  });
  const ingress = buildIngress({
    nc,
    log: opts.log.child({ component: 'ingress' }),
    maxBodyBytes: opts.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES,
    streams: kfnStreams(DEFAULT_STREAM, dispatcher),
  });
  try {
    await ingress.listen({ port: opts.eventsPort, host: opts.host });
  } catch (err) {
    await nc.close();
    unwatch.abort();
    await watching;
    await stopServer();
    throw new Error(`event ingress: cannot listen on ${opts.host}:${opts.eventsPort}: ${(err as Error).message}`, { cause: err });
  }
  const addr = ingress.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.eventsPort;
  return {
    bus: { ok: true, jsm: await nc.jetstreamManager(), dispatcher },
    dispatcher,
    health,
    ...(server ? { server } : {}),
    natsUrl: url,
    ingressUrl: `http://${urlHost(opts.host)}:${port}`,
    async close() {
      await ingress.close();
      // Bounded: with NATS gone a drain would wait for a reconnect for ever.
      await closeNats(nc, log);
      unwatch.abort();
      await watching;
    },
    stopServer,
  };
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
