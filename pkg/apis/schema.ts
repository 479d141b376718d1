// The one definition of each kfn resource is an OpenAPI v3 structural schema written
// here in TypeScript (`as const`), as Knative writes its Go types once and generates the
// CRD from them. From each definition:
//   - config/2xx-crd-*.yaml is generated (scripts/gen-crds.ts, `npm run gen:crds`), and a
//     test fails when the committed file differs from what the schema generates;
//   - the TypeScript types are inferred (`Infer` below), so a field exists in the types
//     exactly when it exists in the CRD;
//   - the validators read every bound, pattern, enum and field list from the same nodes,
//     so local mode and the API server cannot disagree on them.
// What a schema cannot say in the validator's words (cross-field rules, which the CRD
// states in CEL) stays hand-written in the validators, and the fixture tests in
// test/apis/ hold the CEL rules and those checks together.
import { DURATION_PATTERN } from '../shared/duration.js';
import {
  checkDuration, checkNumber, DURATION_MAX_LENGTH, NAME_MAX_LENGTH, NAME_MESSAGE, NAME_PATTERN, type DurationRange, type Fields, type NumberRange,
} from './checks.js';
import type { FieldError } from './meta.js';
import { GROUP, VERSION } from './meta.js';

export interface CelRule {
  readonly rule: string;
  /** Starts with the field it is about: the API server reports a rule at the node that holds it. */
  readonly message: string;
}

/** The part of a Kubernetes structural schema (apiextensions.k8s.io/v1 JSONSchemaProps) kfn uses. */
export interface StructuralSchema {
  readonly type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  readonly description?: string;
  readonly format?: string;
  readonly properties?: { readonly [name: string]: StructuralSchema };
  readonly required?: readonly string[];
  readonly items?: StructuralSchema;
  readonly additionalProperties?: StructuralSchema;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: boolean;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly maxItems?: number;
  readonly maxProperties?: number;
  readonly pattern?: string;
  readonly enum?: readonly (string | number)[];
  readonly 'x-kubernetes-validations'?: readonly CelRule[];
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean;
  readonly 'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  readonly 'x-kubernetes-list-map-keys'?: readonly string[];
}

// ---- types from schemas ------------------------------------------------------------------

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type RequiredOf<S> = S extends { readonly required: readonly (infer K)[] } ? K & string : never;
type ObjectOf<P, R extends string> = Simplify<
  { -readonly [K in keyof P & R]: Infer<P[K]> } & { -readonly [K in Exclude<keyof P, R>]?: Infer<P[K]> }
>;

/**
 * The TypeScript type of the values a schema accepts: required properties are required,
 * the others optional; an object with neither properties nor additionalProperties (a
 * preserved-unknown-fields object) is a mapping of unknown values.
 */
export type Infer<S> = S extends { readonly enum: readonly (infer E)[] }
  ? E
  : S extends { readonly type: 'string' }
    ? string
    : S extends { readonly type: 'integer' | 'number' }
      ? number
      : S extends { readonly type: 'boolean' }
        ? boolean
        : S extends { readonly type: 'array'; readonly items: infer I }
          ? Infer<I>[]
          : S extends { readonly type: 'object'; readonly properties: infer P }
            ? ObjectOf<P, RequiredOf<S>>
            : S extends { readonly type: 'object'; readonly additionalProperties: infer A }
              ? Record<string, Infer<A>>
              : S extends { readonly type: 'object' }
                ? Record<string, unknown>
                : unknown;

// ---- reading a schema (for the validators) ---------------------------------------------

/** The names of an object node's properties: the fields a manifest may set there. */
export function fieldsOf(s: StructuralSchema): string[] {
  return Object.keys(s.properties ?? {});
}

/** The numeric bounds of a number or integer node, in the validators' terms. */
export function rangeOf(s: StructuralSchema): NumberRange {
  if (s.type !== 'integer' && s.type !== 'number') throw new Error(`rangeOf: a ${s.type ?? 'typeless'} node has no numeric range`);
  return {
    integer: s.type === 'integer',
    min: s.minimum ?? -Infinity,
    ...(s.exclusiveMinimum ? { exclusiveMin: true } : {}),
    ...(s.maximum !== undefined ? { max: s.maximum } : {}),
  };
}

/** The value of a bound the schema must have; throws at start-up when it has not, not at validation time. */
export function bound<K extends 'maxLength' | 'maxItems' | 'maxProperties'>(s: StructuralSchema, key: K): number {
  const v = s[key];
  if (v === undefined) throw new Error(`schema node has no ${key}`);
  return v;
}

const compiled = new WeakMap<StructuralSchema, RegExp>();
/** The node's pattern, compiled once per node. */
export function patternOf(s: StructuralSchema): RegExp {
  let re = compiled.get(s);
  if (re) return re;
  if (s.pattern === undefined) throw new Error('schema node has no pattern');
  compiled.set(s, (re = new RegExp(s.pattern)));
  return re;
}

/** Every number and integer field of `node` against its bounds. */
export function checkNumbers(errs: FieldError[], path: string, obj: Fields, node: StructuralSchema): void {
  for (const [key, sub] of Object.entries(node.properties ?? {})) {
    if (sub.type === 'number' || sub.type === 'integer') checkNumber(errs, `${path}.${key}`, obj[key], rangeOf(sub));
  }
}

/** The ranges of the nodes durationSchema made; the CEL rule says the same in its words. */
const durationRanges = new WeakMap<StructuralSchema, DurationRange>();

/** The range of a node made by durationSchema; undefined for any other node. */
export function durationRangeOf(s: StructuralSchema): DurationRange | undefined {
  return durationRanges.get(s);
}

/**
 * Every duration field of `node` against its range; returns each one's milliseconds
 * (undefined when unset, null when invalid and reported), for rules across them.
 */
export function checkDurations(errs: FieldError[], path: string, obj: Fields, node: StructuralSchema): Record<string, number | undefined | null> {
  const out: Record<string, number | undefined | null> = {};
  for (const [key, sub] of Object.entries(node.properties ?? {})) {
    const range = durationRanges.get(sub);
    if (range) out[key] = checkDuration(errs, `${path}.${key}`, obj[key], range);
  }
  return out;
}

// ---- shared pieces ---------------------------------------------------------------------

/**
 * A duration field from `min` to `max`. The range rule guards duration() with the same
 * pattern, so a malformed value gets the pattern's message rather than a CEL evaluation
 * error as well.
 */
export function durationSchema<const D extends string>(field: string, min: string, max: string, description: D) {
  const inRange = min === '0s' ? `duration(self) <= duration('${max}')` : `(duration(self) >= duration('${min}') && duration(self) <= duration('${max}'))`;
  const node = {
    type: 'string',
    maxLength: DURATION_MAX_LENGTH,
    pattern: DURATION_PATTERN,
    description,
    'x-kubernetes-validations': [{ rule: `!self.matches(r'${DURATION_PATTERN}') || ${inRange}`, message: `${field}: must be from ${min} to ${max}` }],
  } as const;
  durationRanges.set(node, { min, max });
  return node;
}

/**
 * The API server validates metadata itself and accepts nothing on it in a CRD but a bare
 * type (not even a description), so a kfn name's own rules are CEL at the root.
 */
export function nameRules(nameUse: string) {
  return [
    { rule: `size(self.metadata.name) <= ${NAME_MAX_LENGTH}`, message: `metadata.name: must be at most ${NAME_MAX_LENGTH} characters (${nameUse})` },
    { rule: `self.metadata.name.matches('${NAME_PATTERN}')`, message: `metadata.name: ${NAME_MESSAGE}` },
  ] as const;
}

/** status.conditions of a kfn resource; `types` names them for kubectl explain. */
export function conditionsSchema<const D extends string, const T extends string, const R extends string>(description: D, typeDescription: T, reasonDescription: R, of: string) {
  return {
    type: 'array',
    description,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
    items: {
      type: 'object',
      description: `One aspect of the ${of}'s state.`,
      required: ['type', 'status'],
      properties: {
        type: { type: 'string', description: typeDescription },
        status: { type: 'string', enum: ['True', 'False', 'Unknown'], description: 'True, False or Unknown.' },
        reason: { type: 'string', description: reasonDescription },
        message: { type: 'string', description: 'What a person should know or do.' },
        lastTransitionTime: { type: 'string', format: 'date-time', description: 'When status last changed.' },
      },
    },
  } as const;
}

// ---- the CRD around a schema -------------------------------------------------------------

export interface PrinterColumn {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'date';
  readonly description?: string;
  readonly jsonPath: string;
}

export interface CrdSource {
  /** The file in config/ this CRD is generated into. */
  readonly file: string;
  /** The file that defines it, named in the generated file's header. */
  readonly schemaFile: string;
  /** Why-comments for the top of the generated file. */
  readonly header: string;
  readonly kind: string;
  readonly plural: string;
  readonly shortNames: readonly string[];
  readonly columns: readonly PrinterColumn[];
  readonly schema: StructuralSchema;
}

/** The CustomResourceDefinition object (apiextensions.k8s.io/v1) of a kfn kind. */
export function customResourceDefinition(src: CrdSource): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${src.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/name': 'kfn', 'app.kubernetes.io/part-of': 'kfn' },
    },
    spec: {
      group: GROUP,
      names: {
        kind: src.kind,
        listKind: `${src.kind}List`,
        plural: src.plural,
        singular: src.kind.toLowerCase(),
        shortNames: src.shortNames,
        categories: ['all', 'kfn'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: src.columns,
          schema: { openAPIV3Schema: src.schema },
        },
      ],
    },
  };
}
