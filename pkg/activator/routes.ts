// Which function a request is for. By Host first (`<name>.<namespace>.<domain>`, also
// `<name>.<namespace>`, `<name>.<namespace>.svc` and `...svc.cluster.local`), then by path
// (`/<namespace>/<name>/...`, prefix stripped). A host that looks like a function address
// but names no known function falls through to path routing, so requests to the
// activator's own service name (`activator.kfn-system.svc`) can still use paths.
import { keyOf, type FunctionKey } from '../apis/meta.js';
import { DEFAULT_BALANCING, type Balancing } from './balancing.js';

export interface RouteConfig {
  /** Hard limit per replica; 0 = unlimited. */
  containerConcurrency: number;
  /** Longest a request may wait plus run. */
  timeoutMs: number;
  /** spec.retries.idempotent. Default false. */
  retryIdempotent?: boolean;
  /** spec.loadBalancing, compiled. Default DEFAULT_BALANCING. */
  balancing?: Balancing;
  /** The replicas speak HTTP/2 cleartext (spec.portName h2c), not HTTP/1.1. Default false. */
  h2c?: boolean;
}

export interface Route extends RouteConfig {
  retryIdempotent: boolean;
  balancing: Balancing;
  h2c: boolean;
  readonly key: FunctionKey;
  /** `namespace/name`, the map key and the label everywhere. */
  readonly id: string;
}

export interface ResolvedRoute {
  key: FunctionKey;
  route: Route;
  /** What the replica should see: origin-form, function prefix stripped for path routes. */
  path: string;
}

const CLUSTER_SUFFIXES = ['.svc.cluster.local', '.svc'];

export class RouteTable {
  private readonly routes = new Map<string, Route>();
  private readonly domainSuffix: string;

  constructor(domain = 'kfn.local') {
    this.domainSuffix = `.${domain.toLowerCase().replace(/^\.+|\.+$/g, '')}`;
  }

  get size(): number {
    return this.routes.size;
  }

  upsert(key: FunctionKey, config: RouteConfig): Route {
    const id = keyOf(key);
    const existing = this.routes.get(id);
    if (existing) {
      existing.containerConcurrency = config.containerConcurrency;
      existing.timeoutMs = config.timeoutMs;
      existing.retryIdempotent = config.retryIdempotent ?? false;
      existing.balancing = config.balancing ?? DEFAULT_BALANCING;
      existing.h2c = config.h2c === true;
      return existing;
    }
    // Every field named, not spread: a spread leaves them outside the object, 40 B more per route.
    const route: Route = {
      key: { namespace: key.namespace, name: key.name },
      id,
      containerConcurrency: config.containerConcurrency,
      timeoutMs: config.timeoutMs,
      retryIdempotent: config.retryIdempotent ?? false,
      balancing: config.balancing ?? DEFAULT_BALANCING,
      h2c: config.h2c === true,
    };
    this.routes.set(id, route);
    return route;
  }

  remove(key: FunctionKey): boolean {
    return this.routes.delete(keyOf(key));
  }

  get(id: string): Route | undefined {
    return this.routes.get(id);
  }

  resolve(hostHeader: string | undefined, url: string): ResolvedRoute | undefined {
    let host = hostHeader;
    let path = url;
    if (url.charCodeAt(0) !== 0x2f /* '/' */) {
      const abs = splitAbsoluteForm(url);
      if (!abs) return undefined;
      // RFC 9112 §3.2.2: with an absolute-form target, its authority replaces Host.
      host = abs.authority;
      path = abs.path;
    }
    if (host) {
      const id = functionIdFromHost(host, this.domainSuffix);
      const route = id === undefined ? undefined : this.routes.get(id);
      if (route) return { key: route.key, route, path };
    }
    const byPath = splitFunctionPath(path);
    if (!byPath) return undefined;
    const route = this.routes.get(byPath.id);
    return route ? { key: route.key, route, path: byPath.rest } : undefined;
  }

  /** For a 404: the function the request seems to name, if any, else what it asked for. */
  describeMiss(hostHeader: string | undefined, url: string): string {
    let host = hostHeader;
    let path = url;
    if (url.charCodeAt(0) !== 0x2f) {
      const abs = splitAbsoluteForm(url);
      if (!abs) return `no function for request target "${url}"`;
      host = abs.authority;
      path = abs.path;
    }
    const id = (host ? functionIdFromHost(host, this.domainSuffix) : undefined) ?? splitFunctionPath(path)?.id;
    if (id !== undefined) return `function ${id} not found`;
    return `no function for host "${host ?? ''}" and path "${path}": use Host <name>.<namespace>${this.domainSuffix} or path /<namespace>/<name>/`;
  }
}

/** `namespace/name` for a function-shaped host, else undefined. Port and case ignored. */
export function functionIdFromHost(hostHeader: string, domainSuffix: string): string | undefined {
  if (hostHeader.charCodeAt(0) === 0x5b /* '[' */) return undefined; // IPv6 literal
  let host = hostHeader;
  const colon = host.lastIndexOf(':');
  if (colon >= 0) host = host.slice(0, colon);
  host = host.toLowerCase();
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host.endsWith(domainSuffix)) {
    host = host.slice(0, host.length - domainSuffix.length);
  } else {
    for (const suffix of CLUSTER_SUFFIXES) {
      if (host.endsWith(suffix)) {
        host = host.slice(0, host.length - suffix.length);
        break;
      }
    }
  }
  const dot = host.indexOf('.');
  if (dot <= 0 || dot === host.length - 1 || host.indexOf('.', dot + 1) !== -1) return undefined;
  return `${host.slice(dot + 1)}/${host.slice(0, dot)}`;
}

/** `/ns/name/rest?q` → { id: 'ns/name', rest: '/rest?q' }; undefined when there are not two segments. */
export function splitFunctionPath(path: string): { id: string; rest: string } | undefined {
  if (path.charCodeAt(0) !== 0x2f) return undefined;
  const nsEnd = segmentEnd(path, 1);
  if (nsEnd === 1 || nsEnd >= path.length || path.charCodeAt(nsEnd) !== 0x2f) return undefined;
  const nameEnd = segmentEnd(path, nsEnd + 1);
  if (nameEnd === nsEnd + 1) return undefined;
  const id = `${path.slice(1, nsEnd)}/${path.slice(nsEnd + 1, nameEnd)}`;
  let rest = path.slice(nameEnd);
  if (rest.length === 0 || rest.charCodeAt(0) === 0x3f /* '?' */) rest = `/${rest}`;
  return { id, rest };
}

function segmentEnd(path: string, from: number): number {
  for (let i = from; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0x2f || c === 0x3f) return i;
  }
  return path.length;
}

const ABSOLUTE_FORM = /^https?:\/\/([^/?#]*)([^#]*)/i;

function splitAbsoluteForm(url: string): { authority: string; path: string } | undefined {
  const m = ABSOLUTE_FORM.exec(url);
  if (!m) return undefined;
  const rest = m[2] ?? '';
  return { authority: m[1] ?? '', path: rest.startsWith('/') ? rest : `/${rest}` };
}
