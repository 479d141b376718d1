// Applying manifests in local mode: parse every document, validate every Function and
// Trigger, and only if all of them are valid write them to the stores. A bad manifest
// changes nothing.
import path from 'node:path';
import { keyOf, type FieldError, type FunctionKey } from '../apis/meta.js';
import { parseManifests } from '../apis/manifest.js';
import { FunctionValidationError, assertValidFunction } from '../apis/function/validation.js';
import { withDefaults } from '../apis/function/defaults.js';
import type { KfnFunction } from '../apis/function/types.js';
import { TriggerValidationError, assertValidTrigger } from '../apis/trigger/validation.js';
import type { KfnTrigger } from '../apis/trigger/types.js';
import { LOCAL_DIR_ANNOTATION } from '../platform/local/index.js';
import { keyOfResource, type ApplyAction, type FunctionStore, type TriggerStore } from './store.js';

/** Which file a resource was loaded from, so deleting the file deletes the resource. */
export const SOURCE_ANNOTATION = 'kfn.dev/source';

export class ManifestError extends Error {
  constructor(
    readonly problems: string[],
    options?: ErrorOptions,
  ) {
    super(problems.join('\n'), options);
    this.name = 'ManifestError';
  }
}

export type ResourceKind = 'Function' | 'Trigger';

export interface AppliedResult {
  kind: ResourceKind;
  key: FunctionKey;
  action: ApplyAction;
}

export interface Manifests {
  functions: KfnFunction[];
  triggers: KfnTrigger[];
}

export interface Stores {
  functions: FunctionStore;
  triggers: TriggerStore;
}

/** Parses and validates; throws ManifestError naming every problem. Pure apart from parsing. */
export function readManifests(
  text: string,
  opts: { dir: string; source: string; /** Skip documents that are not kfn resources. */ onlyKfn?: boolean },
): Manifests {
  const problems: string[] = [];
  const out: Manifests = { functions: [], triggers: [] };
  let docs;
  try {
    docs = parseManifests(text, opts.source);
  } catch (err) {
    throw new ManifestError([err instanceof Error ? err.message : String(err)], { cause: err });
  }
  const report = (kind: string, obj: unknown, errors: readonly FieldError[]): void => {
    for (const e of errors) problems.push(`${opts.source}: ${kind} ${describe(obj)}: ${e.field}: ${e.message}`);
  };
  const source = { [SOURCE_ANNOTATION]: opts.source };
  for (const doc of docs) {
    if (opts.onlyKfn && !isKfnResource(doc.object)) continue;
    if (doc.kind === 'Function') {
      try {
        const fn = withDefaults(assertValidFunction(doc.object));
        fn.metadata.annotations = { ...fn.metadata.annotations, [LOCAL_DIR_ANNOTATION]: path.resolve(opts.dir), ...source };
        out.functions.push(fn);
      } catch (err) {
        if (!(err instanceof FunctionValidationError)) throw err;
        report('Function', doc.object, err.fieldErrors);
      }
    } else if (doc.kind === 'Trigger') {
      try {
        const t = assertValidTrigger(doc.object);
        out.triggers.push({ ...t, metadata: { ...t.metadata, namespace: t.metadata.namespace ?? 'default', annotations: { ...t.metadata.annotations, ...source } } });
      } catch (err) {
        if (!(err instanceof TriggerValidationError)) throw err;
        report('Trigger', doc.object, err.fieldErrors);
      }
    } else {
      problems.push(`${opts.source} document ${doc.index + 1}: kind ${doc.kind} is not supported in local mode`);
    }
  }
  for (const [kind, list] of [['Function', out.functions], ['Trigger', out.triggers]] as const) {
    const seen = new Set<string>();
    for (const obj of list) {
      const k = keyOf(keyOfResource(obj));
      if (seen.has(k)) problems.push(`${opts.source}: ${kind} ${k} is defined twice`);
      seen.add(k);
    }
  }
  if (problems.length > 0) throw new ManifestError(problems);
  return out;
}

/** Functions first, so a trigger applied with its function finds it. */
export function applyManifests(stores: Stores, m: Manifests): AppliedResult[] {
  return [
    ...m.functions.map((fn): AppliedResult => ({ kind: 'Function', key: keyOfResource(fn), action: stores.functions.apply(fn) })),
    ...m.triggers.map((t): AppliedResult => ({ kind: 'Trigger', key: keyOfResource(t), action: stores.triggers.apply(t) })),
  ];
}

function describe(obj: unknown): string {
  const meta = (obj as { metadata?: { name?: unknown; namespace?: unknown } } | null)?.metadata;
  const name = typeof meta?.name === 'string' ? meta.name : '<unnamed>';
  const ns = typeof meta?.namespace === 'string' ? meta.namespace : 'default';
  return `${ns}/${name}`;
}

function isKfnResource(obj: unknown): boolean {
  const apiVersion = (obj as { apiVersion?: unknown } | null)?.apiVersion;
  return typeof apiVersion === 'string' && apiVersion.startsWith('kfn.dev/');
}
