// Open watches and the retained write history they replay from; expiring it is how tests force
// the 410 Gone → relist path of an informer.
import type { ServerResponse } from 'node:http';
import type { ResourceType, StoreEvent, StoredObject, WatchEventType } from './types.js';
import type { ObjectStore } from './store.js';
import type { ObjectPredicate } from './selectors.js';
import { apiVersionOf, resourceKey } from './resources.js';
import { failure } from './status.js';

export interface WatchRequest {
  type: ResourceType;
  /** undefined: all namespaces (or a cluster-scoped type). */
  namespace: string | undefined;
  match: ObjectPredicate;
  /** As sent; '' or '0' means "start with the current state as ADDED events". */
  resourceVersion: string;
  timeoutSeconds?: number;
  allowBookmarks: boolean;
}

interface OpenWatch {
  req: WatchRequest;
  res: ServerResponse;
  timer?: NodeJS.Timeout;
}

export interface WatchHubOptions {
  /** Keep at most this many writes for replay; older resourceVersions then get 410. Default unbounded. */
  historyLimit?: number;
}

export class WatchHub {
  private readonly history: StoreEvent[] = [];
  /** A watch from a resourceVersion below this one gets 410 Gone. */
  private compactedRv = 0;
  private readonly open = new Set<OpenWatch>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: ObjectStore,
    private readonly opts: WatchHubOptions = {},
  ) {
    this.unsubscribe = store.onEvent((e) => this.record(e));
  }

  get openWatches(): number {
    return this.open.size;
  }

  private record(e: StoreEvent): void {
    this.history.push(e);
    const limit = this.opts.historyLimit;
    while (limit !== undefined && this.history.length > limit) {
      const dropped = this.history.shift();
      if (dropped) this.compactedRv = dropped.rv;
    }
    for (const w of this.open) this.deliver(w, e);
  }

  /**
   * Ends every open watch and forgets all history. The counter is bumped past every version a
   * client has seen, so a re-watch from any of them gets 410, while a fresh list's version is valid.
   */
  expire(): void {
    this.history.length = 0;
    this.compactedRv = this.store.bumpResourceVersion();
    this.closeAll();
  }

  /** Sends a BOOKMARK with the current resourceVersion to every watch that asked for them. */
  sendBookmarks(): void {
    for (const w of this.open) if (w.req.allowBookmarks) this.bookmark(w);
  }

  closeAll(): void {
    for (const w of [...this.open]) this.end(w);
  }

  dispose(): void {
    this.unsubscribe();
    this.closeAll();
  }

  /** Starts streaming; the caller has already validated the request and written nothing. */
  start(req: WatchRequest, res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    const w: OpenWatch = { req, res };
    res.on('close', () => this.forget(w));
    const from = req.resourceVersion === '' || req.resourceVersion === '0' ? undefined : Number(req.resourceVersion);
    if (from !== undefined && from < this.compactedRv) {
      const gone = failure(410, `too old resource version: ${from} (${this.compactedRv})`, 'Expired');
      this.write(w, 'ERROR', gone);
      res.end();
      return;
    }
    if (from === undefined) {
      for (const o of this.store.list(req.type, req.namespace, req.match)) this.write(w, 'ADDED', o);
    } else {
      for (const e of this.history) if (e.rv > from) this.deliver(w, e);
    }
    if (res.destroyed) return;
    this.open.add(w);
    if (req.timeoutSeconds !== undefined && req.timeoutSeconds > 0) {
      w.timer = setTimeout(() => {
        if (req.allowBookmarks) this.bookmark(w);
        this.end(w);
      }, req.timeoutSeconds * 1000);
    }
  }

  private deliver(w: OpenWatch, e: StoreEvent): void {
    const { req } = w;
    if (e.resourceKey !== resourceKey(req.type)) return;
    if (req.namespace !== undefined && e.object.metadata.namespace !== req.namespace) return;
    const now = req.match(e.object);
    const before = e.previous ? req.match(e.previous) : false;
    if (e.type === 'MODIFIED') {
      if (now && before) this.write(w, 'MODIFIED', e.object);
      else if (now) this.write(w, 'ADDED', e.object);
      else if (before) this.write(w, 'DELETED', e.object);
    } else if (now) {
      this.write(w, e.type, e.object);
    }
  }

  private bookmark(w: OpenWatch): void {
    this.write(w, 'BOOKMARK', { apiVersion: apiVersionOf(w.req.type), kind: w.req.type.kind, metadata: { resourceVersion: String(this.store.resourceVersion) } });
  }

  private write(w: OpenWatch, type: WatchEventType, object: StoredObject | object): void {
    if (!w.res.writableEnded && !w.res.destroyed) w.res.write(JSON.stringify({ type, object }) + '\n');
  }

  private end(w: OpenWatch): void {
    this.forget(w);
    if (!w.res.writableEnded) w.res.end();
  }

  private forget(w: OpenWatch): void {
    if (w.timer) clearTimeout(w.timer);
    this.open.delete(w);
  }
}
