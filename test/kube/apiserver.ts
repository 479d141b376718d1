// An in-process Kubernetes API server double on 127.0.0.1: the REST and watch protocol that
// @kubernetes/client-node speaks, over an in-memory store, so controllers run unchanged in tests.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject, ResourceType, StoreEvent, StoredObject } from './types.js';
import { DEFAULT_RESOURCES, ResourceRegistry, resourceKey } from './resources.js';
import { ObjectStore, type PropagationPolicy } from './store.js';
import { WatchHub } from './watch-hub.js';
import { Faults, type RequestRecord } from './faults.js';
import { handle, sendJson } from './handlers.js';
import { failure } from './status.js';

export type { KubeObject, ResourceType, StoredObject } from './types.js';
export type { RequestRecord } from './faults.js';

export interface ApiServerOptions {
  /** The bearer token clients must send; kubeConfig() carries it. */
  token?: string;
  /** Extra resource types to serve beside the defaults (core, apps, discovery, coordination, kfn.dev, CRDs). */
  resources?: readonly ResourceType[];
  /** Reject creates into a Namespace that does not exist. Default false. */
  requireNamespaces?: boolean;
  /** Writes retained for watch replay; older resourceVersions get 410. Default unbounded. */
  historyLimit?: number;
  /** Delay before every POST/PUT/PATCH/DELETE is applied. */
  writeLatencyMs?: number;
}

/**
 * Direct store access for tests, bypassing HTTP, auth and faults. `ref` names a resource as
 * 'deployments', 'deployments.apps' or 'functions.kfn.dev'. Writes emit watch events as usual;
 * update() may change status too (to play the part of another controller).
 */
export interface TestStore {
  get(ref: string, namespace: string | undefined, name: string): StoredObject | undefined;
  list(ref: string, namespace?: string): StoredObject[];
  create(ref: string, obj: KubeObject): StoredObject;
  update(ref: string, obj: KubeObject): StoredObject;
  delete(ref: string, namespace: string | undefined, name: string, policy?: PropagationPolicy): StoredObject;
  resourceVersion(): number;
  /** Every write from now on (HTTP or direct), as watches see it; returns the unsubscribe. */
  onWrite(listener: (e: StoreEvent) => void): () => void;
}

export interface ApiServer {
  readonly url: string;
  /** A KubeConfig for this server: plain http, skipTLSVerify, the fake token, namespace 'default'. */
  kubeConfig(): KubeConfig;
  readonly store: TestStore;
  /** The next `times` requests with this method ('*' any) whose path matches get a `status` failure (with `message`, else a generic one). */
  failNext(method: string, path: RegExp, status: number, times?: number, message?: string): void;
  setWriteLatency(ms: number): void;
  /** Every request served, oldest first. */
  readonly requests: readonly RequestRecord[];
  clearRequests(): void;
  /** Ends every open watch and drops history, so a re-watch from any seen resourceVersion gets 410. */
  expireWatches(): void;
  /** Sends a BOOKMARK to every open watch that allowed them. */
  sendBookmarks(): void;
  readonly openWatches: number;
  close(): Promise<void>;
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function testStore(registry: ResourceRegistry, store: ObjectStore): TestStore {
  const ns = (t: ResourceType, obj: KubeObject): string | undefined => (t.namespaced ? (obj.metadata?.namespace ?? 'default') : undefined);
  return {
    get: (ref, namespace, name) => store.get(registry.resolve(ref), namespace, name),
    list: (ref, namespace) => store.list(registry.resolve(ref), namespace),
    create: (ref, obj) => {
      const t = registry.resolve(ref);
      return store.create(t, ns(t, obj), obj, 'all');
    },
    update: (ref, obj) => {
      const t = registry.resolve(ref);
      return store.replace(t, ns(t, obj), obj.metadata?.name ?? '', obj, 'all');
    },
    delete: (ref, namespace, name, policy) => store.delete(registry.resolve(ref), namespace, name, policy),
    resourceVersion: () => store.resourceVersion,
    onWrite: (listener) => store.onEvent(listener),
  };
}

export async function startApiServer(opts: ApiServerOptions = {}): Promise<ApiServer> {
  const token = opts.token ?? 'kfn-test-token';
  const registry = new ResourceRegistry([...DEFAULT_RESOURCES, ...(opts.resources ?? [])]);
  const store = new ObjectStore(registry.lookup('', 'v1', 'namespaces'), (key) => registry.all().find((t) => resourceKey(t) === key), {
    requireNamespaces: opts.requireNamespaces ?? false,
  });
  const hub = new WatchHub(store, opts.historyLimit !== undefined ? { historyLimit: opts.historyLimit } : {});
  const faults = new Faults();
  faults.writeLatencyMs = opts.writeLatencyMs ?? 0;
  const ctx = { registry, store, hub };

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const record: RequestRecord = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      watch: url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1',
      status: 0,
    };
    faults.requests.push(record);
    try {
      if (req.headers.authorization !== `Bearer ${token}`) {
        sendJson(res, 401, failure(401, 'Unauthorized', 'Unauthorized'));
        return;
      }
      const injected = faults.take(method, url.pathname);
      if (injected) {
        req.resume();
        sendJson(res, injected.code, injected);
        return;
      }
      if (WRITES.has(method) && faults.writeLatencyMs > 0) await sleep(faults.writeLatencyMs);
      await handle(req, res, url, ctx);
    } finally {
      record.status = res.statusCode;
    }
  }

  const server = createServer((req, res) => {
    serve(req, res).catch((err: unknown) => res.destroy(err as Error));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'kfn-test', server: url, skipTLSVerify: true }],
        users: [{ name: 'kfn-test', token }],
        contexts: [{ name: 'kfn-test', cluster: 'kfn-test', user: 'kfn-test', namespace: 'default' }],
        currentContext: 'kfn-test',
      });
      return kc;
    },
    store: testStore(registry, store),
    failNext: (method, path, status, times = 1, message) => faults.failNext(method, path, status, times, message),
    setWriteLatency: (ms) => {
      faults.writeLatencyMs = ms;
    },
    requests: faults.requests,
    clearRequests: () => {
      faults.requests.length = 0;
    },
    expireWatches: () => hub.expire(),
    sendBookmarks: () => hub.sendBookmarks(),
    get openWatches() {
      return hub.openWatches;
    },
    async close() {
      hub.dispose();
      await new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
