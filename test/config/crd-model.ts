// What the API server does with a custom resource, modelled for every CRD in config/:
// prune null fields, validate the openAPIV3Schema (as JSON Schema, with ajv), refuse
// unknown fields (kubectl's strict field validation), check ObjectMeta itself, and run
// every x-kubernetes-validations rule with `self` bound where the rule sits.
//
// The same approach as test/apis/crd-agreement.test.ts, which keeps its helpers
// private; this one serves any CRD, so samples of future kinds are checked too.
import { Ajv, type ValidateFunction } from 'ajv';
import { parse as parseCel, type ParseResult } from '@marcbachmann/cel-js';
import { isMapping, type K8sObject } from './load.js';

interface K8sSchema {
  type?: string;
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
  'x-kubernetes-validations'?: { rule: string; message?: string }[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

interface Crd extends K8sObject {
  spec: {
    group: string;
    names: { kind: string };
    versions: { name: string; served: boolean; schema: { openAPIV3Schema: K8sSchema } }[];
  };
}

type JsonSchema = Record<string, unknown>;

/** Checks one object against its CRD; returns the reasons it would be refused. */
export type CrdCheck = (obj: unknown) => string[];

/** A check per served `apiVersion` + `kind` of every CRD among `objects`. */
export function crdChecks(objects: K8sObject[]): Map<string, CrdCheck> {
  const checks = new Map<string, CrdCheck>();
  for (const crd of objects.filter((o): o is Crd => o.kind === 'CustomResourceDefinition')) {
    for (const version of crd.spec.versions.filter((v) => v.served)) {
      const apiVersion = `${crd.spec.group}/${version.name}`;
      checks.set(`${apiVersion} ${crd.spec.names.kind}`, newCheck(apiVersion, crd.spec.names.kind, version.schema.openAPIV3Schema));
    }
  }
  return checks;
}

function newCheck(apiVersion: string, kind: string, root: K8sSchema): CrdCheck {
  const schema = toJsonSchema(root);
  Object.assign(schema.properties as JsonSchema, { apiVersion: { const: apiVersion }, kind: { const: kind }, metadata: OBJECT_META });
  schema.required = ['apiVersion', 'kind', 'metadata', ...((schema.required as string[] | undefined) ?? [])];
  const validate: ValidateFunction = new Ajv({ allErrors: true, strict: true }).compile(schema);
  return (manifest) => {
    const obj = dropNullFields(manifest);
    const errors: string[] = [];
    if (!validate(obj)) errors.push(...(validate.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`));
    evaluateRules(root, obj, errors);
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
  else if (s.type === 'object' && !s['x-kubernetes-preserve-unknown-fields']) out.additionalProperties = false;
  return JSON.parse(JSON.stringify(out)) as JsonSchema; // drops the undefined bounds
}

// A CRD may not constrain metadata; the API server checks ObjectMeta itself.
const stringMap = { type: 'object', additionalProperties: { type: 'string' } };
const OBJECT_META: JsonSchema = {
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

function evaluateRules(s: K8sSchema, value: unknown, errors: string[]): void {
  if (value === undefined) return;
  for (const { rule, message } of s['x-kubernetes-validations'] ?? []) {
    let compiled = compiledRules.get(rule);
    if (!compiled) compiledRules.set(rule, (compiled = parseCel(rule)));
    let ok: unknown;
    try {
      ok = compiled({ self: value });
    } catch {
      ok = false; // a rule that cannot be evaluated rejects the object, as on a cluster
    }
    if (ok !== true) errors.push(message ?? `failed rule: ${rule}`);
  }
  if (isMapping(value)) {
    for (const [key, sub] of Object.entries(s.properties ?? {})) evaluateRules(sub, value[key], errors);
  }
  if (Array.isArray(value) && s.items) {
    const items = s.items;
    for (const item of value as unknown[]) evaluateRules(items, item, errors);
  }
}

function dropNullFields(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNullFields);
  if (!isMapping(v)) return v;
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, dropNullFields(x)]));
}
