// Server-side apply and field ownership, as the double understands them (coarse on purpose):
//
// - A field is a path of object keys down to a leaf: a scalar, a list, or an empty object.
//   Lists are atomic: a manager owns a whole list, never one item. The real server merges
//   lists that have merge keys (containers by name, ports by port…) item by item; kfn
//   applies each of its lists whole, so the difference does not show in kfn's tests.
// - managedFields entries are keyed by manager, operation (Apply or Update) and
//   subresource, as on a real server, and written out as FieldsV1 (`f:spec: {f:replicas: {}}`)
//   without the `k:`/`v:` list-item keys the real server writes.
// - An apply (a) sets the fields it names, merged into the live object, and removes the
//   fields its manager applied last time and no longer does, unless another manager owns
//   them; (c) fails with a 409 Status naming each conflict when it would change a field
//   another manager owns, unless forced, which takes the field over.
// - A non-apply write (POST, PUT, merge/JSON patch, a scale write) makes its manager the
//   only owner of every field whose value it changed (b): a scale write owns spec.replicas.
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject, ManagedFieldsEntry, ResourceType } from './types.js';
import { apiVersionOf } from './resources.js';
import { ApiError, failure } from './status.js';

type Path = readonly string[];
type Fields = Map<string, Path>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const keyOf = (p: Path): string => JSON.stringify(p);

// Set by the server, never owned by anyone.
const UNTRACKED_METADATA = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink']);

/** The leaf paths of an object's tracked fields (not apiVersion, kind, server-set metadata, or status when `withStatus` is false). */
export function fieldsOf(obj: KubeObject, withStatus: boolean): Fields {
  const out: Fields = new Map();
  const walk = (v: unknown, path: string[]): void => {
    if (isPlainObject(v) && Object.keys(v).length > 0) {
      for (const [k, child] of Object.entries(v)) walk(child, [...path, k]);
      return;
    }
    out.set(keyOf(path), path);
  };
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind') continue;
    if (k === 'status' && !withStatus) continue;
    if (k === 'metadata' && isPlainObject(v)) {
      for (const [mk, mv] of Object.entries(v)) if (!UNTRACKED_METADATA.has(mk) && mv !== undefined) walk(mv, ['metadata', mk]);
      continue;
    }
    if (v !== undefined) walk(v, [k]);
  }
  return out;
}

function valueAt(obj: unknown, path: Path): unknown {
  let cur = obj;
  for (const k of path) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

function deleteAt(obj: Record<string, unknown>, path: Path): void {
  const parents: Array<Record<string, unknown>> = [];
  let cur: unknown = obj;
  for (const k of path.slice(0, -1)) {
    if (!isPlainObject(cur)) return;
    parents.push(cur);
    cur = cur[k];
  }
  if (!isPlainObject(cur)) return;
  delete cur[path[path.length - 1] ?? ''];
  // Maps emptied by the removal go too, as the server prunes them.
  for (let i = parents.length - 1; i >= 0; i--) {
    const key = path[i] ?? '';
    const child = parents[i]?.[key];
    if (isPlainObject(child) && Object.keys(child).length === 0 && i > 0) delete parents[i]?.[key];
  }
}

/** Maps merge key by key; everything else (scalars, lists) is replaced. */
function merge(live: unknown, applied: unknown): unknown {
  if (!isPlainObject(applied) || !isPlainObject(live)) return structuredClone(applied);
  const out: Record<string, unknown> = { ...live };
  for (const [k, v] of Object.entries(applied)) out[k] = merge(out[k], v);
  return out;
}

/** Two paths overlap when one is the other or leads to it (a list owner owns its items). */
function overlaps(a: Path, b: Path): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

interface Owner {
  entry: Omit<ManagedFieldsEntry, 'fieldsV1'>;
  fields: Fields;
}

function entryKey(e: Pick<ManagedFieldsEntry, 'manager' | 'operation' | 'subresource'>): string {
  return `${e.manager}\u0000${e.operation}\u0000${e.subresource ?? ''}`;
}

function toFieldsV1(fields: Fields): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const path of fields.values()) {
    let cur = root;
    for (const k of path) {
      const key = `f:${k}`;
      if (!isPlainObject(cur[key])) cur[key] = {};
      cur = cur[key] as Record<string, unknown>;
    }
  }
  return root;
}

function fromFieldsV1(v1: unknown): Fields {
  const out: Fields = new Map();
  const walk = (node: unknown, path: string[]): void => {
    if (!isPlainObject(node)) return;
    const keys = Object.keys(node).filter((k) => k.startsWith('f:'));
    if (keys.length === 0 && path.length > 0) {
      out.set(keyOf(path), path);
      return;
    }
    for (const k of keys) walk(node[k], [...path, k.slice(2)]);
  };
  walk(v1, []);
  return out;
}

function ownersOf(obj: KubeObject | undefined): Map<string, Owner> {
  const owners = new Map<string, Owner>();
  const entries = (obj?.metadata?.managedFields ?? []);
  for (const e of entries) {
    const { fieldsV1, ...entry } = e;
    owners.set(entryKey(e), { entry, fields: fromFieldsV1(fieldsV1) });
  }
  return owners;
}

function writeOwners(obj: KubeObject, owners: Map<string, Owner>): void {
  const entries: ManagedFieldsEntry[] = [];
  for (const o of owners.values()) if (o.fields.size > 0) entries.push({ ...o.entry, fieldsType: 'FieldsV1', fieldsV1: toFieldsV1(o.fields) });
  obj.metadata = { ...obj.metadata };
  if (entries.length > 0) obj.metadata.managedFields = entries;
  else delete obj.metadata.managedFields;
}

export interface ApplyRequest {
  type: ResourceType;
  manager: string;
  force: boolean;
  /** True for the main resource of a type with a status subresource: status is not applied. */
  ignoreStatus: boolean;
}

/** The object after applying `config` over `live` (undefined: it is created), with managedFields. */
export function serverSideApply(live: KubeObject | undefined, config: KubeObject, req: ApplyRequest): KubeObject {
  const applied = structuredClone(config);
  if (req.ignoreStatus) delete applied.status;
  const mine = fieldsOf(applied, !req.ignoreStatus);
  const owners = ownersOf(live);
  const selfKey = entryKey({ manager: req.manager, operation: 'Apply' });
  const previous = owners.get(selfKey)?.fields ?? new Map<string, Path>();

  const conflicts: Array<{ manager: string; path: Path }> = [];
  for (const path of mine.values()) {
    if (live !== undefined && isDeepStrictEqual(valueAt(live, path), valueAt(applied, path))) continue;
    for (const [key, owner] of owners) {
      if (key === selfKey) continue;
      for (const owned of owner.fields.values()) {
        if (!overlaps(owned, path)) continue;
        if (req.force) owner.fields.delete(keyOf(owned));
        else conflicts.push({ manager: owner.entry.manager, path });
      }
    }
  }
  if (conflicts.length > 0) throw conflictError(req.type, live?.metadata?.name ?? '', conflicts);

  const out = merge(live ?? {}, applied) as KubeObject;
  for (const [key, path] of previous) {
    if (mine.has(key)) continue;
    const ownedElsewhere = [...owners].some(([k, o]) => k !== selfKey && [...o.fields.values()].some((f) => overlaps(f, path)));
    if (!ownedElsewhere) deleteAt(out, path);
  }
  owners.set(selfKey, { entry: { manager: req.manager, operation: 'Apply', apiVersion: apiVersionOf(req.type) }, fields: mine });
  writeOwners(out, owners);
  return out;
}

/**
 * managedFields after a non-apply write by `manager`: it becomes the only owner of what
 * changed; fields gone from the object are owned by no one.
 */
export function recordUpdate(before: KubeObject | undefined, after: KubeObject, type: ResourceType, manager: string, subresource?: string): KubeObject {
  const withStatus = !type.statusSubresource;
  const now = fieldsOf(after, withStatus);
  const owners = ownersOf(before);
  const changed: Path[] = [];
  for (const path of now.values()) if (before === undefined || !isDeepStrictEqual(valueAt(before, path), valueAt(after, path))) changed.push(path);
  for (const o of owners.values()) {
    for (const [k, owned] of o.fields) {
      if (!now.has(k) && valueAt(after, owned) === undefined) o.fields.delete(k);
      else if (changed.some((c) => overlaps(c, owned))) o.fields.delete(k);
    }
  }
  const entry = { manager, operation: 'Update' as const, apiVersion: apiVersionOf(type), ...(subresource ? { subresource } : {}) };
  const key = entryKey(entry);
  const mine = owners.get(key) ?? { entry, fields: new Map<string, Path>() };
  for (const p of changed) mine.fields.set(keyOf(p), p);
  owners.set(key, mine);
  const out = structuredClone(after);
  writeOwners(out, owners);
  return out;
}

function conflictError(type: ResourceType, name: string, conflicts: Array<{ manager: string; path: Path }>): ApiError {
  const version = apiVersionOf(type);
  const field = (p: Path): string => `.${p.join('.')}`;
  const causes = conflicts.map((c) => ({ type: 'FieldManagerConflict', message: `conflict with "${c.manager}" using ${version}`, field: field(c.path) }));
  const list = causes.map((c) => `${c.message}: ${c.field}`).join('\n- ');
  const message = conflicts.length === 1 ? `Apply failed with 1 conflict: ${list}` : `Apply failed with ${conflicts.length} conflicts: \n- ${list}`;
  return new ApiError(failure(409, message, 'Conflict', { name, group: type.group, kind: type.resource, causes }));
}
