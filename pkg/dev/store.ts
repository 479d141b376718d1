// The local stand-in for the API server: kfn resources by key, with generation and
// resourceVersion kept as Kubernetes keeps them, and a watch. Validation happens before
// anything reaches a store (see apply.ts), so a store only holds valid objects.
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { keyOf, type FunctionKey, type ObjectMeta } from '../apis/meta.js';
import type { KfnFunction } from '../apis/function/types.js';
import type { KfnTrigger } from '../apis/trigger/types.js';

/** What a store needs of a resource: Kubernetes metadata, a spec and a status. */
export interface Resource {
  metadata: ObjectMeta;
  spec: unknown;
  status?: unknown;
}

export type StoreEvent<T extends Resource = KfnFunction> =
  | { type: 'applied'; obj: T; previous?: T }
  | { type: 'deleted'; obj: T }
  | { type: 'status'; obj: T };

export type ApplyAction = 'created' | 'configured' | 'unchanged';

export class ResourceStore<T extends Resource> {
  private readonly items = new Map<string, T>();
  private readonly listeners = new Set<(e: StoreEvent<T>) => void>();
  private revision = 0;

  constructor(private readonly now: () => Date = () => new Date()) {}

  list(): T[] {
    return [...this.items.values()].sort((a, b) => keyOf(keyOfResource(a)).localeCompare(keyOf(keyOfResource(b))));
  }

  get(key: FunctionKey): T | undefined {
    return this.items.get(keyOf(key));
  }

  /** Creates or updates; generation moves only when the spec changes, as on a cluster. */
  apply(obj: T): ApplyAction {
    const k = keyOf(keyOfResource(obj));
    const previous = this.items.get(k);
    const sameSpec = previous !== undefined && isDeepStrictEqual(previous.spec, obj.spec);
    const sameMeta =
      previous !== undefined &&
      isDeepStrictEqual(previous.metadata.labels, obj.metadata.labels) &&
      isDeepStrictEqual(previous.metadata.annotations, obj.metadata.annotations);
    if (previous && sameSpec && sameMeta) return 'unchanged';

    const next: T = {
      ...obj,
      metadata: {
        ...obj.metadata,
        uid: previous?.metadata.uid ?? randomUUID(),
        creationTimestamp: previous?.metadata.creationTimestamp ?? this.now().toISOString(),
        generation: (previous?.metadata.generation ?? 0) + (sameSpec ? 0 : 1),
        resourceVersion: String(++this.revision),
      },
      status: previous?.status ?? {},
    };
    this.items.set(k, next);
    this.emit(previous ? { type: 'applied', obj: next, previous } : { type: 'applied', obj: next });
    return previous ? 'configured' : 'created';
  }

  delete(key: FunctionKey): boolean {
    const k = keyOf(key);
    const obj = this.items.get(k);
    if (!obj) return false;
    this.items.delete(k);
    this.emit({ type: 'deleted', obj });
    return true;
  }

  /** Writes status only when it changed; returns whether it did. */
  updateStatus(key: FunctionKey, status: NonNullable<T['status']>): boolean {
    const k = keyOf(key);
    const obj = this.items.get(k);
    if (!obj || isDeepStrictEqual(obj.status, status)) return false;
    const next: T = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.revision) }, status };
    this.items.set(k, next);
    this.emit({ type: 'status', obj: next });
    return true;
  }

  watch(listener: (e: StoreEvent<T>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: StoreEvent<T>): void {
    for (const l of this.listeners) l(e);
  }
}

export class FunctionStore extends ResourceStore<KfnFunction> {}
export class TriggerStore extends ResourceStore<KfnTrigger> {}

export function keyOfResource(obj: { metadata: ObjectMeta }): FunctionKey {
  return { namespace: obj.metadata.namespace ?? 'default', name: obj.metadata.name };
}
