// Checks shared by every kfn resource's validator: metadata, mappings, numbers, string
// maps, unknown fields, and how values are shown in messages.
import { DURATION_PATTERN, parseDuration } from '../shared/duration.js';
import { API_VERSION, type FieldError, type ObjectMeta } from './meta.js';

export type Fields = Record<string, unknown>;

export interface NumberRange {
  integer: boolean;
  min: number;
  /** When set, the value must be strictly greater than `min`. */
  exclusiveMin?: boolean;
  max?: number;
}

export interface DurationRange {
  min: string;
  max: string;
}

/** Names become DNS labels (host labels, Service names, consumer names): at most 63 characters. */
export const NAME_MAX_LENGTH = 63;

export const TOP_LEVEL_FIELDS = ['apiVersion', 'kind', 'metadata', 'spec', 'status'];
/** Longest duration string accepted ("1h30m" is far shorter). */
export const DURATION_MAX_LENGTH = 32;
const DURATION_RE = new RegExp(DURATION_PATTERN);
// Every ObjectMeta field the API server knows, so that `kubectl get -o yaml` output loads.
export const METADATA_FIELDS = [
  ...Object.keys({
    name: true, namespace: true, uid: true, resourceVersion: true, generation: true,
    creationTimestamp: true, deletionTimestamp: true, labels: true, annotations: true,
  } satisfies Record<keyof ObjectMeta, true>),
  'generateName', 'selfLink', 'deletionGracePeriodSeconds', 'ownerReferences', 'finalizers', 'managedFields',
];
export const NAME_PATTERN = '^[a-z]([-a-z0-9]*[a-z0-9])?$';
export const NAME_RE = new RegExp(NAME_PATTERN);
export const NAME_MESSAGE = "must be lowercase letters, digits and '-', start with a letter and end with a letter or digit";
// Namespaces are plain DNS-1123 labels: Kubernetes lets them start with a digit.
export const NAMESPACE_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function validateMetadata(errs: FieldError[], meta: unknown, nameUse: string): void {
  if (!requireMapping(errs, 'metadata', meta)) return;
  rejectUnknownFields(errs, 'metadata', meta, METADATA_FIELDS);
  const { name, namespace } = meta;
  if (name == null) errs.push({ field: 'metadata.name', message: 'required' });
  else if (typeof name !== 'string' || !NAME_RE.test(name)) {
    errs.push({
      field: 'metadata.name',
      message: `${NAME_MESSAGE}, got ${show(name)}`,
    });
  } else if (name.length > NAME_MAX_LENGTH) {
    errs.push({ field: 'metadata.name', message: `must be at most ${NAME_MAX_LENGTH} characters (${nameUse}), got ${name.length}` });
  }
  // An empty namespace means "the default one", as it does for kubectl.
  if (namespace != null && namespace !== '' && (typeof namespace !== 'string' || !NAMESPACE_RE.test(namespace) || namespace.length > 63)) {
    errs.push({
      field: 'metadata.namespace',
      message: `must be a DNS-1123 label (lowercase letters, digits and '-', at most 63 characters), got ${show(namespace)}`,
    });
  }
  checkStringMap(errs, 'metadata.labels', meta.labels);
  checkStringMap(errs, 'metadata.annotations', meta.annotations);
}

export function checkStringMap(errs: FieldError[], field: string, v: unknown, hint = 'quote numbers and booleans'): void {
  if (v == null) return;
  if (!isMapping(v)) {
    errs.push({ field, message: `must be a mapping of names to strings, got ${show(v)}` });
    return;
  }
  for (const [key, value] of Object.entries(v)) {
    if (value != null && typeof value !== 'string') errs.push({ field: `${field}.${key}`, message: `must be a string (${hint}), got ${show(value)}` });
  }
}

/** Unset (null or undefined) passes, as an unset field; an entry of a list is never unset, so `inList` refuses null. */
export function checkNumber(errs: FieldError[], field: string, v: unknown, range: NumberRange, inList = false): void {
  if (v == null && !inList) return;
  const ok =
    typeof v === 'number' &&
    Number.isFinite(v) &&
    (!range.integer || Number.isInteger(v)) &&
    (range.exclusiveMin ? v > range.min : v >= range.min) &&
    (range.max === undefined || v <= range.max);
  if (ok) return;
  const what = range.integer ? 'an integer' : 'a number';
  const bounds =
    range.max !== undefined ? `from ${range.min} to ${range.max}` : `${range.exclusiveMin ? '>' : '>='} ${range.min}`;
  errs.push({ field, message: `must be ${what} ${bounds}, got ${show(v)}` });
}

export function rejectUnknownFields(errs: FieldError[], path: string, obj: Fields, known: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) errs.push({ field: path ? `${path}.${key}` : key, message: 'unknown field' });
  }
}

export function requireMapping(errs: FieldError[], field: string, v: unknown): v is Fields {
  if (isMapping(v)) return true;
  errs.push({ field, message: v == null ? 'required' : `must be a mapping, got ${show(v)}` });
  return false;
}

export function isMapping(v: unknown): v is Fields {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v.length > 64 ? `${v.slice(0, 61)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return typeof v;
}

export function refOf(obj: unknown): string {
  const meta = isMapping(obj) && isMapping(obj.metadata) ? obj.metadata : {};
  const ns = typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : 'default';
  const name = typeof meta.name === 'string' ? meta.name : '<unnamed>';
  return `${ns}/${name}`;
}

export function dropNullFields(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNullFields);
  if (!isMapping(v)) return v;
  const out: Fields = {};
  for (const [key, value] of Object.entries(v)) if (value !== null) out[key] = dropNullFields(value);
  return out;
}

/**
 * Every problem with `obj` as a kfn resource of `kind`: the envelope (apiVersion, kind,
 * metadata, no unknown top-level fields, status a mapping) here, the spec by `checkSpec`.
 * `nameUse` says in messages why the name is constrained.
 */
export function validateResource(obj: unknown, kind: string, nameUse: string, checkSpec: (errs: FieldError[], spec: unknown) => void): FieldError[] {
  const errs: FieldError[] = [];
  if (!isMapping(obj)) {
    errs.push({ field: '<root>', message: `must be a mapping with apiVersion, kind, metadata and spec, got ${show(obj)}` });
    return errs;
  }
  rejectUnknownFields(errs, '', obj, TOP_LEVEL_FIELDS);
  if (obj.apiVersion !== API_VERSION) errs.push({ field: 'apiVersion', message: `must be "${API_VERSION}", got ${show(obj.apiVersion)}` });
  if (obj.kind !== kind) errs.push({ field: 'kind', message: `must be "${kind}", got ${show(obj.kind)}` });
  validateMetadata(errs, obj.metadata, nameUse);
  checkSpec(errs, obj.spec);
  if (obj.status != null && !isMapping(obj.status)) errs.push({ field: 'status', message: `must be a mapping, got ${show(obj.status)}` });
  return errs;
}

/** Milliseconds when valid, undefined when unset, null when invalid (and reported). */
export function checkDuration(errs: FieldError[], field: string, v: unknown, range: DurationRange): number | undefined | null {
  if (v == null) return undefined;
  const ms = typeof v === 'string' && v.length <= DURATION_MAX_LENGTH && DURATION_RE.test(v) ? parseDuration(v) : undefined;
  if (ms === undefined) {
    errs.push({ field, message: `must be a duration such as "30s", "1m30s" or "500ms", got ${show(v)}` });
    return null;
  }
  if (ms < (parseDuration(range.min) ?? 0) || ms > (parseDuration(range.max) ?? Infinity)) {
    errs.push({ field, message: `must be from ${range.min} to ${range.max}, got ${show(v)}` });
    return null;
  }
  return ms;
}
