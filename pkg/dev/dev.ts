// `kfn dev`: every component of kfn in one process, each function replica a local
// process. The same activator, autoscaler and controller logic as on a cluster, with
// the local platform and an in-memory store behind them.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Registry } from 'prom-client';
import type { FunctionKey } from '../apis/meta.js';
import { createActivator, listenActivator } from '../activator/activator.js';
import { Autoscaler } from '../autoscaler/autoscaler.js';
import { autoscalerConfig, type AutoscalerConfig } from '../autoscaler/config.js';
import { LocalPlatform } from '../platform/local/index.js';
import type { Logger } from '../shared/log.js';
import { systemClock } from '../shared/clock.js';
import { buildAdminApp } from './admin.js';
import { DevController } from './controller.js';
import { ManifestDirLoader } from './loader.js';
import { FunctionStore } from './store.js';

export interface DevOptions {
  /** Folder of manifests to load and watch; undefined = start empty. */
  dir?: string;
  host: string;
  port: number;
  adminPort: number;
  domain: string;
  autoscaler: Partial<AutoscalerConfig>;
  /** Requests the activator buffers per function while it has no free replica. */
  queueDepth?: number;
  scanIntervalMs: number;
  log: Logger;
  metrics: Registry;
  signal: AbortSignal;
}

export interface DevHandle {
  activatorUrl: string;
  adminUrl: string;
  /** Resolves once everything has shut down after the signal aborted. */
  done: Promise<void>;
}

/** bin/ of this checkout or install: where `kfn-node-runtime` lives. */
export const runtimeBinDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin');

export async function startDev(opts: DevOptions): Promise<DevHandle> {
  const { log, metrics, signal } = opts;
  const store = new FunctionStore();
  const platform = new LocalPlatform({ log: log.child({ component: 'platform' }), runtimeBinDir });
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

  const admin = buildAdminApp({
    store,
    metrics,
    info: () => ({ activator: activatorUrl, domain: opts.domain, dir: opts.dir }),
  });
  await admin.listen({ port: opts.adminPort, host: opts.host });
  const adminAddr = admin.server.address();
  const adminPort = typeof adminAddr === 'object' && adminAddr ? adminAddr.port : opts.adminPort;
  const adminUrl = `http://${urlHost(opts.host)}:${adminPort}`;

  const loops: Promise<void>[] = [autoscaler.run(signal), activator.run(signal)];
  if (opts.dir) {
    const loader = new ManifestDirLoader(opts.dir, store, log.child({ component: 'loader' }));
    await loader.scan();
    loops.push(loader.watch(opts.scanIntervalMs, signal));
  }

  const done = (async () => {
    await Promise.allSettled(loops);
    controller.stop();
    await server.close();
    await platform.close();
    await admin.close();
    await activator.close();
  })();
  return { activatorUrl, adminUrl, done };
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
