// The HTTP face: decode a request, run it against the store or the watch hub, encode the answer.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject, StoredObject } from './types.js';
import type { ResourceRegistry } from './resources.js';
import type { ObjectStore, PropagationPolicy, WriteScope } from './store.js';
import type { WatchHub } from './watch-hub.js';
import { apiVersionOf } from './resources.js';
import { parseRoute, type ResourceRoute, type Route } from './routes.js';
import { both, parseFieldSelector, parseLabelSelector, type ObjectPredicate } from './selectors.js';
import { applyPatch, PATCH_CONTENT_TYPES } from './patch.js';
import { scaleOf, withScale } from './scale.js';
import { recordUpdate, serverSideApply } from './managed-fields.js';
import { ApiError, errors, failure, success } from './status.js';

export interface HandlerContext {
  registry: ResourceRegistry;
  store: ObjectStore;
  hub: WatchHub;
}

interface Reply {
  status: number;
  body: unknown;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw errors.badRequest(`invalid JSON body: ${(cause as Error).message}`);
  }
}

function asObject(body: unknown): KubeObject {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('request body must be a JSON object');
  return body as KubeObject;
}

function isTrue(v: string | null): boolean {
  return v === 'true' || v === '1';
}

function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? 'application/json').split(';')[0]?.trim().toLowerCase() ?? '';
}

function selectorOf(q: URLSearchParams, name: string | undefined): ObjectPredicate {
  const labels = parseLabelSelector(q.get('labelSelector'));
  const fields = parseFieldSelector(q.get('fieldSelector'));
  const byName: ObjectPredicate = name === undefined ? () => true : (o) => o.metadata?.name === name;
  return both(both(labels, fields), byName);
}

function discovery(route: Route, ctx: HandlerContext): Reply {
  switch (route.kind) {
    case 'versions':
      return { status: 200, body: { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] } };
    case 'groups': {
      const groups = new Map<string, string>();
      for (const t of ctx.registry.all()) if (t.group !== '') groups.set(t.group, t.version);
      const list = [...groups].map(([name, version]) => {
        const gv = { groupVersion: `${name}/${version}`, version };
        return { name, versions: [gv], preferredVersion: gv };
      });
      return { status: 200, body: { kind: 'APIGroupList', apiVersion: 'v1', groups: list } };
    }
    case 'resources': {
      const types = ctx.registry.inGroupVersion(route.group, route.version);
      if (types.length === 0) throw new ApiError(failure(404, 'the server could not find the requested resource', 'NotFound'));
      const verbs = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
      const resources = types.flatMap((t) => [
        { name: t.resource, singularName: t.kind.toLowerCase(), namespaced: t.namespaced, kind: t.kind, verbs },
        ...(t.statusSubresource ? [{ name: `${t.resource}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] }] : []),
        ...(t.scaleSubresource ? [{ name: `${t.resource}/scale`, singularName: '', namespaced: t.namespaced, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] }] : []),
      ]);
      const groupVersion = route.group === '' ? route.version : `${route.group}/${route.version}`;
      return { status: 200, body: { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources } };
    }
    default:
      throw new Error('unreachable');
  }
}

const APPLY_CONTENT_TYPE = 'application/apply-patch+yaml';

/**
 * Who a non-apply write is from, for managedFields: ?fieldManager, else the User-Agent's
 * product name as the real server takes it ('kubectl', 'node-fetch').
 */
function managerOf(req: IncomingMessage, q: URLSearchParams): string {
  const named = q.get('fieldManager');
  if (named) return named;
  const agent = req.headers['user-agent'] ?? '';
  return agent.split('/')[0]?.trim() || 'unknown';
}

function scopeOf(route: ResourceRoute): WriteScope {
  return route.subresource === 'status' ? 'status' : 'main';
}

function requireName(route: ResourceRoute): string {
  if (route.name === undefined) throw new ApiError(failure(405, 'the server does not allow this method on the requested resource', 'MethodNotAllowed'));
  return route.name;
}

function view(route: ResourceRoute, obj: StoredObject): unknown {
  return route.subresource === 'scale' ? scaleOf(obj) : obj;
}

function list(route: ResourceRoute, q: URLSearchParams, ctx: HandlerContext): Reply {
  const { type } = route;
  const items = ctx.store.list(type, route.namespace, selectorOf(q, undefined));
  return {
    status: 200,
    body: { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata: { resourceVersion: String(ctx.store.resourceVersion) }, items },
  };
}

function startWatch(route: ResourceRoute, q: URLSearchParams, res: ServerResponse, ctx: HandlerContext): void {
  const rv = q.get('resourceVersion') ?? '';
  if (rv !== '' && !/^\d+$/.test(rv)) throw errors.badRequest(`invalid resourceVersion ${JSON.stringify(rv)}`);
  const timeout = q.get('timeoutSeconds');
  ctx.hub.start(
    {
      type: route.type,
      namespace: route.namespace,
      match: selectorOf(q, route.name),
      resourceVersion: rv,
      ...(timeout !== null ? { timeoutSeconds: Number(timeout) } : {}),
      allowBookmarks: isTrue(q.get('allowWatchBookmarks')),
    },
    res,
  );
}

async function write(route: ResourceRoute, req: IncomingMessage, q: URLSearchParams, ctx: HandlerContext): Promise<Reply> {
  const { type, namespace } = route;
  const { store } = ctx;
  switch (req.method) {
    case 'POST': {
      if (route.name !== undefined) throw new ApiError(failure(405, 'POST is not allowed on a named resource', 'MethodNotAllowed'));
      const body = asObject(await readBody(req));
      return { status: 201, body: store.create(type, namespace, recordUpdate(undefined, body, type, managerOf(req, q))) };
    }
    case 'PUT': {
      const name = requireName(route);
      const body = asObject(await readBody(req));
      const current = store.mustGet(type, namespace, name);
      if (route.subresource === 'scale') {
        const next = recordUpdate(current, withScale(current, body), type, managerOf(req, q), 'scale');
        return { status: 200, body: scaleOf(store.replace(type, namespace, name, next, 'main')) };
      }
      const next = route.subresource === undefined ? recordUpdate(current, body, type, managerOf(req, q)) : body;
      return { status: 200, body: store.replace(type, namespace, name, next, scopeOf(route)) };
    }
    case 'PATCH': {
      const name = requireName(route);
      const media = mediaType(req);
      if (media === APPLY_CONTENT_TYPE) return apply(route, name, req, q, ctx);
      const patchType = PATCH_CONTENT_TYPES[media];
      if (!patchType) throw new ApiError(failure(415, `the body of the request was in an unknown format - accepted media types include: ${[...Object.keys(PATCH_CONTENT_TYPES), APPLY_CONTENT_TYPE].join(', ')}`, 'UnsupportedMediaType'));
      if (q.get('force') !== null) throw errors.badRequest('force is only allowed for apply patches');
      const patch = await readBody(req);
      const current = store.mustGet(type, namespace, name);
      if (route.subresource === 'scale') {
        const scale = asObject(applyPatch(patchType, scaleOf(current), patch));
        const next = recordUpdate(current, withScale(current, scale), type, managerOf(req, q), 'scale');
        return { status: 200, body: scaleOf(store.replace(type, namespace, name, next, 'main')) };
      }
      const patched = asObject(applyPatch(patchType, current, patch));
      const next = route.subresource === undefined ? recordUpdate(current, patched, type, managerOf(req, q)) : patched;
      return { status: 200, body: store.replace(type, namespace, name, next, scopeOf(route)) };
    }
    case 'DELETE': {
      const name = requireName(route);
      if (route.subresource !== undefined) throw new ApiError(failure(405, 'DELETE is not allowed on a subresource', 'MethodNotAllowed'));
      const options = (await readBody(req)) as { propagationPolicy?: PropagationPolicy } | undefined;
      const policy = (q.get('propagationPolicy') as PropagationPolicy | null) ?? options?.propagationPolicy ?? 'Background';
      const gone = store.delete(type, namespace, name, policy);
      return { status: 200, body: success({ name, group: type.group, kind: type.resource, uid: gone.metadata.uid }) };
    }
    default:
      throw new ApiError(failure(405, `method ${req.method ?? ''} is not allowed`, 'MethodNotAllowed'));
  }
}

/**
 * Server-side apply (PATCH, application/apply-patch+yaml) of the main resource. The body
 * must be JSON, which is YAML too; that is what @kubernetes/client-node sends. A missing
 * object is created, as the real server does (201).
 */
async function apply(route: ResourceRoute, name: string, req: IncomingMessage, q: URLSearchParams, ctx: HandlerContext): Promise<Reply> {
  const { type, namespace } = route;
  if (route.subresource !== undefined) throw new ApiError(failure(415, `apply is not supported on the ${route.subresource} subresource by this double`, 'UnsupportedMediaType'));
  const manager = q.get('fieldManager');
  if (!manager) throw errors.badRequest('fieldManager is required for apply requests');
  const config = asObject(await readBody(req));
  if (config.apiVersion !== apiVersionOf(type) || config.kind !== type.kind) {
    throw errors.badRequest(`apply: apiVersion and kind must be ${apiVersionOf(type)} ${type.kind}, got ${String(config.apiVersion)} ${String(config.kind)}`);
  }
  if (config.metadata?.name !== undefined && config.metadata.name !== name) {
    throw errors.badRequest(`the name of the object (${config.metadata.name}) does not match the name on the URL (${name})`);
  }
  const live = ctx.store.get(type, namespace, name);
  const next = serverSideApply(live, config, { type, manager, force: isTrue(q.get('force')), ignoreStatus: type.statusSubresource });
  if (!live) return { status: 201, body: ctx.store.create(type, namespace, { ...next, metadata: { ...next.metadata, name } }) };
  return { status: 200, body: ctx.store.replace(type, namespace, name, next, 'main') };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Serves one request; every failure becomes a `Status` body with its code. */
export async function handle(req: IncomingMessage, res: ServerResponse, url: URL, ctx: HandlerContext): Promise<void> {
  try {
    const route = parseRoute(url.pathname, ctx.registry);
    if (route.kind !== 'resource') {
      if (req.method !== 'GET') throw new ApiError(failure(405, 'discovery is read-only', 'MethodNotAllowed'));
      const reply = discovery(route, ctx);
      sendJson(res, reply.status, reply.body);
      return;
    }
    const q = url.searchParams;
    if (req.method === 'GET') {
      if (isTrue(q.get('watch'))) {
        startWatch(route, q, res, ctx);
        return;
      }
      const reply = route.name === undefined ? list(route, q, ctx) : { status: 200, body: view(route, ctx.store.mustGet(route.type, route.namespace, route.name)) };
      sendJson(res, reply.status, reply.body);
      return;
    }
    const reply = await write(route, req, q, ctx);
    sendJson(res, reply.status, reply.body);
  } catch (err) {
    if (res.headersSent) {
      res.destroy(err as Error);
      return;
    }
    const status = err instanceof ApiError ? err.status : failure(500, `internal error: ${(err as Error).message}`, 'InternalError');
    sendJson(res, status.code, status);
  }
}
