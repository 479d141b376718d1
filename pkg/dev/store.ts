// The local stand-in for the API server: Functions by key, with generation and
// resourceVersion kept as Kubernetes keeps them, and a watch. Validation happens before
// anything reaches the store (see apply.ts), so the store only holds valid objects.
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { keyOf, type FunctionKey } from '../apis/meta.js';
import type { FunctionStatus, KfnFunction } from '../apis/function/types.js';

export type StoreEvent =
  | { type: 'applied'; fn: KfnFunction; previous?: KfnFunction }
  | { type: 'deleted'; fn: KfnFunction }
  | { type: 'status'; fn: KfnFunction };

export type ApplyAction = 'created' | 'configured' | 'unchanged';

export class FunctionStore {
  private readonly items = new Map<string, KfnFunction>();
  private readonly listeners = new Set<(e: StoreEvent) => void>();
  private revision = 0;

  constructor(private readonly now: () => Date = () => new Date()) {}

  list(): KfnFunction[] {
    return [...this.items.values()].sort((a, b) => keyOf(fnKey(a)).localeCompare(keyOf(fnKey(b))));
  }

  get(key: FunctionKey): KfnFunction | undefined {
    return this.items.get(keyOf(key));
  }

  /** Creates or updates; generation moves only when the spec changes, as on a cluster. */
  apply(fn: KfnFunction): ApplyAction {
    const k = keyOf(fnKey(fn));
    const previous = this.items.get(k);
    const sameSpec = previous !== undefined && isDeepStrictEqual(previous.spec, fn.spec);
    const sameMeta =
      previous !== undefined &&
      isDeepStrictEqual(previous.metadata.labels, fn.metadata.labels) &&
      isDeepStrictEqual(previous.metadata.annotations, fn.metadata.annotations);
    if (previous && sameSpec && sameMeta) return 'unchanged';

    const next: KfnFunction = {
      ...fn,
      metadata: {
        ...fn.metadata,
        uid: previous?.metadata.uid ?? randomUUID(),
        creationTimestamp: previous?.metadata.creationTimestamp ?? this.now().toISOString(),
        generation: (previous?.metadata.generation ?? 0) + (sameSpec ? 0 : 1),
        resourceVersion: String(++this.revision),
      },
      status: previous?.status ?? {},
    };
    this.items.set(k, next);
    this.emit(previous ? { type: 'applied', fn: next, previous } : { type: 'applied', fn: next });
    return previous ? 'configured' : 'created';
  }

  delete(key: FunctionKey): boolean {
    const k = keyOf(key);
    const fn = this.items.get(k);
    if (!fn) return false;
    this.items.delete(k);
    this.emit({ type: 'deleted', fn });
    return true;
  }

  /** Writes status only when it changed; returns whether it did. */
  updateStatus(key: FunctionKey, status: FunctionStatus): boolean {
    const k = keyOf(key);
    const fn = this.items.get(k);
    if (!fn || isDeepStrictEqual(fn.status, status)) return false;
    const next = { ...fn, metadata: { ...fn.metadata, resourceVersion: String(++this.revision) }, status };
    this.items.set(k, next);
    this.emit({ type: 'status', fn: next });
    return true;
  }

  watch(listener: (e: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: StoreEvent): void {
    for (const l of this.listeners) l(e);
  }
}

export function fnKey(fn: KfnFunction): FunctionKey {
  return { namespace: fn.metadata.namespace ?? 'default', name: fn.metadata.name };
}
