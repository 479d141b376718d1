// URL → what is addressed: a resource collection or item (with subresource), or a discovery document.
import type { ResourceType } from './types.js';
import type { ResourceRegistry } from './resources.js';
import { ApiError, failure } from './status.js';

export interface ResourceRoute {
  kind: 'resource';
  type: ResourceType;
  /** undefined for cluster-scoped types and for all-namespace collections. */
  namespace: string | undefined;
  name: string | undefined;
  subresource: 'status' | 'scale' | undefined;
}

export type Route =
  | ResourceRoute
  | { kind: 'versions' }
  | { kind: 'groups' }
  | { kind: 'resources'; group: string; version: string };

function notFound(): ApiError {
  return new ApiError(failure(404, 'the server could not find the requested resource', 'NotFound'));
}

/** /api/v1/..., /apis/{group}/{version}/...; then [namespaces/{ns}/]{resource}[/{name}[/{sub}]]. */
export function parseRoute(pathname: string, registry: ResourceRegistry): Route {
  const segs = pathname.split('/').filter((s) => s !== '').map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api') {
    if (segs.length === 1) return { kind: 'versions' };
    group = '';
    version = segs[1] ?? '';
    rest = segs.slice(2);
  } else if (segs[0] === 'apis') {
    if (segs.length === 1) return { kind: 'groups' };
    if (segs.length === 2) throw notFound();
    group = segs[1] ?? '';
    version = segs[2] ?? '';
    rest = segs.slice(3);
  } else {
    throw notFound();
  }
  if (rest.length === 0) return { kind: 'resources', group, version };

  let namespace: string | undefined;
  const nsType = rest[0] === 'namespaces' && rest.length >= 3 ? registry.lookup(group, version, rest[2] ?? '') : undefined;
  if (nsType?.namespaced) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource = '', name, sub, ...extra] = rest;
  const type = registry.lookup(group, version, resource);
  if (!type || extra.length > 0) throw notFound();
  if (type.namespaced !== (namespace !== undefined) && name !== undefined) throw notFound();
  if (sub !== undefined && !((sub === 'status' && type.statusSubresource) || (sub === 'scale' && type.scaleSubresource))) throw notFound();
  return { kind: 'resource', type, namespace, name, subresource: sub };
}
