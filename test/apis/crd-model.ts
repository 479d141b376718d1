// A model of what the API server does with a kfn custom resource, shared by the
// agreement tests of each kind (test/apis/crd-agreement.test.ts for the Function,
// test/apis/trigger/crd-agreement.test.ts for the Trigger): it prunes null fields,
// validates the openAPIV3Schema (translated to JSON Schema for ajv), rejects unknown
// fields (kubectl's strict field validation), checks ObjectMeta itself, and evaluates
// every x-kubernetes-validations rule with `self` bound at its location.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseCel, type ParseResult } from '@marcbachmann/cel-js';
import { parse as parseYaml } from 'yaml';

export interface CelRule {
  rule: string;
  message?: string;
}

export interface K8sSchema {
  type?: string;
  description?: string;
  properties?: Record<string, K8sSchema>;
  items?: K8sSchema;
  additionalProperties?: K8sSchema | boolean;
  required?: string[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  maxProperties?: number;
  pattern?: string;
  enum?: unknown[];
  'x-kubernetes-validations'?: CelRule[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
}

export interface Crd {
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string; shortNames?: string[]; categories?: string[] };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources?: { status?: object };
      additionalPrinterColumns?: { name: string; type: string; jsonPath: string }[];
      schema: { openAPIV3Schema: K8sSchema };
    }[];
  };
}

/** A reason the CRD rejects an object, named by field path (`spec.env[*].name`). */
export interface CrdError {
  field: string;
  message: string;
}

type JsonSchema = Record<string, unknown>;

/** The repository root, found from this file whether it runs from test/ or from dist/test/. */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    assert.notEqual(parent, dir, 'package.json not found above this test');
    dir = parent;
  }
  return dir;
}
export const fromRoot = (p: string): string => path.join(repoRoot(), p);

export function prop(s: K8sSchema, ...names: string[]): K8sSchema {
  let at = s;
  for (const name of names) {
    const next = at.properties?.[name];
    assert.ok(next, `the CRD schema has ${names.join('.')}`);
    at = next;
  }
  return at;
}

export interface CrdModel {
  crd: Crd;
  version: Crd['spec']['versions'][number];
  /** The version's openAPIV3Schema. */
  root: K8sSchema;
  /** Every reason the API server would refuse `manifest`; empty when it would accept it. */
  crdErrors: (manifest: unknown) => CrdError[];
}

/** The model of the first version of the CRD in `file` (relative to the repository root). */
export function loadCrd(file: string): CrdModel {
  const crd = parseYaml(readFileSync(fromRoot(file), 'utf8')) as Crd;
  const version = crd.spec.versions[0];
  assert.ok(version, 'the CRD has a version');
  const root = version.schema.openAPIV3Schema;
  return { crd, version, root, crdErrors: crdCheck(root, `${crd.spec.group}/${version.name}`, crd.spec.names.kind) };
}

/** What the API server says of an object of this apiVersion and kind, given the version's schema. */
export function crdCheck(root: K8sSchema, apiVersion: string, kind: string): (manifest: unknown) => CrdError[] {
  const apiServerSchema = toJsonSchema(root);
  Object.assign(apiServerSchema.properties as JsonSchema, {
    // The API server routes by apiVersion and kind: a document with others never reaches this CRD.
    apiVersion: { const: apiVersion },
    kind: { const: kind },
    metadata: objectMeta,
  });
  apiServerSchema.required = ['apiVersion', 'kind', 'metadata', ...((apiServerSchema.required as string[] | undefined) ?? [])];
  const validateSchema = new Ajv({ allErrors: true, strict: true }).compile(apiServerSchema);
  const apiServerRoot: K8sSchema = { ...root, properties: { ...root.properties, metadata: objectMetaPruning } };
  return (manifest) => {
    const obj = pruneNulls(manifest, apiServerRoot);
    const errors: CrdError[] = [];
    if (!validateSchema(obj)) errors.push(...(validateSchema.errors ?? []).map(schemaError));
    evaluateRules(root, obj, '', errors);
    return errors;
  };
}

/** k8s structural schema → JSON Schema: drop x-kubernetes-*, description, format, nullable. */
function toJsonSchema(s: K8sSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const key of ['type', 'required', 'minimum', 'maximum', 'minLength', 'maxLength', 'maxItems', 'maxProperties', 'pattern', 'enum'] as const) {
    if (s[key] !== undefined) out[key] = s[key];
  }
  // OpenAPI v3.0 spells exclusive bounds as booleans beside minimum/maximum.
  if (s.exclusiveMinimum) [out.exclusiveMinimum, out.minimum] = [s.minimum, undefined];
  if (s.exclusiveMaximum) [out.exclusiveMaximum, out.maximum] = [s.maximum, undefined];
  if (s.properties) out.properties = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, toJsonSchema(v)]));
  if (s.items) out.items = toJsonSchema(s.items);
  if (typeof s.additionalProperties === 'object') out.additionalProperties = toJsonSchema(s.additionalProperties);
  // Unknown fields: pruned by the API server, and an error under strict field validation.
  else if (s.type === 'object' && !s['x-kubernetes-preserve-unknown-fields']) out.additionalProperties = false;
  return JSON.parse(JSON.stringify(out)) as JsonSchema; // drops the undefined bounds
}

// A CRD may not constrain metadata; the API server validates ObjectMeta itself. This is
// the part of that the fixtures exercise (the name rules are the CRD's own CEL rules).
const stringMap = { type: 'object', additionalProperties: { type: 'string' } };
const objectMeta: JsonSchema = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name: { type: 'string' },
    namespace: { type: 'string', maxLength: 63, pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$' },
    labels: stringMap,
    annotations: stringMap,
    ...Object.fromEntries(
      ['generateName', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'selfLink',
        'deletionGracePeriodSeconds', 'ownerReferences', 'finalizers', 'managedFields'].map((k) => [k, {}]),
    ),
  },
};

const compiledRules = new Map<string, ParseResult>();
export function celRule(rule: string): ParseResult {
  let compiled = compiledRules.get(rule);
  if (!compiled) compiledRules.set(rule, (compiled = parseCel(rule)));
  return compiled;
}

function schemaError(e: ErrorObject): CrdError {
  const segments = e.instancePath.split('/').slice(1).map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
  const params = e.params as { missingProperty?: string; additionalProperty?: string };
  const child = params.missingProperty ?? params.additionalProperty;
  if (child !== undefined) segments.push(child);
  const field = segments.reduce((at, s) => (/^\d+$/.test(s) ? `${at}[${s}]` : at ? `${at}.${s}` : s), '');
  return { field, message: e.message ?? e.keyword };
}

/** Runs each rule where it sits in the schema; a rule that errors rejects the object, as on a cluster. */
function evaluateRules(s: K8sSchema, value: unknown, at: string, errors: CrdError[]): void {
  if (value === undefined) return;
  for (const { rule, message } of s['x-kubernetes-validations'] ?? []) {
    let ok: unknown;
    try {
      ok = celRule(rule)({ self: value });
    } catch {
      ok = false;
    }
    const text = message ?? `failed rule: ${rule}`;
    if (ok !== true) errors.push({ field: text.split(':', 1)[0] ?? at, message: text });
  }
  if (isMapping(value)) {
    for (const [key, sub] of Object.entries(s.properties ?? {})) evaluateRules(sub, value[key], at ? `${at}.${key}` : key, errors);
  }
  if (Array.isArray(value) && s['x-kubernetes-list-type'] === 'map') {
    // The API server refuses two entries with the same keys, at the later entry:
    // "spec.env[2]: Duplicate value: map[string]interface {}{"name":"MODE"}".
    const keys = s['x-kubernetes-list-map-keys'] ?? [];
    const seen = new Set<string>();
    value.forEach((item: unknown, i) => {
      const id = JSON.stringify(keys.map((k) => (isMapping(item) ? item[k] : undefined)));
      if (seen.has(id)) errors.push({ field: `${at}[${i}]`, message: `Duplicate value: ${id}` });
      seen.add(id);
    });
  }
  if (Array.isArray(value) && s.items) {
    const items = s.items;
    value.forEach((item: unknown, i) => evaluateRules(items, item, `${at}[${i}]`, errors));
  }
}

/**
 * Null values the API server prunes: those of fields the schema knows and of map
 * entries. It keeps a null entry of a list (then refused: not of the items' type) and a
 * null unknown field (then refused by strict field validation); a real kube-apiserver
 * answered each way (test/apis/fixtures: valid/map-null-values.yaml,
 * invalid/supplemental-group-null.yaml, invalid/unknown-field-null.yaml).
 */
function pruneNulls(v: unknown, s: K8sSchema | undefined): unknown {
  if (Array.isArray(v)) return v.map((x: unknown) => (x === null ? x : pruneNulls(x, s?.items)));
  if (!isMapping(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const sub = s?.properties?.[k] ?? (typeof s?.additionalProperties === 'object' ? s.additionalProperties : undefined);
    const known = sub !== undefined || s?.['x-kubernetes-preserve-unknown-fields'] === true;
    if (x === null && known) continue;
    out[k] = pruneNulls(x, sub);
  }
  return out;
}

/** ObjectMeta as far as pruning goes: the API server knows every field of it. */
const objectMetaPruning: K8sSchema = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export const anyIndex = (field: string): string => field.replace(/\[\d+\]/g, '[*]');

// ---- fixtures -------------------------------------------------------------------------

export interface Fixture {
  file: string;
  manifest: unknown;
  /** Field the one broken rule is about; undefined for valid fixtures. */
  expect?: string;
  /**
   * `# checked-by: controller`: a rule the CRD cannot afford (its CEL cost is unbounded),
   * so the API server stores the object and only kfn's validator refuses it.
   */
  controllerOnly?: boolean;
}

/** The fixtures in `<folder>/<dir>` (folder relative to the root); invalid ones must start with `# expect: <field>`. */
export function loadFixtures(folder: string, dir: 'valid' | 'invalid'): Fixture[] {
  const at = fromRoot(`${folder}/${dir}`);
  return readdirSync(at)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((file) => {
      const text = readFileSync(path.join(at, file), 'utf8');
      const expect = /^# expect: (\S+)/.exec(text)?.[1];
      if (dir === 'invalid') assert.ok(expect, `${file}: first line must be "# expect: <field>"`);
      const controllerOnly = /^# checked-by: controller\b/m.test(text);
      return { file, manifest: parseYaml(text) as unknown, expect, ...(controllerOnly ? { controllerOnly } : {}) };
    });
}
