// Applying manifests in local mode: parse every document, validate every Function, and
// only if all of them are valid write them to the store. A bad manifest changes nothing.
import path from 'node:path';
import { keyOf, type FunctionKey } from '../apis/meta.js';
import { parseManifests } from '../apis/manifest.js';
import { FunctionValidationError, assertValidFunction } from '../apis/function/validation.js';
import { withDefaults } from '../apis/function/defaults.js';
import type { KfnFunction } from '../apis/function/types.js';
import { LOCAL_DIR_ANNOTATION } from '../platform/local/index.js';
import { fnKey, type ApplyAction, type FunctionStore } from './store.js';

/** Which file a Function was loaded from, so deleting the file deletes the Function. */
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

export interface AppliedResult {
  kind: 'Function';
  key: FunctionKey;
  action: ApplyAction;
}

/** Parses and validates; throws ManifestError naming every problem. Pure apart from parsing. */
export function readFunctions(
  text: string,
  opts: { dir: string; source: string; /** Skip documents that are not kfn resources. */ onlyKfn?: boolean },
): KfnFunction[] {
  const problems: string[] = [];
  const fns: KfnFunction[] = [];
  let docs;
  try {
    docs = parseManifests(text, opts.source);
  } catch (err) {
    throw new ManifestError([err instanceof Error ? err.message : String(err)], { cause: err });
  }
  for (const doc of docs) {
    if (opts.onlyKfn && !isKfnResource(doc.object)) continue;
    if (doc.kind !== 'Function') {
      problems.push(`${opts.source} document ${doc.index + 1}: kind ${doc.kind} is not supported in local mode`);
      continue;
    }
    let valid: KfnFunction;
    try {
      valid = assertValidFunction(doc.object);
    } catch (err) {
      if (!(err instanceof FunctionValidationError)) throw err;
      const name = describe(doc.object);
      for (const e of err.fieldErrors) problems.push(`${opts.source}: Function ${name}: ${e.field}: ${e.message}`);
      continue;
    }
    const fn = withDefaults(valid);
    fns.push({
      ...fn,
      metadata: {
        ...fn.metadata,
        annotations: {
          ...fn.metadata.annotations,
          [LOCAL_DIR_ANNOTATION]: path.resolve(opts.dir),
          [SOURCE_ANNOTATION]: opts.source,
        },
      },
    });
  }
  const seen = new Set<string>();
  for (const fn of fns) {
    const k = keyOf(fnKey(fn));
    if (seen.has(k)) problems.push(`${opts.source}: Function ${k} is defined twice`);
    seen.add(k);
  }
  if (problems.length > 0) throw new ManifestError(problems);
  return fns;
}

export function applyFunctions(store: FunctionStore, fns: readonly KfnFunction[]): AppliedResult[] {
  return fns.map((fn) => ({ kind: 'Function', key: fnKey(fn), action: store.apply(fn) }));
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
