// The EndpointSlices seen so far, grouped by function, turned into EndpointsUpdates:
// one whenever a function's ready set changes, none when a slice changed without
// changing it (a not-ready pod came and went, a label was added). No I/O: the informer
// feeds it, tests drive it by hand.
import type { V1EndpointSlice } from '@kubernetes/client-node';
import { keyOf, type FunctionKey } from '../../apis/meta.js';
import type { EndpointsUpdate, ReadyEndpoint } from '../types.js';
import { functionKeyOfSlice, readyEndpoints, sameEndpoints } from './endpoints.js';
import type { InformerEvent } from '../../controller/informer.js';

interface FunctionSlices {
  key: FunctionKey;
  /** By slice name. */
  slices: Map<string, V1EndpointSlice>;
  /** Last set reported. */
  endpoints: readonly ReadyEndpoint[];
}

export class EndpointIndex {
  private readonly functions = new Map<string, FunctionSlices>();
  /** `ns/slice` → function id, so a delete finds its function whatever the object says. */
  private readonly owner = new Map<string, string>();

  constructor(private readonly onUpdate: (update: EndpointsUpdate) => void) {}

  apply(kind: InformerEvent, slice: V1EndpointSlice): void {
    const sliceId = `${slice.metadata?.namespace ?? ''}/${slice.metadata?.name ?? ''}`;
    const before = this.owner.get(sliceId);
    const key = kind === 'delete' ? undefined : functionKeyOfSlice(slice);
    const after = key ? keyOf(key) : undefined;
    if (before !== undefined && before !== after) {
      this.owner.delete(sliceId);
      const fn = this.functions.get(before);
      if (fn) {
        fn.slices.delete(slice.metadata?.name ?? '');
        this.refresh(before, fn);
      }
    }
    if (!key || after === undefined) return;
    let fn = this.functions.get(after);
    if (!fn) {
      fn = { key, slices: new Map(), endpoints: [] };
      this.functions.set(after, fn);
    }
    this.owner.set(sliceId, after);
    fn.slices.set(slice.metadata?.name ?? '', slice);
    this.refresh(after, fn);
  }

  /** Every function with ready endpoints now. */
  current(): EndpointsUpdate[] {
    return [...this.functions.values()].filter((f) => f.endpoints.length > 0).map((f) => ({ key: f.key, endpoints: f.endpoints }));
  }

  endpoints(key: FunctionKey): readonly ReadyEndpoint[] {
    return this.functions.get(keyOf(key))?.endpoints ?? [];
  }

  private refresh(id: string, fn: FunctionSlices): void {
    const next = readyEndpoints([...fn.slices.values()]);
    if (fn.slices.size === 0) this.functions.delete(id);
    if (sameEndpoints(next, fn.endpoints)) return;
    fn.endpoints = next;
    this.onUpdate({ key: fn.key, endpoints: next });
  }
}
