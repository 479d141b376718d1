// `kfn apply` against a cluster, the pure half: every document of every source is parsed
// and validated with the same validator kfn dev uses before anything is sent, so a bad
// manifest fails with the field named and nothing applied. What is left is a list of
// server-side apply patches, Functions first so a Trigger applied with its function
// finds it.
import { parseManifests, ManifestParseError } from '../../../pkg/apis/manifest.js';
import { GROUP, keyOf } from '../../../pkg/apis/meta.js';
import { FunctionValidationError, assertValidFunction } from '../../../pkg/apis/function/validation.js';
import { TriggerValidationError, assertValidTrigger } from '../../../pkg/apis/trigger/validation.js';
import type { ManifestSource, Plural } from '../backend.js';

export interface ApplyPatch {
  kind: 'Function' | 'Trigger';
  plural: Plural;
  namespace: string;
  name: string;
  /** The manifest as the user wrote it (nulls and status dropped), namespace filled in. */
  object: Record<string, unknown>;
}

/** The patches for `sources`, or every problem found; never both. */
export function planApply(sources: readonly ManifestSource[], opts: { namespace: string | undefined; defaultNamespace: string }): { patches: ApplyPatch[]; problems: string[] } {
  const problems: string[] = [];
  const patches: ApplyPatch[] = [];
  for (const { source, text } of sources) {
    let docs;
    try {
      docs = parseManifests(text, source);
    } catch (err) {
      if (!(err instanceof ManifestParseError)) throw err;
      problems.push(...err.message.split('\n'));
      continue;
    }
    if (docs.length === 0) problems.push(`${source}: no documents`);
    for (const doc of docs) {
      const at = `${source}: document ${doc.index + 1}`;
      if (!doc.apiVersion.startsWith(`${GROUP}/`)) {
        problems.push(`${at}: kind ${doc.kind} (${doc.apiVersion}) is not a kfn resource; kfn apply takes Function and Trigger only (use kubectl apply for the rest)`);
        continue;
      }
      let obj: { metadata: { name: string; namespace?: string } };
      try {
        obj = doc.kind === 'Function' ? assertValidFunction(doc.object) : assertValidTrigger(doc.object);
      } catch (err) {
        if (!(err instanceof FunctionValidationError || err instanceof TriggerValidationError)) throw err;
        for (const e of err.fieldErrors) problems.push(`${at}: ${doc.kind} ${refOf(doc.object)}: ${e.field}: ${e.message}`);
        continue;
      }
      const own = obj.metadata.namespace;
      if (own !== undefined && opts.namespace !== undefined && own !== opts.namespace) {
        problems.push(`${at}: ${doc.kind} ${own}/${obj.metadata.name} is in namespace ${own}, not ${opts.namespace} given with -n; drop -n or change metadata.namespace`);
        continue;
      }
      const namespace = own ?? opts.namespace ?? opts.defaultNamespace;
      const { status: _status, ...rest } = obj as unknown as Record<string, unknown>;
      const object = { ...rest, metadata: { ...obj.metadata, namespace } };
      patches.push({ kind: doc.kind as 'Function' | 'Trigger', plural: doc.kind === 'Function' ? 'functions' : 'triggers', namespace, name: obj.metadata.name, object });
    }
  }
  const seen = new Set<string>();
  for (const p of patches) {
    const k = `${p.kind} ${keyOf(p)}`;
    if (seen.has(k)) problems.push(`${k} is defined twice`);
    seen.add(k);
  }
  if (problems.length > 0) return { patches: [], problems };
  return { patches: [...patches.filter((p) => p.kind === 'Function'), ...patches.filter((p) => p.kind === 'Trigger')], problems };
}

function refOf(obj: unknown): string {
  const meta = (obj as { metadata?: { name?: unknown; namespace?: unknown } } | null)?.metadata;
  const name = typeof meta?.name === 'string' ? meta.name : '<unnamed>';
  return typeof meta?.namespace === 'string' ? `${meta.namespace}/${name}` : name;
}
