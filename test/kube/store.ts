// The object store: one global resourceVersion counter, per-resource maps, server-set metadata,
// optimistic concurrency, status-subresource rules and owner-reference garbage collection.
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject, ResourceType, StoreEvent, StoredObject } from './types.js';
import { apiVersionOf, resourceKey } from './resources.js';
import { errors } from './status.js';

/**
 * Which parts of the object a write may change: the main resource (everything but status when
 * the type has a status subresource), the status subresource (status only), or everything
 * (tests seeding state, e.g. a Deployment's status.readyReplicas).
 */
export type WriteScope = 'main' | 'status' | 'all';

export type PropagationPolicy = 'Background' | 'Foreground' | 'Orphan';

export interface StoreOptions {
  /** Reject namespaced creates whose Namespace object does not exist, as a real server does. */
  requireNamespaces?: boolean;
  now?: () => Date;
}

function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

function timestamp(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The parts of an object whose change bumps metadata.generation. */
function specOf(obj: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return rest;
}

function hasFinalizers(obj: KubeObject): boolean {
  const f = obj.metadata?.finalizers;
  return Array.isArray(f) && f.length > 0;
}

function withoutRv(obj: KubeObject): KubeObject {
  return { ...obj, metadata: { ...obj.metadata, resourceVersion: undefined } };
}

const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += NAME_CHARS[Math.floor(Math.random() * NAME_CHARS.length)] ?? 'x';
  return s;
}

const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** The messages of apimachinery's IsDNS1035Label, which a Service name must pass. */
function checkDns1035Label(t: ResourceType, name: string): void {
  if (name.length > 63) throw errors.invalidName(t, name, 'must be no more than 63 characters');
  if (!DNS1035.test(name)) {
    throw errors.invalidName(t, name, "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')");
  }
}

/**
 * Defaults the double applies on every write of the main resource, as the real server's
 * defaulting does: a Deployment without spec.replicas gets 1 (also when server-side
 * apply removed the field and no other manager owns it).
 */
function withDefaults(t: ResourceType, obj: KubeObject): void {
  if (t.group === 'apps' && t.resource === 'deployments') {
    const spec = (obj.spec ?? (obj.spec = {})) as Record<string, unknown>;
    if (spec.replicas === undefined) spec.replicas = 1;
  }
}

export class ObjectStore {
  private rv = 0;
  private readonly objects = new Map<string, Map<string, StoredObject>>();
  private readonly listeners = new Set<(e: StoreEvent) => void>();
  private readonly now: () => Date;

  constructor(
    private readonly namespaceType: ResourceType | undefined,
    private readonly typesByKey: (key: string) => ResourceType | undefined,
    private readonly opts: StoreOptions = {},
  ) {
    this.now = opts.now ?? (() => new Date());
  }

  get resourceVersion(): number {
    return this.rv;
  }

  /** Advances the counter without a write, as other resources' writes do on a real cluster. */
  bumpResourceVersion(): number {
    return ++this.rv;
  }

  onEvent(listener: (e: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private bucket(t: ResourceType): Map<string, StoredObject> {
    const key = resourceKey(t);
    let b = this.objects.get(key);
    if (!b) {
      b = new Map();
      this.objects.set(key, b);
    }
    return b;
  }

  private emit(e: StoreEvent): void {
    for (const l of this.listeners) l(e);
  }

  private scopeNamespace(t: ResourceType, namespace: string | undefined): string | undefined {
    return t.namespaced ? namespace : undefined;
  }

  get(t: ResourceType, namespace: string | undefined, name: string): StoredObject | undefined {
    const o = this.bucket(t).get(objectKey(this.scopeNamespace(t, namespace), name));
    return o ? structuredClone(o) : undefined;
  }

  mustGet(t: ResourceType, namespace: string | undefined, name: string): StoredObject {
    const o = this.get(t, namespace, name);
    if (!o) throw errors.notFound(t, name);
    return o;
  }

  /** Every object of a type, in one namespace or all, matching a predicate. */
  list(t: ResourceType, namespace: string | undefined, match: (o: StoredObject) => boolean = () => true): StoredObject[] {
    const ns = this.scopeNamespace(t, namespace);
    return [...this.bucket(t).values()]
      .filter((o) => (ns === undefined || o.metadata.namespace === ns) && match(o))
      .sort((a, b) => objectKey(a.metadata.namespace, a.metadata.name).localeCompare(objectKey(b.metadata.namespace, b.metadata.name)))
      .map((o) => structuredClone(o));
  }

  create(t: ResourceType, namespace: string | undefined, body: KubeObject, scope: WriteScope = 'main'): StoredObject {
    const meta = { ...(body.metadata ?? {}) };
    const ns = this.scopeNamespace(t, namespace ?? meta.namespace);
    if (t.namespaced && !ns) throw errors.badRequest(`${t.kind} must have a namespace`);
    if (meta.namespace !== undefined && t.namespaced && meta.namespace !== ns) {
      throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (body.kind !== undefined && body.kind !== t.kind) throw errors.badRequest(`kind ${body.kind} does not match ${t.kind}`);
    if (!meta.name && meta.generateName) meta.name = meta.generateName + randomSuffix();
    const name = meta.name;
    if (!name) throw errors.invalid(t, '', 'metadata.name: Required value: name or generateName is required');
    if (t.namespaced && this.opts.requireNamespaces && this.namespaceType && ns && !this.get(this.namespaceType, undefined, ns)) {
      throw errors.notFound(this.namespaceType, ns);
    }
    if (t.group === '' && t.resource === 'services') checkDns1035Label(t, name);
    const bucket = this.bucket(t);
    const key = objectKey(ns, name);
    if (bucket.has(key)) throw errors.alreadyExists(t, name);
    const rv = ++this.rv;
    const obj: StoredObject = {
      ...structuredClone(body),
      apiVersion: apiVersionOf(t),
      kind: t.kind,
      metadata: {
        ...structuredClone(meta),
        name,
        ...(ns !== undefined ? { namespace: ns } : {}),
        uid: randomUUID(),
        resourceVersion: String(rv),
        generation: 1,
        creationTimestamp: timestamp(this.now()),
      },
    };
    if (t.statusSubresource && scope === 'main') delete obj.status;
    withDefaults(t, obj);
    bucket.set(key, obj);
    this.emit({ type: 'ADDED', rv, resourceKey: resourceKey(t), object: obj });
    return structuredClone(obj);
  }

  /**
   * PUT semantics: a set metadata.resourceVersion must equal the stored one (409 otherwise);
   * an unchanged object is returned as is, without a new resourceVersion or watch event.
   */
  replace(t: ResourceType, namespace: string | undefined, name: string, body: KubeObject, scope: WriteScope = 'main'): StoredObject {
    const ns = this.scopeNamespace(t, namespace);
    const bucket = this.bucket(t);
    const key = objectKey(ns, name);
    const old = bucket.get(key);
    if (!old) throw errors.notFound(t, name);
    const meta = body.metadata ?? {};
    if (meta.name !== undefined && meta.name !== name) {
      throw errors.badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
    }
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== '' && meta.resourceVersion !== old.metadata.resourceVersion) {
      throw errors.conflict(t, name);
    }
    let next: StoredObject;
    if (scope === 'status') {
      next = { ...structuredClone(old), status: structuredClone(body.status) };
      if (body.status === undefined) delete next.status;
    } else {
      next = {
        ...structuredClone(body),
        apiVersion: old.apiVersion,
        kind: old.kind,
        metadata: {
          ...structuredClone(meta),
          name,
          ...(ns !== undefined ? { namespace: ns } : {}),
          uid: old.metadata.uid,
          resourceVersion: old.metadata.resourceVersion,
          generation: old.metadata.generation ?? 1,
          creationTimestamp: old.metadata.creationTimestamp,
          // Set by the server on DELETE; a client cannot clear or move it.
          ...(old.metadata.deletionTimestamp !== undefined
            ? { deletionTimestamp: old.metadata.deletionTimestamp, deletionGracePeriodSeconds: old.metadata.deletionGracePeriodSeconds }
            : {}),
        },
      };
      if (t.statusSubresource && scope === 'main') {
        if (old.status === undefined) delete next.status;
        else next.status = structuredClone(old.status);
      }
      withDefaults(t, next);
      if (!isDeepStrictEqual(specOf(old), specOf(next))) next.metadata.generation = (old.metadata.generation ?? 1) + 1;
    }
    if (isDeepStrictEqual(withoutRv(old), withoutRv(next))) return structuredClone(old);
    // The last finalizer of an object being deleted is gone: the deletion completes.
    if (next.metadata.deletionTimestamp !== undefined && !hasFinalizers(next)) {
      bucket.set(key, next);
      return this.delete(t, namespace, name);
    }
    const rv = ++this.rv;
    next.metadata.resourceVersion = String(rv);
    bucket.set(key, next);
    this.emit({ type: 'MODIFIED', rv, resourceKey: resourceKey(t), object: next, previous: old });
    return structuredClone(next);
  }

  /**
   * Deletes an object at once (no grace periods), then its dependents: objects whose
   * ownerReferences name its uid are deleted synchronously, recursively, before this
   * returns, unless the policy is Orphan, which strips those references instead. An object
   * with finalizers only gets its deletionTimestamp; it goes when a write removes the last one.
   */
  delete(t: ResourceType, namespace: string | undefined, name: string, policy: PropagationPolicy = 'Background'): StoredObject {
    const ns = this.scopeNamespace(t, namespace);
    const bucket = this.bucket(t);
    const key = objectKey(ns, name);
    const old = bucket.get(key);
    if (!old) throw errors.notFound(t, name);
    if (hasFinalizers(old)) {
      if (old.metadata.deletionTimestamp !== undefined) return structuredClone(old);
      const rv = ++this.rv;
      const marked: StoredObject = {
        ...old,
        metadata: { ...old.metadata, deletionTimestamp: timestamp(this.now()), deletionGracePeriodSeconds: 0, resourceVersion: String(rv) },
      };
      bucket.set(key, marked);
      this.emit({ type: 'MODIFIED', rv, resourceKey: resourceKey(t), object: marked, previous: old });
      return structuredClone(marked);
    }
    bucket.delete(key);
    const rv = ++this.rv;
    const gone: StoredObject = { ...old, metadata: { ...old.metadata, resourceVersion: String(rv) } };
    this.emit({ type: 'DELETED', rv, resourceKey: resourceKey(t), object: gone });
    this.collectDependents(old.metadata.uid, policy);
    return structuredClone(gone);
  }

  private collectDependents(ownerUid: string, policy: PropagationPolicy): void {
    for (const [key, bucket] of this.objects) {
      const t = this.typesByKey(key);
      if (!t) continue;
      for (const o of [...bucket.values()]) {
        const refs = o.metadata.ownerReferences ?? [];
        if (!refs.some((r) => r.uid === ownerUid)) continue;
        if (!bucket.has(objectKey(o.metadata.namespace, o.metadata.name))) continue;
        if (policy === 'Orphan') {
          const kept = refs.filter((r) => r.uid !== ownerUid);
          const body = structuredClone(o);
          if (kept.length > 0) body.metadata.ownerReferences = kept;
          else delete body.metadata.ownerReferences;
          this.replace(t, o.metadata.namespace, o.metadata.name, body, 'all');
        } else {
          this.delete(t, o.metadata.namespace, o.metadata.name, 'Background');
        }
      }
    }
  }
}
