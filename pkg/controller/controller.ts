// The loop every controller runs: start the informers (whose handlers feed the queue),
// wait until each has listed once, so a reconcile never acts on a half-filled cache, then
// drain the queue until the signal aborts.
import type { Logger } from '../shared/log.js';
import type { ControllerMetrics } from './metrics.js';
import type { Reconcile, WorkQueue } from './queue.js';

/** What the loop needs of an informer. */
export interface StartableInformer {
  readonly synced: Promise<void>;
  start(signal: AbortSignal): Promise<void>;
}

export interface ControllerOptions {
  /** For logs: `function`. */
  name: string;
  informers: readonly StartableInformer[];
  queue: WorkQueue;
  reconcile: Reconcile;
  log: Logger;
  signal: AbortSignal;
  metrics?: ControllerMetrics;
}

/** Resolves once the signal has aborted, every reconcile has finished and every watch is closed. */
export async function runController(opts: ControllerOptions): Promise<void> {
  const log = opts.log.child({ controller: opts.name });
  const informersDone = opts.informers.map((i) => i.start(opts.signal));
  try {
    await Promise.all(opts.informers.map((i) => i.synced));
  } catch {
    // Stopped before the caches filled: nothing to reconcile.
    await Promise.all(informersDone);
    return;
  }
  log.info('caches synced; reconciling');
  opts.metrics?.watchQueue(() => opts.queue.length);
  await opts.queue.run(async (key, signal) => {
    const started = performance.now();
    let result: 'success' | 'error' = 'error';
    try {
      await opts.reconcile(key, signal);
      result = 'success';
    } finally {
      const seconds = (performance.now() - started) / 1000;
      opts.metrics?.reconciled(result, seconds);
      log.debug({ key, ms: Math.round(seconds * 1000), result }, 'reconciled');
    }
  }, opts.signal);
  await Promise.all(informersDone);
  log.info('stopped');
}
