// An informer for one resource: client-node's ListWatch (list, then watch from the list's
// resourceVersion, relist when the watch says 410 Gone) plus what it leaves to the
// caller: restarting after an error. A ListWatch that hits an error (the list failed,
// the watch was refused, the connection broke) reports it and stops; this is the one
// place that starts it again, after 1 s, 2 s, 4 s… up to 30 s. A restart resumes the
// watch from the last resourceVersion seen, so nothing is missed, or relists on 410.
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { BackoffPolicy } from '../shared/backoff.js';
import { backoffDelay } from '../shared/backoff.js';
import { deferred, sleep } from '../shared/abort.js';
import type { Logger } from '../shared/log.js';

export const INFORMER_RESTART_BACKOFF: BackoffPolicy = { kind: 'exponential', baseMs: 1000, maxMs: 30_000 };

export type InformerEvent = 'add' | 'update' | 'delete';

export interface InformerOptions<T extends KubernetesObject> {
  /** For logs: `functions`, `deployments`. */
  name: string;
  kubeConfig: KubeConfig;
  /** The collection to watch: `/apis/apps/v1/deployments` (all namespaces). */
  path: string;
  /** Lists the same collection with the same selector. */
  list: () => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  log: Logger;
  restartBackoff?: BackoffPolicy;
  /**
   * The server ends each watch after this long and it is reopened from the last
   * resourceVersion, so a connection that died silently (client-node sets no read
   * timeout) is noticed. Default: 5–10 min, spread as client-go spreads it.
   */
  watchTimeoutSeconds?: number;
}

/** The read side controllers use: the cache. */
export interface Lister<T> {
  get(namespace: string | undefined, name: string): T | undefined;
  list(namespace?: string): T[];
}

export class Informer<T extends KubernetesObject> implements Lister<T> {
  private readonly lw: ListWatch<T>;
  private readonly handlers: Record<InformerEvent, Array<(obj: T) => void>> = { add: [], update: [], delete: [] };
  private readonly syncedDeferred = deferred<void>();
  private readonly log: Logger;
  private onError: ((err: unknown) => void) | undefined;
  private running: Promise<void> | undefined;

  /** Resolves after the first complete list; rejects if stopped before that. */
  readonly synced: Promise<void>;

  constructor(private readonly opts: InformerOptions<T>) {
    this.log = opts.log.child({ informer: opts.name });
    // ListWatch builds the watch URL on top of `path`, keeping a query already on it.
    const timeout = opts.watchTimeoutSeconds ?? Math.round(300 + Math.random() * 300);
    const watchPath = `${opts.path}?timeoutSeconds=${timeout}&allowWatchBookmarks=true`;
    this.lw = new ListWatch<T>(watchPath, new Watch(opts.kubeConfig), opts.list, false, opts.labelSelector);
    this.synced = this.syncedDeferred.promise;
    // Nobody may be waiting when it is stopped before syncing.
    this.synced.catch(() => undefined);
    for (const event of ['add', 'update', 'delete'] as const) {
      this.lw.on(event, (obj: T) => this.emit(event, obj));
    }
    this.lw.on('error', (err?: unknown) => this.onError?.(err));
  }

  /** Handlers must be added before start() to see the initial list as adds. */
  on(event: InformerEvent, handler: (obj: T) => void): this {
    this.handlers[event].push(handler);
    return this;
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.lw.get(name, namespace);
  }

  list(namespace?: string): T[] {
    return [...this.lw.list(namespace)];
  }

  /** Lists and watches until `signal` aborts; resolves once the watch is closed. */
  start(signal: AbortSignal): Promise<void> {
    this.running ??= this.run(signal);
    return this.running;
  }

  private emit(event: InformerEvent, obj: T): void {
    for (const h of this.handlers[event]) {
      // A throwing handler would be swallowed by the watch's line parser, and would skip
      // the resourceVersion update: keep it here.
      try {
        h(obj);
      } catch (err) {
        this.log.error({ err, event, object: `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}` }, 'informer handler failed');
      }
    }
  }

  private async run(signal: AbortSignal): Promise<void> {
    const policy = this.opts.restartBackoff ?? INFORMER_RESTART_BACKOFF;
    const aborted = new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    let failures = 0;
    while (!signal.aborted) {
      const failed = deferred<unknown>();
      let errored = false;
      this.onError = (err) => {
        errored = true;
        failed.resolve(err);
      };
      try {
        await this.lw.start();
      } catch (err) {
        this.onError(err);
      }
      if (signal.aborted) break;
      if (!errored) {
        failures = 0;
        this.syncedDeferred.resolve();
      }
      const err = await Promise.race([failed.promise, aborted.then(() => undefined)]);
      if (signal.aborted) break;
      failures++;
      const delay = backoffDelay(policy, failures);
      this.log.warn({ err, retryInMs: delay }, 'list/watch failed; restarting');
      await sleep(delay, signal);
    }
    // Stopping aborts the watch request, which the ListWatch reports as one more error.
    this.onError = undefined;
    await this.lw.stop();
    this.syncedDeferred.reject(new Error(`informer ${this.opts.name} stopped`));
  }
}
